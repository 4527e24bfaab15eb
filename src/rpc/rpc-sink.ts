import { CLIENT_TLS_OPTIONS, sslGlobal, storeProblems, tlsKeyProblems } from './tls.js';
import {
  ChannelError,
  ErrorCodes,
  FlumeError,
  RateLimitedLog,
  opt,
  withTransaction,
  type Channel,
  type Context,
  type FlumeEvent,
  type Logger,
  type OptionProblem,
  type Options,
  type Sink,
  type SinkCounter,
  type Status,
} from '../plugin-api/index.js';

/** Flume replaces a timeout below one second by the default (with a warning). */
const MIN_TIMEOUT_MS = 1000;
const DEFAULT_TIMEOUT_MS = 20_000;

export const RPC_SINK_OPTIONS = {
  hostname: opt.requiredString('Host of the downstream source.'),
  port: opt.requiredInteger('Port of the downstream source.', { min: 1, max: 65535 }),
  'batch-size': opt.integer(100, 'Events per transaction, sent in one appendBatch call.', { min: 1 }),
  'connect-timeout': opt.duration(DEFAULT_TIMEOUT_MS, 'Milliseconds allowed for the connection (TCP, TLS) and the first call; below 1000 the default is used, as in Flume.', {
    unit: 'ms',
    min: 0,
    max: 86_400_000,
  }),
  'request-timeout': opt.duration(DEFAULT_TIMEOUT_MS, 'Milliseconds allowed for each later call; below 1000 the default is used, as in Flume.', { unit: 'ms', min: 0, max: 86_400_000 }),
  'reset-connection-interval': opt.duration(0, 'Seconds after which the connection is closed and opened again before the next batch (to rebalance behind a load balancer); 0 never.', {
    unit: 's',
    min: 0,
  }),
  ...CLIENT_TLS_OPTIONS,
};

/** Flume's rule for the two timeouts. */
export function effectiveTimeout(ms: number): number {
  return ms < MIN_TIMEOUT_MS ? DEFAULT_TIMEOUT_MS : ms;
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
  /** Warnings that can repeat per event, batch, retry or connection: first logged, then counted. */
  private readonly failures: RateLimitedLog;
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
    this.failures = new RateLimitedLog(this.logger);
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
        this.failures.error('take', `Rpc sink ${this.name}: unable to get events from channel ${this.channel.name}: ${err.message}`);
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
      this.failures.error('close', `Rpc sink ${this.name}: closing the connection to ${this.target} failed: ${(err as Error).message}`);
    }
  }
}

/** validate() checks shared by the RPC sinks: Flume's timeout rule, the TLS keys. */
export function rpcSinkProblems(ctx: Context, o: Options<typeof RPC_SINK_OPTIONS>, problems: OptionProblem[]): void {
  for (const key of ['connect-timeout', 'request-timeout'] as const) {
    if (ctx.containsKey(key) && o[key] < MIN_TIMEOUT_MS) {
      problems.push({
        severity: 'warning',
        code: ErrorCodes.CONFIG_VALUE,
        key,
        message: `${ctx.fullKey(key)} = ${o[key]} is below ${MIN_TIMEOUT_MS} ms; the default ${DEFAULT_TIMEOUT_MS} ms is used (as Flume does)`,
      });
    }
  }
  if (o.ssl) {
    if (!o['trust-all-certs']) storeProblems(ctx, 'truststore', o.truststore ?? sslGlobal('TRUSTSTORE_PATH'), problems);
    tlsKeyProblems(ctx, o, problems);
  }
}

/** Marks an error of the RPC (not of the channel) inside the transaction. */
class DeliveryFailure extends Error {
  constructor(cause: unknown) {
    super((cause as Error)?.message ?? String(cause), { cause });
  }
}
