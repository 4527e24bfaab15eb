// The seed notes' CountInterceptor: counts acknowledged and failed records and logs the
// totals when the producer closes (the agent stops).
import { defineKafkaInterceptor } from 'flume-ts/plugin';

export default defineKafkaInterceptor({
  type: 'com.atguigu.kafka.CountInterceptor',
  description: 'Counts records Kafka acknowledged and records that failed, and logs both when the sink stops (the seed notes\' CountInterceptor).',
  options: {},
  create({ logger }) {
    let success = 0;
    let error = 0;
    return {
      onSend(record) {
        return record;
      },
      onAcknowledgement(metadata, err) {
        if (metadata) success++;
        else if (err) error++;
      },
      close() {
        logger.info(`success=${success}`);
        logger.info(`error=${error}`);
      },
    };
  },
});
