import { ErrorCodes, defineSelector, opt, type Channel, type ChannelSelector, type Context, type FlumeEvent, type OptionProblem } from '../plugin-api/index.js';
import { DropReport } from '../interceptors/drop-report.js';

export const options = {
  header: opt.string('flume.selector.header', 'Header whose value chooses the channels.'),
  default: opt.list([], 'Channels for events whose header is missing, blank or not mapped.'),
};

const NONE: readonly Channel[] = Object.freeze([]);

/** Java's String.trim().isEmpty(): only characters up to U+0020. */
function blank(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 32) return false;
  return true;
}

/** The `mapping.<value>` and `optional.<value>` keys, each a list of channel names. */
export function readMappings(ctx: Context): { mapping: Map<string, string[]>; optional: Map<string, string[]>; problems: OptionProblem[] } {
  const mapping = new Map<string, string[]>();
  const optional = new Map<string, string[]>();
  const problems: OptionProblem[] = [];
  for (const k of ctx.keys()) {
    const m = /^(mapping|optional)\.(.+)$/.exec(k);
    if (!m) continue;
    const names = (ctx.getString(k) ?? '').split(/\s+/).filter(Boolean);
    if (m[1] === 'mapping' && names.length === 0) {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: k, message: `${ctx.fullKey(k)}: no channel configured for header value "${m[2]}"` });
    }
    (m[1] === 'mapping' ? mapping : optional).set(m[2]!, names);
  }
  return { mapping, optional, problems };
}

/**
 * Flume's MultiplexingChannelSelector. The value of `header` picks the required
 * channels from `mapping.<value>` (exact, case-sensitive); a missing, blank or
 * unmapped value takes `default`. `optional.<value>` adds optional channels for that
 * exact value, minus the ones already required for it. An event with no channel at
 * all goes nowhere; such events are counted and logged.
 */
export default defineSelector({
  type: 'multiplexing',
  aliases: ['org.apache.flume.channel.MultiplexingChannelSelector'],
  description: 'Routes each event by the value of one header.',
  options,
  prefixes: ['mapping.', 'optional.'],
  // `scope` holds the source's channel names: an unknown channel is reported.
  validate: (o, ctx, _registry, scope?: { channels?: readonly string[] }) => {
    const { mapping, optional, problems } = readMappings(ctx);
    const known = scope?.channels;
    if (known) {
      const check = (key: string, names: readonly string[]): void => {
        for (const n of names) {
          if (!known.includes(n)) {
            problems.push({ severity: 'error', code: ErrorCodes.CONFIG_BINDING, key, message: `${ctx.fullKey(key)}: channel "${n}" is not one of the source's channels (${known.join(' ')})` });
          }
        }
      };
      check('default', o.default);
      for (const [v, names] of mapping) check(`mapping.${v}`, names);
      for (const [v, names] of optional) check(`optional.${v}`, names);
    }
    return problems;
  },
  create: ({ name, channels, options: o, context, logger }): ChannelSelector => {
    const byName = new Map(channels.map((c) => [c.name, c] as const));
    const resolve = (key: string, names: readonly string[]): Channel[] =>
      names.map((n) => {
        const ch = byName.get(n);
        if (!ch) throw context.error(key, `channel "${n}" is not one of the channels of source ${name} (${channels.map((c) => c.name).join(' ')})`);
        return ch;
      });
    const { mapping, optional, problems } = readMappings(context);
    if (problems.length > 0) throw context.error(problems[0]!.key, problems[0]!.message);
    const defaults = Object.freeze(resolve('default', o.default));
    const required = new Map<string, readonly Channel[]>();
    for (const [value, names] of mapping) required.set(value, Object.freeze(resolve(`mapping.${value}`, names)));
    const optionals = new Map<string, readonly Channel[]>();
    for (const [value, names] of optional) {
      const req = required.get(value) ?? defaults;
      optionals.set(value, Object.freeze(resolve(`optional.${value}`, names).filter((c) => !req.includes(c))));
    }
    const header = o.header;
    const unrouted = new DropReport((m) => logger.warn(m), `source ${name}: header "${header}" matched no channel (no mapping, no default) for`);
    const selector: ChannelSelector & { close(): void } = {
      allChannels: channels,
      getRequiredChannels(event: FlumeEvent): readonly Channel[] {
        const v = event.headers[header];
        const chans = v === undefined || blank(v) ? defaults : (required.get(v) ?? defaults);
        if (chans.length === 0 && (v === undefined || (optionals.get(v)?.length ?? 0) === 0)) unrouted.add(1);
        return chans;
      },
      getOptionalChannels(event: FlumeEvent): readonly Channel[] {
        const v = event.headers[header];
        return v === undefined ? NONE : (optionals.get(v) ?? NONE);
      },
      // Logs the total of unrouted events once the channel processor closes selectors.
      close: () => unrouted.close(),
    };
    return selector;
  },
});
