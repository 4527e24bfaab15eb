import { defineSelector, opt, type Channel, type ChannelSelector } from '../plugin-api/index.js';

export const options = {
  policy: opt.enum(['round_robin', 'random'], 'round_robin', "How each event's one channel is chosen."),
};

const NONE: readonly Channel[] = Object.freeze([]);

/**
 * Flume 1.10's LoadBalancingChannelSelector: each event gets exactly one required
 * channel, in turn over the source's channels or at random; no optional channels.
 */
export default defineSelector({
  type: 'load_balancing',
  aliases: ['org.apache.flume.channel.LoadBalancingChannelSelector'],
  description: "Spreads events over the source's channels, one channel per event.",
  options,
  create: ({ channels, options: o }): ChannelSelector => {
    const single = channels.map((c) => Object.freeze([c]));
    let next = 0;
    const pick =
      o.policy === 'random'
        ? (): readonly Channel[] => single[Math.floor(Math.random() * single.length)]!
        : (): readonly Channel[] => {
            const c = single[next]!;
            next = (next + 1) % single.length;
            return c;
          };
    return {
      allChannels: channels,
      getRequiredChannels: pick,
      getOptionalChannels: () => NONE,
    };
  },
});
