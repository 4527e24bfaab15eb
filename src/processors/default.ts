import { DefaultSinkProcessor, ErrorCodes, defineSinkProcessor } from '../plugin-api/index.js';

export default defineSinkProcessor({
  type: 'default',
  aliases: ['org.apache.flume.sink.DefaultSinkProcessor'],
  description: 'Runs a single sink (what every ungrouped sink gets).',
  options: {},
  minSinks: 1,
  // As Flume's AbstractSingleSinkProcessor: exactly one sink.
  validate: (_o, ctx, _registry, scope?: { sinks?: readonly string[] }) =>
    scope?.sinks !== undefined && scope.sinks.length > 1
      ? [
          {
            severity: 'error',
            code: ErrorCodes.CONFIG_VALUE,
            key: 'type',
            message: `${ctx.fullKey('type')}: a default sink group runs exactly one sink (it lists ${scope.sinks.join(' ')}); use failover or load_balance for several`,
          },
        ]
      : [],
  create: ({ name, sinks, context }) => {
    if (sinks.length !== 1) {
      throw context.error('type', `sink group ${name}: the default processor runs exactly one sink (it has ${sinks.map((s) => s.name).join(' ')}); use failover or load_balance for several`);
    }
    return new DefaultSinkProcessor(sinks[0]!);
  },
});
