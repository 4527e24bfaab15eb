import { ErrorCodes, defineSelector, opt, type ChannelSelector } from '../plugin-api/index.js';

export const options = {
  optional: opt.list([], "Channels (of the source's channels) whose failures are logged and counted instead of failing the put."),
};

export default defineSelector({
  type: 'replicating',
  aliases: ['org.apache.flume.channel.ReplicatingChannelSelector'],
  description: 'Sends every event to every channel of the source (the default).',
  options,
  // `scope` holds the source's channel names.
  validate: (o, ctx, _registry, scope?: { channels?: readonly string[] }) =>
    o.optional
      .filter((n) => scope?.channels !== undefined && !scope.channels.includes(n))
      .map((n) => ({
        severity: 'error' as const,
        code: ErrorCodes.CONFIG_BINDING,
        key: 'optional',
        message: `${ctx.fullKey('optional')}: channel "${n}" is not one of the source's channels (${scope!.channels!.join(' ')})`,
      })),
  create: ({ channels, options, logger }): ChannelSelector => {
    const optionalNames = new Set(options.optional);
    for (const n of optionalNames) {
      if (!channels.some((c) => c.name === n)) logger.warn(`selector.optional names "${n}", which is not one of the source's channels; ignored`);
    }
    const required = channels.filter((c) => !optionalNames.has(c.name));
    const optional = channels.filter((c) => optionalNames.has(c.name));
    const fixed = { required, optional };
    return {
      allChannels: channels,
      fixed,
      getRequiredChannels: () => required,
      getOptionalChannels: () => optional,
    };
  },
});
