import { defineSinkProcessor } from '../core/component.js';
import { DefaultSinkProcessor } from '../core/sink.js';

export default defineSinkProcessor({
  type: 'default',
  aliases: ['org.apache.flume.sink.DefaultSinkProcessor'],
  description: 'Runs a single sink (what every ungrouped sink gets).',
  options: {},
  minSinks: 1,
  create: ({ sinks }) => new DefaultSinkProcessor(sinks[0]!),
});
