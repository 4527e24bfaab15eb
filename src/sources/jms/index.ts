import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import {
  ErrorCodes,
  RateLimitedLog,
  createEvent,
  defineSource,
  opt,
  sleep,
  resolveOptions,
  throwOnErrors,
  type ComponentLookup,
  type JmsMessageConverter,
  type ChannelProcessor,
  type EventDrivenSource,
  type FlumeEvent,
  type Logger,
  type Options,
  type OptionProblem,
  type SourceCounter,
} from '../../plugin-api/index.js';
import { sslGlobal, truststoreCertificates } from '../../rpc/tls.js';
import { StompConnection, StompProtocolError, type StompFrame } from './stomp.js';
import type { Context } from '../../plugin-api/index.js';
import type tls from 'node:tls';

export const options = {
  providerURL: opt.requiredString(
    'The broker: tcp://host:port or ssl://host:port (spoken as STOMP 1.2 on that port: give the broker a stomp or auto connector there), stomp:// or stomp+ssl://, or failover:(url,url) to try several in turn.',
  ),
  destinationName: opt.requiredString('The queue or topic to read.'),
  destinationType: opt.enum(['QUEUE', 'TOPIC'], 'QUEUE', 'queue (each message to one consumer) or topic (publish-subscribe). Required, as in Flume.'),
  messageSelector: opt.optionalString('A JMS selector (e.g. "color = \'red\'"), evaluated by the broker: messages that do not match stay on the queue.'),
  userName: opt.optionalString('Login for the broker.'),
  passwordFile: opt.optionalString('A file holding the password (trimmed); the password itself is never printed.'),
  batchSize: opt.integer(100, 'Messages per channel transaction; the broker may send twice this many unacknowledged messages ahead (prefetch), which bounds what the source holds.', {
    min: 1,
    max: 100_000,
  }),
  pollTimeout: opt.duration(1000, 'Longest wait (ms) for a batch to fill before the messages received so far are stored.', { unit: 'ms', min: 1, max: 3_600_000 }),
  'converter.type': opt.string(
    'DEFAULT',
    "DEFAULT is Flume's DefaultJMSMessageConverter: message properties become headers, text bodies are encoded in converter.charset, bytes kept as they are. Any other value names a converter plugin (defineJmsConverter), configured by the other converter.* keys.",
  ),
  'converter.charset': opt.enum(['UTF-8', 'ISO-8859-1', 'US-ASCII', 'UTF-16LE'], 'UTF-8', 'Charset the body of a text message is stored in.'),
  createDurableSubscription: opt.boolean(false, 'Subscribe to the topic durably, so messages sent while the agent is down are kept (needs clientId and durableSubscriptionName).'),
  durableSubscriptionName: opt.string('', 'Name of the durable subscription.'),
  clientId: opt.optionalString("The connection's client id (needed for a durable subscription)."),
  initialContextFactory: opt.optionalString('Accepted for compatibility; not used (no JNDI: the broker is reached over STOMP at providerURL).'),
  connectionFactory: opt.string('ConnectionFactory', 'Accepted for compatibility; not used.'),
  destinationLocator: opt.enum(['CDI', 'JNDI'], 'CDI', 'Accepted for compatibility; not used.'),
  errorThreshold: opt.integer(10, 'Accepted for compatibility: any broker error here drops the connection and reconnects with back-off.', { min: 0 }),
  maxMessageBytes: opt.integer(
    16 * 1024 * 1024,
    'Largest message body accepted (flume-ts); a larger message is read past without being kept, counted and refused (NACK), so the broker moves it to its dead-letter queue.',
    { min: 1024, max: 256 * 1024 * 1024 },
  ),
  truststore: opt.optionalString("Certificates to trust for ssl:// (PEM, or PKCS12 read with openssl). Default: -Djavax.net.ssl.trustStore or FLUME_SSL_TRUSTSTORE_PATH, else Node's CA list."),
  'truststore-password': opt.secret('Password of a PKCS12 truststore.'),
  'trust-all-certs': opt.boolean(false, 'Accept any broker certificate (no validation).'),
};

type JmsOptions = Options<typeof options>;

interface BrokerAddress {
  host: string;
  port: number;
  tls: boolean;
  url: string;
}

/** `tcp://h:p`, `ssl://h:p`, `stomp://`, `stomp+ssl://`, `failover:(a,b)?opts` → addresses to try in order. */
export function parseProviderUrl(raw: string): BrokerAddress[] {
  let s = raw.trim();
  const fo = /^failover:\(?([^)]*)\)?(\?.*)?$/i.exec(s);
  const parts = fo ? fo[1]!.split(',') : [s];
  const out: BrokerAddress[] = [];
  for (const p of parts) {
    s = p.trim();
    const m = /^(tcp|ssl|stomp|stomp\+ssl|stomp\+nio|stomp\+nio\+ssl|nio|nio\+ssl|auto|auto\+ssl|auto\+nio|auto\+nio\+ssl):\/\/(\[[^\]]+\]|[^:/?]+):(\d+)\/?(\?.*)?$/i.exec(s);
    if (!m) throw new Error(`"${s}" is not a broker URL (expected tcp://host:port, ssl://host:port, stomp://host:port or stomp+ssl://host:port)`);
    const port = Number(m[3]);
    if (port < 1 || port > 65535) throw new Error(`"${s}": port ${port} is out of range`);
    out.push({ host: m[2]!.replace(/^\[|\]$/g, ''), port, tls: /ssl/i.test(m[1]!), url: s });
  }
  return out;
}

/** STOMP and JMS header names that are not message properties (Flume copies only properties). */
const STANDARD_HEADERS = new Set([
  'message-id',
  'destination',
  'subscription',
  'ack',
  'content-length',
  'content-type',
  'expires',
  'priority',
  'timestamp',
  'persistent',
  'redelivered',
  'correlation-id',
  'reply-to',
  'type',
  'transformation',
  'receipt',
  'original-destination',
]);

const CHARSETS: Record<string, BufferEncoding> = { 'UTF-8': 'utf8', 'ISO-8859-1': 'latin1', 'US-ASCII': 'ascii', 'UTF-16LE': 'utf16le' };

/**
 * Flume's JMS source over STOMP 1.2 (ActiveMQ's stomp or auto connector, Artemis,
 * RabbitMQ's STOMP plugin). Messages are acknowledged one by one (client-individual)
 * only after their batch is committed to every required channel; a crash or a lost
 * connection leaves them unacknowledged, so the broker delivers them again.
 */
class JmsSource implements EventDrivenSource {
  readonly kind = 'event-driven';
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private conn: StompConnection | undefined;
  private readonly brokers: BrokerAddress[];
  private readonly password: string | undefined;
  private readonly warn: RateLimitedLog;
  private readonly encoding: BufferEncoding;
  /** A plugin's converter, when converter.type names one. */
  private readonly custom: JmsMessageConverter | undefined;

  constructor(
    private readonly name: string,
    private readonly o: JmsOptions,
    private readonly ctx: Context,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
    registry: ComponentLookup,
  ) {
    this.brokers = parseProviderUrl(o.providerURL);
    const type = o['converter.type'];
    if (type.toUpperCase() !== 'DEFAULT') {
      const def = registry.lookup('jmsConverter', type)!;
      const cctx = ctx.subProperties('converter.');
      const { options, problems } = resolveOptions(def.options, cctx);
      throwOnErrors(cctx, problems);
      this.custom = def.create({ name: type, options, context: cctx, logger, registry });
    }
    this.password = o.passwordFile ? fs.readFileSync(o.passwordFile, 'utf8').trim() : undefined;
    this.warn = new RateLimitedLog(logger);
    this.encoding = CHARSETS[o['converter.charset']]!;
  }

  async start(): Promise<void> {
    // The first connection decides whether the settings are right: a refused login or a
    // port that is not STOMP stops the agent with a clear message; a broker that is
    // simply away is waited for.
    const first = await this.connectOnce(0);
    if (first instanceof Error && !isTransient(first)) throw first;
    this.loop = this.run(first instanceof Error ? first : undefined);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    const c = this.conn;
    this.conn = undefined;
    await c?.close();
    await this.loop;
    this.warn.flush();
  }

  private tlsOptions(): tls.ConnectionOptions {
    if (this.o['trust-all-certs']) return { rejectUnauthorized: false };
    const file = this.o.truststore ?? sslGlobal('TRUSTSTORE_PATH');
    const out: tls.ConnectionOptions = {};
    if (file !== undefined) out.ca = truststoreCertificates(this.ctx, file, this.o['truststore-password'] ?? sslGlobal('TRUSTSTORE_PASSWORD'));
    return out;
  }

  /** Connects to the n-th broker of the list and subscribes; an Error when that failed. */
  private async connectOnce(n: number): Promise<StompConnection | Error> {
    const b = this.brokers[n % this.brokers.length]!;
    const conn = new StompConnection({
      host: b.host,
      port: b.port,
      ...(b.tls ? { tls: this.tlsOptions() } : {}),
      ...(this.o.userName !== undefined ? { login: this.o.userName } : {}),
      ...(this.password !== undefined ? { passcode: this.password } : {}),
      ...(this.o.clientId ? { clientId: this.o.clientId } : {}),
      heartbeatMs: 10_000,
      connectTimeoutMs: 10_000,
      limits: { maxHeaderBytes: 64 * 1024, maxBodyBytes: this.o.maxMessageBytes },
    });
    try {
      await conn.connect();
    } catch (err) {
      const e = err as Error;
      if (err instanceof StompProtocolError && /OpenWire|closed before STOMP/.test(e.message)) {
        return new JmsConfigError(
          `${this.ctx.fullKey('providerURL')}: ${b.url} ${e.message}. The broker must accept STOMP on that port: ` +
            'add <transportConnector name="auto" uri="auto://0.0.0.0:61616"/> (OpenWire and STOMP on one port) or a stomp:// connector to its activemq.xml',
        );
      }
      if (!('code' in e)) {
        // The broker answered with an ERROR frame: a refused login, an unknown destination.
        return new JmsConfigError(
          `${this.ctx.fullKey('providerURL')}: the broker at ${b.url} refused the connection: ${e.message}` +
            (this.o.userName !== undefined ? ` (user ${this.o.userName}; check userName and the password in passwordFile)` : ''),
        );
      }
      return new Error(`cannot reach the broker at ${b.url}: ${e.message}`);
    }
    const headers: Record<string, string> = {
      id: '0',
      destination: `/${this.o.destinationType === 'TOPIC' ? 'topic' : 'queue'}/${this.o.destinationName}`,
      ack: 'client-individual',
      // Two batches ahead: the broker keeps sending while the previous batch is stored.
      'activemq.prefetchSize': String(this.o.batchSize * 2),
    };
    if (this.o.messageSelector) headers.selector = this.o.messageSelector;
    if (this.o.createDurableSubscription) {
      headers['activemq.subscriptionName'] = this.o.durableSubscriptionName;
      headers.persistent = 'true';
    }
    conn.subscribe(headers);
    this.conn = conn;
    return conn;
  }

  private async run(firstError: Error | undefined): Promise<void> {
    const signal = this.abort.signal;
    let attempt = 0;
    let outage: Error | undefined = firstError;
    if (outage) this.logger.warn(`JMS source ${this.name}: ${outage.message}; retrying with back-off`);
    while (!signal.aborted) {
      let conn = this.conn;
      if (!conn) {
        await sleep(Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)), signal);
        if (signal.aborted) break;
        const r = await this.connectOnce(++attempt);
        if (r instanceof Error) {
          // One line per outage, not per attempt.
          if (!outage) this.logger.warn(`JMS source ${this.name}: ${r.message}; retrying with back-off`);
          outage = r;
          continue;
        }
        conn = r;
      }
      if (outage) this.logger.info(`JMS source ${this.name}: connected to the broker again after ${attempt} attempt(s)`);
      outage = undefined;
      attempt = 0;
      const lost = await this.consume(conn);
      if (this.conn === conn) this.conn = undefined;
      if (lost && !signal.aborted) {
        this.logger.warn(`JMS source ${this.name}: connection to the broker lost (${lost.message}); unacknowledged messages will be delivered again`);
        outage = lost;
      }
    }
  }

  /** Reads one connection until it closes; resolves with why it ended (undefined on stop). */
  private consume(conn: StompConnection): Promise<Error | undefined> {
    return new Promise((resolve) => {
      let pending: { events: FlumeEvent[]; ack: string }[] = [];
      let timer: NodeJS.Timeout | undefined;
      let chain: Promise<void> = Promise.resolve();
      let why: Error | undefined;
      let open = true;
      const flush = (): void => {
        if (timer) clearTimeout(timer);
        timer = undefined;
        if (pending.length === 0) return;
        const batch = pending;
        pending = [];
        chain = chain.then(() => this.store(conn, batch, () => open));
      };
      conn.on('message', (f: StompFrame) => {
        const ack = f.headers.ack ?? f.headers['message-id'];
        this.counter.EventReceivedCount++;
        const events = this.convert(f);
        if (!events || ack === undefined) {
          this.counter.EventReadFail++;
          if (ack !== undefined) conn.nack(ack);
          return;
        }
        pending.push({ events, ack });
        if (pending.length >= this.o.batchSize) flush();
        else if (!timer) timer = setTimeout(flush, this.o.pollTimeout);
      });
      conn.on('error', (err: Error) => {
        why = err;
        conn.destroy();
      });
      conn.once('close', () => {
        open = false;
        if (timer) clearTimeout(timer);
        void chain.then(() => resolve(this.abort.signal.aborted ? undefined : (why ?? new Error('the broker closed the connection'))));
      });
    });
  }

  /** Flume's DefaultJMSMessageConverter: properties to headers, text in converter.charset, bytes as they are. */
  private convert(f: StompFrame): FlumeEvent[] | undefined {
    if (f.oversize) {
      this.warn.warn(
        'oversize',
        `JMS source ${this.name}: message ${f.headers['message-id']} is larger than maxMessageBytes (${this.o.maxMessageBytes}); refused (NACK: the broker moves it to its dead-letter queue)`,
      );
      return undefined;
    }
    if (this.custom) {
      try {
        return this.custom.convert({ headers: f.headers, body: f.body, text: f.headers['content-length'] === undefined });
      } catch (err) {
        this.warn.warn(
          'converter',
          `JMS source ${this.name}: converter ${this.o['converter.type']} refused message ${f.headers['message-id']}: ${(err as Error).message} (NACK: the broker moves it to its dead-letter queue)`,
        );
        return undefined;
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(f.headers)) if (!STANDARD_HEADERS.has(k)) headers[k] = v;
    if (f.headers['content-length'] !== undefined) return [createEvent(f.body, headers)];
    // STOMP carries text as UTF-8; bytes that are not are a message we cannot convert.
    if (!isUtf8(f.body)) {
      this.warn.warn(
        'undecodable',
        `JMS source ${this.name}: message ${f.headers['message-id']} is a text message that is not valid UTF-8; refused (NACK: the broker moves it to its dead-letter queue)`,
      );
      return undefined;
    }
    return [createEvent(this.encoding === 'utf8' ? f.body : Buffer.from(f.body.toString('utf8'), this.encoding), headers)];
  }

  /** Stores a batch, then acknowledges each message; retries while the channel refuses, until stopped or the connection is gone. */
  private async store(conn: StompConnection, batch: { events: FlumeEvent[]; ack: string }[], open: () => boolean): Promise<void> {
    const events = batch.length === 1 ? batch[0]!.events : batch.flatMap((b) => b.events);
    let wait = 250;
    for (;;) {
      try {
        await this.processor.processEventBatch(events);
        this.counter.EventAcceptedCount += events.length;
        this.counter.AppendBatchAcceptedCount++;
        conn.ackAll(batch.map((b) => b.ack));
        return;
      } catch (err) {
        this.counter.ChannelWriteFail++;
        // Not acknowledged: the broker keeps the messages and sends them again.
        if (this.abort.signal.aborted || !open()) return;
        this.warn.warn('channel', `JMS source ${this.name}: channel refused ${events.length} message(s) (${(err as Error).message}); retrying`);
        conn.pause();
      }
      await sleep(wait, this.abort.signal);
      conn.resume();
      wait = Math.min(wait * 2, 5000);
    }
  }
}

class JmsConfigError extends Error {}
const isTransient = (e: Error): boolean => !(e instanceof JmsConfigError);

export default defineSource({
  type: 'jms',
  aliases: ['org.apache.flume.source.jms.JMSSource'],
  description: 'Reads a JMS queue or topic over STOMP 1.2, acknowledging each message only after its batch is committed.',
  options,
  batchOption: 'batchSize',
  prefixes: ['converter.'],
  validate(o, ctx, registry) {
    const problems: OptionProblem[] = [];
    const type = o['converter.type'];
    if (type.toUpperCase() !== 'DEFAULT') {
      const def = registry.lookup('jmsConverter', type);
      if (!def) {
        problems.push({
          severity: 'error',
          code: ErrorCodes.CONFIG_UNKNOWN_TYPE,
          key: 'converter.type',
          message: `${ctx.fullKey('converter.type')}: unknown JMS message converter "${type}": DEFAULT, or a converter plugin (defineJmsConverter) found in plugins.d or --plugins-path`,
        });
      } else {
        const cctx = ctx.subProperties('converter.');
        for (const pr of resolveOptions(def.options, cctx).problems) problems.push({ ...pr, key: `converter.${pr.key}` });
      }
    }
    const err = (key: string, message: string): void => {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key, message: `${ctx.fullKey(key)}: ${message}` });
    };
    try {
      parseProviderUrl(o.providerURL);
    } catch (e) {
      err('providerURL', (e as Error).message);
    }
    if (!ctx.containsKey('destinationType')) {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_REQUIRED, key: 'destinationType', message: `${ctx.prefix}destinationType is required (queue or topic)` });
    }
    if (o.createDurableSubscription) {
      if (o.destinationType !== 'TOPIC') err('createDurableSubscription', 'a durable subscription needs destinationType = topic');
      if (!o.clientId) err('createDurableSubscription', `a durable subscription needs ${ctx.prefix}clientId`);
      if (!o.durableSubscriptionName) err('createDurableSubscription', `a durable subscription needs ${ctx.prefix}durableSubscriptionName`);
    }
    if (o.passwordFile !== undefined) {
      try {
        fs.accessSync(o.passwordFile, fs.constants.R_OK);
        if (!fs.statSync(o.passwordFile).isFile() || fs.statSync(o.passwordFile).size > 64 * 1024) err('passwordFile', `${o.passwordFile} is not a small regular file`);
      } catch {
        err('passwordFile', `cannot read ${o.passwordFile}`);
      }
    }
    return problems;
  },
  create: ({ name, options, context, processor, counter, logger, registry }) => new JmsSource(name, options, context, processor, counter, logger, registry),
});
