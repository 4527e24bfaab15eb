import { ChannelError, RateLimitedLog, opt, type ChannelProcessor, type EventDrivenSource, type FlumeEvent, type Logger, type SourceCounter } from '../plugin-api/index.js';
import { DEFAULT_MAX_CALL_BYTES, type CallTooLargeError } from './call-limits.js';
import { DEFAULT_MAX_TOTAL_FRAME_BYTES } from './server-common.js';

// The source side of Flume's RPC (append, appendBatch), shared by the avro and thrift sources.

/** How often the connection and read-failure counters are copied from the server. */
const COUNTER_SYNC_MS = 1000;

/** The keys bounding what a call may expand to, shared by the avro and thrift sources (flume-ts extensions). */
export const CALL_LIMIT_OPTIONS = {
  'max-call-bytes': opt.integer(
    DEFAULT_MAX_CALL_BYTES,
    'flume-ts extension: most memory one append/appendBatch may take once decoded (its bytes plus about 200 bytes per event and 80 per header, ' +
      'estimated from the counts the call announces, before anything is built); a larger call is answered FAILED and counted in EventReadFail. ' +
      "The event count of a call is bounded too, by the channels' transactionCapacity.",
    { min: 64 * 1024, max: 2 ** 40 },
  ),
  'max-total-frame-bytes': opt.integer(
    DEFAULT_MAX_TOTAL_FRAME_BYTES,
    'flume-ts extension: most bytes of frames still being received that all connections together may hold (each frame is bounded by the ' +
      'frame limit: 64 MiB for avro, 16,384,000 bytes for thrift); the connection that goes beyond it is closed (counted in EventReadFail), the others are served. ' +
      'With avro and deflate, max-total-inflated-bytes applies instead.',
    { min: 64 * 1024, max: 2 ** 40 },
  ),
};

/** What the server is told about the calls it may accept. */
export interface RpcCallBounds {
  /** The channels' transactionCapacity: a batch larger than this can never be committed. */
  maxEvents: number;
  /** Told of each refused call; counts and logs it. */
  onCallRefused(kind: 'append' | 'appendBatch', err: CallTooLargeError): void;
}

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
  makeServer(handler: (events: FlumeEvent[], kind: 'append' | 'appendBatch') => Promise<boolean>, bounds: RpcCallBounds): S;
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
  private readonly failures: RateLimitedLog;

  constructor(
    private readonly name: string,
    private readonly protocol: RpcSourceProtocol<S>,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
  ) {
    this.failures = new RateLimitedLog(logger);
  }

  async start(): Promise<void> {
    const server = this.protocol.makeServer((events, kind) => this.handle(events, kind), {
      maxEvents: this.processor.maxBatchSize,
      onCallRefused: (kind, err) => this.refused(kind, err),
    });
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
    this.failures.flush();
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

  /** A call refused before decoding (answered FAILED already). */
  private refused(kind: 'append' | 'appendBatch', err: CallTooLargeError): void {
    const c = this.counter;
    if (kind === 'append') c.AppendReceivedCount++;
    else c.AppendBatchReceivedCount++;
    const what = `${this.protocol.label} source ${this.name}: unable to process ${kind === 'append' ? 'event' : `event batch of ${err.events}${err.limit === 'events' ? ' or more' : ''}`}, answering FAILED`;
    if (err.limit === 'events') {
      // As Flume: a batch the channels cannot take in one transaction is a channel write failure.
      c.ChannelWriteFail++;
      this.failures.warn(
        'too-many-events',
        `${what}: the batch of ${err.events} events exceeds the channels' transactionCapacity ${err.max}: lower the sender's batch-size or raise transactionCapacity`,
      );
    } else {
      c.EventReadFail++;
      this.failures.warn('too-large', `${what}: ${err.message}`);
    }
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
      this.failures.warn(
        'process',
        `${this.protocol.label} source ${this.name}: unable to process ${kind === 'append' ? 'event' : `event batch of ${n}`}, answering FAILED: ${(err as Error).message}${hint}`,
      );
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
    if (len === 0) continue;
    e.body.copy(store, off);
    e.body = store.subarray(off, off + len);
    off += len;
  }
}
