// The seed notes' KafkaInterceptor: "<millis>:" before each value.
import { defineKafkaInterceptor } from 'flume-ts/plugin';

export default defineKafkaInterceptor({
  type: 'com.atguigu.kafka.KafkaInterceptor',
  description: 'Puts the send time (milliseconds since the epoch) and ":" before each record\'s value (the seed notes\' KafkaInterceptor).',
  options: {},
  create() {
    return {
      onSend(record) {
        const value = record.value === null ? Buffer.alloc(0) : Buffer.from(record.value);
        return { ...record, value: Buffer.concat([Buffer.from(`${Date.now()}:`), value]) };
      },
    };
  },
});
