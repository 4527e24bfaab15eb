import { defineSelector } from '../core/component.js';
import { opt } from '../core/options.js';
import type { ChannelSelector } from '../core/routing.js';

export const options = {
  optional: opt.list([], 'Channels (of the source\'s channels) whose failures are logged and counted instead of failing the put.'),
};

export default defineSelector({
  type: 'replicating',
  aliases: ['org.apache.flume.channel.ReplicatingChannelSelector'],
  description: 'Sends every event to every channel of the source (the default).',
  options,
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
