import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';
import {
  ErrorCodes,
  SlicedEvent,
  defineSource,
  opt,
  type ChannelProcessor,
  type Context,
  type EventDrivenSource,
  type FlumeEvent,
  type Logger,
  type OptionProblem,
  type Options,
  type SourceCounter,
} from '../../plugin-api/index.js';
import { SERVER_TLS_OPTIONS, serverTlsOptions, serverTlsProblems } from '../../rpc/tls.js';
import { CLIENT_OPTIONS, KEEP_FIELDS_OPTION, SyslogTcpListener, type MessageParser } from './common.js';
import { INVALID, MultiportParser, STATUS_HEADER, parseKeepFields } from './parser.js';

const PORT_CHARSET = 'charset.port.';

export const options = {
  ports: opt.requiredString('TCP ports to listen on, separated by spaces.'),
  host: opt.optionalString('Address to listen on; unset: every interface.'),
  eventSize: opt.integer(2500, 'Longest message in bytes; a longer one is cut there and marked flume.syslog.status = Incomplete.', { min: 10, max: 16 * 1024 * 1024 }),
  keepFields: KEEP_FIELDS_OPTION,
  portHeader: opt.optionalString('Header that receives the local port the message came in on. Unset: no header.'),
  ...CLIENT_OPTIONS,
  'charset.default': opt.string(
    'UTF-8',
    'Character set of the messages; charset.port.<port> sets it per port. Bodies keep the bytes received; a message that is not valid in its charset is kept with flume.syslog.status = Invalid.',
  ),
  batchSize: opt.integer(100, 'Most events stored in one channel transaction.', { min: 1 }),
  readBufferBytes: opt.integer(1024, "Accepted for compatibility (the size of MINA's read buffer in Flume); no effect: reads are as large as the socket delivers.", {
    min: 1,
    aliases: ['readBufferSize'],
  }),
  numProcessors: opt.optionalInteger('Accepted for compatibility (MINA I/O threads in Flume); no effect: one event loop serves every port.', { min: 1 }),
  ...SERVER_TLS_OPTIONS,
};

type MultiportOptions = Options<typeof options>;

/** How the bytes of one charset are checked and turned into header text. */
interface Charset {
  name: string;
  valid(buf: Buffer, start: number, end: number): boolean;
  decode(buf: Buffer, start: number, end: number): string;
}

/**
 * A charset by its Java or IANA name. Messages are parsed as bytes, so only charsets
 * that write ASCII as ASCII are accepted (UTF-8, ISO-8859-*, windows-125*, ...);
 * UTF-16 and UTF-32 are refused when the job is read.
 */
export function charsetFor(label: string): Charset {
  const l = label.trim().toLowerCase();
  if (l === 'utf-8' || l === 'utf8') {
    return { name: 'UTF-8', valid: (b, s, e) => isUtf8(b.subarray(s, e)), decode: (b, s, e) => b.toString('utf8', s, e) };
  }
  if (l === 'iso-8859-1' || l === 'iso8859-1' || l === 'iso8859_1' || l === 'latin1' || l === 'iso-latin-1') {
    return { name: 'ISO-8859-1', valid: () => true, decode: (b, s, e) => b.toString('latin1', s, e) };
  }
  if (l === 'us-ascii' || l === 'ascii') {
    return {
      name: 'US-ASCII',
      valid: (b, s, e) => {
        for (let i = s; i < e; i++) if (b[i]! > 0x7f) return false;
        return true;
      },
      decode: (b, s, e) => b.toString('latin1', s, e),
    };
  }
  let fatal: TextDecoder;
  let lenient: TextDecoder;
  try {
    fatal = new TextDecoder(l.replace(/_/g, '-'), { fatal: true });
    lenient = new TextDecoder(l.replace(/_/g, '-'));
  } catch {
    throw new Error(`unknown charset "${label}"`);
  }
  const ascii = Buffer.from(Array.from({ length: 95 }, (_, i) => i + 0x20));
  if (lenient.decode(ascii) !== ascii.toString('latin1')) throw new Error(`charset "${label}" does not write ASCII as ASCII (UTF-16 and UTF-32 are not supported for syslog)`);
  return {
    name: fatal.encoding,
    valid: (b, s, e) => {
      try {
        fatal.decode(b.subarray(s, e));
        return true;
      } catch {
        return false;
      }
    },
    decode: (b, s, e) => lenient.decode(b.subarray(s, e)),
  };
}

/** The ports of `ports`, or a message saying what is wrong. */
function parsePorts(raw: string): number[] {
  const ports = raw
    .split(/\s+/)
    .filter(Boolean)
    .map((p) => {
      if (!/^\d+$/.test(p) || Number(p) > 65535) throw new Error(`"${p}" is not a port number`);
      return Number(p);
    });
  if (ports.length === 0) throw new Error('no port given');
  return ports;
}

/** The multiport parser behind a charset check: bytes not valid in the port's charset make an Invalid event. */
class CharsetParser implements MessageParser {
  constructor(
    private readonly charset: Charset,
    private readonly inner: MultiportParser,
  ) {}

  invalid = false;

  parse(buf: Buffer, start: number, end: number, incomplete: boolean, extra?: readonly string[]): FlumeEvent {
    if (!this.charset.valid(buf, start, end)) {
      this.invalid = true;
      const e = new SlicedEvent(buf, start, end);
      e.headers = { [STATUS_HEADER]: INVALID };
      if (extra) for (let i = 0; i + 1 < extra.length; i += 2) e.headers[extra[i]!] = extra[i + 1]!;
      return e;
    }
    const e = this.inner.parse(buf, start, end, incomplete, extra);
    this.invalid = this.inner.invalid;
    return e;
  }
}

/**
 * Flume's multiport_syslogtcp source: one syslog TCP listener per port, each port
 * with its charset, parsed with Flume's SyslogParser rules (see parser.ts).
 */
class MultiportSyslogSource implements EventDrivenSource {
  readonly kind = 'event-driven';
  private readonly listeners: SyslogTcpListener[] = [];

  constructor(name: string, o: MultiportOptions, ctx: Context, processor: ChannelProcessor, counter: SourceCounter, logger: Logger) {
    const keep = parseKeepFields(o.keepFields);
    const tls = o.ssl ? serverTlsOptions(ctx, o) : undefined;
    const byPort = portCharsets(ctx);
    const fallback = charsetFor(o['charset.default']);
    if (o.numProcessors !== undefined) logger.debug(`Multiport syslog source ${name}: numProcessors has no effect (one event loop serves every port)`);
    for (const port of parsePorts(o.ports)) {
      const charset = byPort.get(port) ?? fallback;
      this.listeners.push(
        new SyslogTcpListener(
          {
            name,
            host: o.host,
            port,
            ...(tls ? { tls } : {}),
            eventSize: o.eventSize,
            batchSize: Math.min(o.batchSize, processor.maxBatchSize),
            clientIPHeader: o.clientIPHeader,
            clientHostnameHeader: o.clientHostnameHeader,
            portHeader: o.portHeader,
            newParser: () => new CharsetParser(charset, new MultiportParser({ keep }, charset.decode)),
          },
          processor,
          counter,
          logger,
        ),
      );
    }
  }

  async start(): Promise<void> {
    try {
      for (const l of this.listeners) await l.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.stop()));
  }
}

/** charset.port.<port> keys: port → charset (throws on a bad one). */
function portCharsets(ctx: Context): Map<number, Charset> {
  const out = new Map<number, Charset>();
  const sub = ctx.subProperties(PORT_CHARSET);
  for (const key of sub.keys()) {
    if (!/^\d+$/.test(key)) throw new Error(`${ctx.fullKey(PORT_CHARSET + key)}: "${key}" is not a port number`);
    out.set(Number(key), charsetFor(sub.getString(key) ?? ''));
  }
  return out;
}

export default defineSource({
  type: 'multiport_syslogtcp',
  aliases: ['org.apache.flume.source.MultiportSyslogTCPSource'],
  description: 'Receives syslog messages over TCP on several ports, each with its own charset.',
  options,
  batchOption: 'batchSize',
  prefixes: [PORT_CHARSET],
  listens(o) {
    try {
      return parsePorts(o.ports).map((port) => ({ host: o.host ?? '0.0.0.0', port, protocol: 'tcp' as const }));
    } catch {
      return [];
    }
  },
  validate(o, ctx) {
    const problems: OptionProblem[] = [];
    const bad = (key: string, message: string): void => void problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key, message: `${ctx.fullKey(key)}: ${message}` });
    let ports: number[] = [];
    try {
      ports = parsePorts(o.ports);
    } catch (err) {
      bad('ports', (err as Error).message);
    }
    try {
      charsetFor(o['charset.default']);
    } catch (err) {
      bad('charset.default', (err as Error).message);
    }
    const sub = ctx.subProperties(PORT_CHARSET);
    for (const key of sub.keys()) {
      if (!/^\d+$/.test(key)) {
        bad(PORT_CHARSET + key, `"${key}" is not a port number`);
        continue;
      }
      if (ports.length > 0 && !ports.includes(Number(key))) {
        problems.push({
          severity: 'warning',
          code: ErrorCodes.CONFIG_VALUE,
          key: PORT_CHARSET + key,
          message: `${ctx.fullKey(PORT_CHARSET + key)}: port ${key} is not in ports (${o.ports}); ignored`,
        });
      }
      try {
        charsetFor(sub.getString(key) ?? '');
      } catch (err) {
        bad(PORT_CHARSET + key, (err as Error).message);
      }
    }
    serverTlsProblems(ctx, o, problems);
    return problems;
  },
  create: ({ name, options, context, processor, counter, logger }) => new MultiportSyslogSource(name, options, context, processor, counter, logger),
});
