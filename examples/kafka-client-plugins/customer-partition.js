// The seed notes' CustomerPartition: every record goes to partition 1, whatever its key.
import { defineKafkaPartitioner } from 'flume-ts/plugin';

export default defineKafkaPartitioner({
  type: 'com.atguigu.kafka.CustomerPartition',
  description: 'Sends every record to partition 1 (the seed notes\' CustomerPartition); the topic needs at least two partitions.',
  options: {},
  create() {
    return {
      partition() {
        return 1;
      },
    };
  },
});
