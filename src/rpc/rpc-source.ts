import { ChannelError, type ChannelProcessor, type EventDrivenSource, type FlumeEvent, type Logger, type SourceCounter } from '../plugin-api/index.js';

// The source side of Flume's RPC (append, appendBatch), shared by the avro and thrift sources.

/** Logs at most one line per interval for a recurring failure, with a count of the ones held back. */
class RateLimitedWarning {
  private last = 0;
  private held = 0;
  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 1000,
  ) {}
  warn(message: string): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) {
      this.held++;
      return;
    }
    this.last = now;
    const more = this.held > 0 ? ` (${this.held} similar failure${this.held === 1 ? '' : 's'} not logged)` : '';
    this.held = 0;
    this.logger.warn(message + more);
  }
}

/** How often the connection and read-failure counters are copied from the server. */
const COUNTER_SYNC_MS = 1000;

/** What an RPC source needs of its server (Avro's or Thrift's). */
export interface RpcServerLike {
  listen(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}

/** How one RPC protocol plugs into RpcSource. */
export interface RpcSourceProtocol<S extends RpcServerLike> {
  /** For log lines: "Avro", "Thrift". */
  readonly label: string;
  /** Builds the server (not listening yet); it calls `handler` for each call. */
  makeServer(handler: (events: FlumeEvent[], kind: 'append' | 'appendBatch') => Promise<boolean>): S;
  /** Open connections, and connections or calls refused as malformed, so far. */
  serverCounts(server: S): { open: number; readFails: number };
  /** Extra words for the "started" line (compression, protocol, ssl). */
  describe: string;
}

/**
 * An event-driven source serving Flume's RPC (append, appendBatch): each call is put
 * into the channels as one batch and answered OK only after every required channel
 * committed; FAILED when a channel refuses it (full, a batch beyond
 * transactionCapacity, a put that fails), so the sender rolls back and retries.
 * Malformed input closes only the offending connection, and is logged and counted
 * (EventReadFail).
 */
export class RpcSource<S extends RpcServerLike> implements EventDrivenSource {
  readonly kind = 'event-driven';
  private server: S | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private seenReadFails = 0;
  private readonly failures: RateLimitedWarning;

  constructor(
    private readonly name: string,
    private readonly protocol: RpcSourceProtocol<S>,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
  ) {
    this.failures = new RateLimitedWarning(logger);
  }

  async start(): Promise<void> {
    const server = this.protocol.makeServer((events, kind) => this.handle(events, kind));
    const addr = await server.listen();
    this.server = server;
    this.seenReadFails = 0;
    this.syncTimer = setInterval(() => this.syncCounters(), COUNTER_SYNC_MS);
    this.syncTimer.unref();
    this.logger.info(`${this.protocol.label} source ${this.name} started on ${addr.address}:${addr.port} (${this.protocol.describe})`);
  }

  async stop(): Promise<void> {
    if (this.syncTimer) clearInterval(this.syncTimer);
    const server = this.server;
    if (!server) return;
    await server.close();
    this.syncCounters();
    this.counter.OpenConnectionCount = 0;
    this.server = undefined;
    this.logger.info(`${this.protocol.label} source ${this.name} stopped`);
  }

  /** Open connections, and connections or calls refused as malformed, from the server's counters. */
  private syncCounters(): void {
    if (!this.server) return;
    const { open, readFails } = this.protocol.serverCounts(this.server);
    this.counter.OpenConnectionCount = open;
    this.counter.EventReadFail += readFails - this.seenReadFails;
    this.seenReadFails = readFails;
  }

  private async handle(events: FlumeEvent[], kind: 'append' | 'appendBatch'): Promise<boolean> {
    const c = this.counter;
    const n = events.length;
    if (kind === 'append') c.AppendReceivedCount++;
    else c.AppendBatchReceivedCount++;
    c.EventReceivedCount += n;
    copyBodies(events);
    try {
      await this.processor.processEventBatch(events);
    } catch (err) {
      if (err instanceof ChannelError) c.ChannelWriteFail++;
      else c.GenericProcessingFail++;
      const max = this.processor.maxBatchSize;
      const hint = n > max ? ` (the batch of ${n} events exceeds the channels' transactionCapacity ${max}: lower the sender's batch-size or raise transactionCapacity)` : '';
      this.failures.warn(`${this.protocol.label} source ${this.name}: unable to process ${kind === 'append' ? 'event' : `event batch of ${n}`}, answering FAILED: ${(err as Error).message}${hint}`);
      this.syncCounters();
      return false;
    }
    if (kind === 'append') c.AppendAcceptedCount++;
    else c.AppendBatchAcceptedCount++;
    c.EventAcceptedCount += n;
    this.syncCounters();
    return true;
  }
}

/** The Avro flavour: Netty framing, optional zlib, TLS and ipFilter. */
function copyBodies(events: FlumeEvent[]): void {
  let total = 0;
  for (let i = 0; i < events.length; i++) total += events[i]!.body.length;
  if (total === 0) return;
  const store = Buffer.allocUnsafe(total);
  let off = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const len = e.body.length;
    e.body.copy(store, off);
    e.body = store.subarray(off, off + len);
    off += len;
  }
}
