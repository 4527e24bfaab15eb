import type tls from 'node:tls';
import { ChannelError, ErrorCodes, FlumeError, defineSink, opt, withTransaction, type Channel, type Context, type FlumeEvent, type Logger, type OptionProblem, type Options, type Sink, type SinkCounter, type Status } from '../plugin-api/index.js';
import { AvroRpcClient, type AvroClientTlsOptions, type AvroRpcClientOptions } from '../rpc/avro/client.js';
import { sslEnv, storeProblems, tlsKeyProblems, tlsVersionAndCiphers, truststoreCertificates } from '../sources/avro.js';

/** Flume replaces a timeout below one second by the default (with a warning). */
const MIN_TIMEOUT_MS = 1000;
const DEFAULT_TIMEOUT_MS = 20_000;

/** Flume's client-side TLS keys (avro and thrift sinks, avro-client -P). */
export const CLIENT_TLS_OPTIONS = {
  ssl: opt.boolean(false, 'Connect with TLS.'),
  'trust-all-certs': opt.boolean(false, "Accept any server certificate (no validation). As in Flume the host name is never checked against the certificate."),
  truststore: opt.optionalString("Certificates to trust: a PEM file, or a PKCS12 truststore (read with the openssl command). Default: FLUME_SSL_TRUSTSTORE_PATH, else Node's CA list. JKS must be converted."),
  'truststore-password': opt.optionalString('Password of a PKCS12 truststore.'),
  'truststore-type': opt.enum(['JKS', 'PKCS12', 'PEM'], 'JKS', "Accepted for compatibility: the file's content decides; a real JKS file is refused with the keytool command that converts it."),
  'exclude-protocols': opt.list(['SSLv3'], 'TLS protocol versions to refuse (space separated); SSLv3 is always refused.'),
  'include-protocols': opt.list([], 'TLS protocol versions to allow (space separated; default TLSv1.2 TLSv1.3); exclude-protocols applies after.'),
  'exclude-cipher-suites': opt.list([], 'Cipher suites to refuse (space separated, Java/IANA or OpenSSL names).'),
  'include-cipher-suites': opt.list([], "Cipher suites to allow (space separated; default Node's defaults)."),
};

/** The keys of Flume's AbstractRpcSink (avro and thrift sinks). */
export const RPC_SINK_OPTIONS = {
  hostname: opt.requiredString('Host of the downstream source.'),
  port: opt.requiredInteger('Port of the downstream source.', { min: 1, max: 65535 }),
  'batch-size': opt.integer(100, 'Events per transaction, sent in one appendBatch call.', { min: 1 }),
  'connect-timeout': opt.integer(DEFAULT_TIMEOUT_MS, 'Milliseconds allowed for the connection (TCP, TLS) and the first call; below 1000 the default is used, as in Flume.', { min: 0 }),
  'request-timeout': opt.integer(DEFAULT_TIMEOUT_MS, 'Milliseconds allowed for each later call; below 1000 the default is used, as in Flume.', { min: 0 }),
  'reset-connection-interval': opt.integer(0, 'Seconds after which the connection is closed and opened again before the next batch (to rebalance behind a load balancer); 0 never.', { min: 0 }),
  ...CLIENT_TLS_OPTIONS,
};

export const options = {
  ...RPC_SINK_OPTIONS,
  'compression-type': opt.enum(['none', 'deflate'], 'none', 'deflate: the whole connection is one zlib stream each way; it must match the source.'),
  'compression-level': opt.integer(6, 'zlib level 0..9 with compression-type = deflate.', { min: 0, max: 9 }),
  maxIoWorkers: opt.optionalInteger('Accepted for compatibility; no effect (Flume 1.10+ ignores it too: one event loop does all I/O).', { min: 0 }),
};

/** Flume's rule for the two timeouts. */
export function effectiveTimeout(ms: number): number {
  return ms < MIN_TIMEOUT_MS ? DEFAULT_TIMEOUT_MS : ms;
}

/** The client's TLS settings from the sink's keys (and Flume's FLUME_SSL_* environment fallbacks). */
export function clientTlsOptions(
  ctx: Context,
  o: Options<typeof CLIENT_TLS_OPTIONS>,
): AvroClientTlsOptions {
  const out: AvroClientTlsOptions = { ...(tlsVersionAndCiphers(ctx, o) as tls.ConnectionOptions) };
  if (o['trust-all-certs']) {
    out.trustAllCerts = true;
    return out;
  }
  const file = o.truststore ?? sslEnv('TRUSTSTORE_PATH');
  if (file !== undefined) out.ca = truststoreCertificates(ctx, file, o['truststore-password'] ?? sslEnv('TRUSTSTORE_PASSWORD'));
  return out;
}

/** What an RPC sink needs of its client (Avro's or Thrift's). */
export interface RpcClientLike {
  readonly isConnected: boolean;
  connect(): Promise<void>;
  appendBatch(events: readonly FlumeEvent[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Flume's AbstractRpcSink: takes up to batch-size events in one transaction, sends
 * them in one appendBatch call and commits only when the source answered OK. On
 * FAILED, an error or a timeout it rolls back (the events stay in the channel), drops
 * the connection and throws, so the runner (or the sink group) backs off and the next
 * attempt reconnects. The connection is opened lazily, when there is something to
 * send: an unreachable peer never fails start(), and an idle sink does not retry a
 * dead peer.
 */
export class RpcSink<C extends RpcClientLike> implements Sink {
  private client: C | undefined;
  private connectedAt = 0;
  private makeClient: (() => C) | undefined;
  private readonly target: string;

  constructor(
    readonly name: string,
    readonly channel: Channel,
    private readonly o: { hostname: string; port: number; 'batch-size': number; 'reset-connection-interval': number },
    /** Resolves TLS files and the like at start; returns the client factory. */
    private readonly prepare: () => () => C,
    private readonly describe: string,
    private readonly logger: Logger,
    private readonly counter: SinkCounter,
  ) {
    this.target = `${o.hostname}:${o.port}`;
  }

  async start(): Promise<void> {
    this.makeClient = this.prepare();
    if (this.o['reset-connection-interval'] === 0) this.logger.debug(`Rpc sink ${this.name}: connection reset is set to 0; will not reset the connection to the next hop`);
    this.logger.info(`Rpc sink ${this.name} started (${this.target}, batch-size ${this.o['batch-size']}, ${this.describe})`);
  }

  async stop(): Promise<void> {
    await this.destroyConnection();
    this.logger.info(`Rpc sink ${this.name} stopped`);
  }

  async process(): Promise<Status> {
    const resetMs = this.o['reset-connection-interval'] * 1000;
    if (resetMs > 0 && this.client !== undefined && Date.now() - this.connectedAt >= resetMs) {
      this.logger.debug(`Rpc sink ${this.name}: resetting the connection to ${this.target}`);
      await this.destroyConnection();
    }
    const batchSize = this.o['batch-size'];
    let n: number;
    try {
      n = await withTransaction(this.channel, async (tx) => {
        const events = await tx.take(batchSize);
        this.counter.countBatch(events.length, batchSize);
        if (events.length === 0) return 0;
        this.counter.EventDrainAttemptCount += events.length;
        try {
          const client = await this.connection();
          await client.appendBatch(events);
        } catch (err) {
          throw new DeliveryFailure(err);
        }
        return events.length;
      });
    } catch (err) {
      if (err instanceof DeliveryFailure) {
        this.counter.EventWriteFail++;
        await this.destroyConnection();
        const cause = err.cause as Error;
        throw new FlumeError(ErrorCodes.SINK_DELIVERY, `Rpc sink ${this.name}: failed to send events to ${this.target}: ${cause.message}`, { cause });
      }
      if (err instanceof ChannelError) {
        this.counter.ChannelReadFail++;
        this.logger.error(`Rpc sink ${this.name}: unable to get events from channel ${this.channel.name}: ${err.message}`);
        return 'BACKOFF';
      }
      throw err;
    }
    if (n === 0) return 'BACKOFF';
    this.counter.EventDrainSuccessCount += n;
    return 'READY';
  }

  /** The live client, connecting first when there is none (or it died). */
  private async connection(): Promise<C> {
    if (this.client?.isConnected) return this.client;
    if (this.client) await this.destroyConnection();
    this.logger.info(`Rpc sink ${this.name}: building RpcClient with hostname: ${this.o.hostname}, port: ${this.o.port}`);
    const client = this.makeClient!();
    try {
      await client.connect();
    } catch (err) {
      this.counter.ConnectionFailedCount++;
      await client.close().catch(() => {});
      throw err;
    }
    this.counter.ConnectionCreatedCount++;
    this.client = client;
    this.connectedAt = Date.now();
    return client;
  }

  private async destroyConnection(): Promise<void> {
    const c = this.client;
    if (!c) return;
    this.client = undefined;
    try {
      await c.close();
      this.counter.ConnectionClosedCount++;
    } catch (err) {
      this.counter.ConnectionFailedCount++;
      this.logger.error(`Rpc sink ${this.name}: closing the connection to ${this.target} failed: ${(err as Error).message}`);
    }
  }
}

/** validate() checks shared by the RPC sinks: Flume's timeout rule, the TLS keys. */
export function rpcSinkProblems(ctx: Context, o: Options<typeof RPC_SINK_OPTIONS>, problems: OptionProblem[]): void {
  for (const key of ['connect-timeout', 'request-timeout'] as const) {
    if (ctx.containsKey(key) && o[key] < MIN_TIMEOUT_MS) {
      problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_VALUE, key, message: `${ctx.fullKey(key)} = ${o[key]} is below ${MIN_TIMEOUT_MS} ms; the default ${DEFAULT_TIMEOUT_MS} ms is used (as Flume does)` });
    }
  }
  if (o.ssl) {
    if (!o['trust-all-certs']) storeProblems(ctx, 'truststore', o.truststore ?? sslEnv('TRUSTSTORE_PATH'), problems);
    tlsKeyProblems(ctx, o, problems);
  }
}

/** Marks an error of the RPC (not of the channel) inside the transaction. */
class DeliveryFailure extends Error {
  constructor(cause: unknown) {
    super((cause as Error)?.message ?? String(cause), { cause });
  }
}

export default defineSink({
  type: 'avro',
  aliases: ['org.apache.flume.sink.AvroSink'],
  description: "Sends events to an avro source over Flume's Avro RPC, one appendBatch per transaction.",
  options,
  validate(o, ctx) {
    const problems: OptionProblem[] = [];
    rpcSinkProblems(ctx, o, problems);
    return problems;
  },
  create: ({ name, channel, options: o, context, logger, counter }) =>
    new RpcSink(
      name,
      channel,
      o,
      () => {
        if (o.maxIoWorkers !== undefined) logger.info(`Rpc sink ${name}: maxIoWorkers is no longer supported and has no effect`);
        const clientOptions: AvroRpcClientOptions = {
          host: o.hostname,
          port: o.port,
          connectTimeout: effectiveTimeout(o['connect-timeout']),
          requestTimeout: effectiveTimeout(o['request-timeout']),
          compression: o['compression-type'],
          compressionLevel: o['compression-level'],
          ...(o.ssl ? { tls: clientTlsOptions(context, o) } : {}),
          logger,
        };
        return () => new AvroRpcClient(clientOptions);
      },
      `compression ${o['compression-type']}, ssl ${o.ssl ? 'on' : 'off'}`,
      logger,
      counter,
    ),
});
