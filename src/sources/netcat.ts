import net from 'node:net';
import { TextDecoder } from 'node:util';
import {
  RateLimitedLog,
  SlicedEvent,
  createEvent,
  raceAbort,
  defineSource,
  opt,
  type ChannelProcessor,
  type EventDrivenSource,
  type FlumeEvent,
  type Logger,
  type Options,
  type SourceCounter,
} from '../plugin-api/index.js';

export const options = {
  bind: opt.requiredString('Address to listen on.'),
  port: opt.requiredInteger('TCP port to listen on.', { min: 0, max: 65535 }),
  'max-line-length': opt.integer(512, 'Longest line accepted, in characters including the newline.', { min: 1 }),
  'ack-every-event': opt.boolean(true, 'Reply "OK" after each event is stored.'),
  encoding: opt.charset('utf-8', 'Character set of the incoming text; bodies are stored as UTF-8.'),
};

type NetcatOptions = Options<typeof options>;
const NL = 0x0a;
const OK = Buffer.from('OK\n');
const EMPTY = Buffer.alloc(0);
/** Bytes read and not yet stored above which a connection stops reading (its client then waits). */
const QUEUE_BYTES = 256 * 1024;
/**
 * Replies written and not yet taken by the client above which a connection stops
 * reading until they drain: a client that sends lines and never reads its OKs would
 * otherwise grow our write buffer by 3 bytes per line, without bound.
 */
const REPLY_BYTES = 64 * 1024;

/**
 * Flume's netcat source: one event per `\n`-terminated line (a `\r` before it is
 * kept), "OK" once the line is stored in every required channel, "FAILED: <reason>"
 * when it is not. The lines that arrive together are stored in one transaction (Flume
 * uses one per line): the replies are the same, per line, in order, and the
 * throughput is not bound by a commit per line. The socket is paused while a batch
 * is stored, so a slow channel slows the client instead of growing a buffer.
 */
class NetcatSource implements EventDrivenSource {
  /** Warnings that can repeat per event, batch, retry or connection: first logged, then counted. */
  private readonly failures: RateLimitedLog;
  readonly kind = 'event-driven';
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly inflight = new Set<Promise<void>>();
  /** Connections waiting for their replies to drain; stop() releases them. */
  private readonly replyWaits = new Set<() => void>();
  private readonly decoder: TextDecoder | undefined;
  private stopping = false;
  /** Set when the grace period ended: queued input is no longer stored. */
  private abandoned = false;

  constructor(
    private readonly name: string,
    private readonly o: NetcatOptions,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
  ) {
    this.failures = new RateLimitedLog(this.logger);
    const enc = o.encoding.toLowerCase().replace(/_/g, '-');
    this.decoder = enc === 'utf-8' || enc === 'utf8' ? undefined : new TextDecoder(enc);
  }

  start(): Promise<void> {
    this.stopping = false;
    this.abandoned = false;
    return new Promise((resolve, reject) => {
      const server = net.createServer({ allowHalfOpen: true }, (s) => this.accept(s));
      server.once('error', reject);
      server.listen(this.o.port, this.o.bind, () => {
        server.off('error', reject);
        server.on('error', (err) => this.logger.error(`netcat source ${this.name}: ${err.message}`));
        this.server = server;
        const a = server.address() as net.AddressInfo;
        this.logger.info(`Source ${this.name} listening on ${a.address}:${a.port}`);
        resolve();
      });
    });
  }

  async stop(signal?: AbortSignal): Promise<void> {
    const closed = new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.stopping = true;
    for (const s of this.sockets) s.pause();
    for (const release of [...this.replyWaits]) release();
    // What was read before the pause is still stored (a store may start another),
    // until the grace period ends: then the rest is dropped, never acknowledged.
    const abandon = (): void => {
      this.abandoned = true;
      for (const s of this.sockets) s.destroy();
    };
    if (signal?.aborted) abandon();
    else signal?.addEventListener('abort', abandon, { once: true });
    while (this.inflight.size > 0 && !this.abandoned) await raceAbort(Promise.allSettled([...this.inflight]), signal);
    signal?.removeEventListener('abort', abandon);
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    this.counter.OpenConnectionCount = this.sockets.size;
    const max = this.o['max-line-length'];
    /** The start of a line whose end has not arrived yet. */
    let pending: Buffer | undefined;
    /** Reads not stored yet, in order. The socket is paused while they exceed QUEUE_BYTES. */
    let queue: Buffer[] = [];
    let queued = 0;
    let ended = false;
    /** Set once a too-long line was refused: the connection takes no more lines. */
    let refused = false;
    let pumping: Promise<void> | undefined;

    /** Appends the events of one read (or of the end of input) to `events`; false if a line was too long. */
    const cut = (chunk: Buffer | undefined, eof: boolean, events: FlumeEvent[]): boolean => {
      let data = chunk ?? EMPTY;
      let from = 0;
      if (pending) {
        // The line begun in an earlier read is completed in a buffer of its own, so the
        // rest of the lines can stay slices of this read.
        const nl = data.indexOf(NL);
        const head = Buffer.concat([pending, nl < 0 ? data : data.subarray(0, nl + 1)]);
        pending = undefined;
        const at = this.scan(head, 0, eof && nl < 0, events);
        if (at < 0) return false;
        if (nl < 0) {
          if (at < head.length) pending = head;
          return true;
        }
        from = nl + 1;
      }
      const at = this.scan(data, from, eof, events);
      if (at < 0) return false;
      // Copied: a partial line must not keep the whole read alive.
      if (at < data.length) pending = Buffer.from(data.subarray(at));
      return true;
    };

    /**
     * Stores what has been read, in order, while more keeps arriving: every read
     * waiting when a store finishes goes into the next one, so a fast client gets
     * large transactions and a slow one gets its lines stored as they come.
     */
    const pump = async (): Promise<void> => {
      while (!refused && (queue.length > 0 || ended)) {
        const chunks = queue;
        queue = [];
        queued = 0;
        const eof = ended;
        ended = false;
        if (socket.isPaused() && !eof && !this.stopping) socket.resume();
        const events: FlumeEvent[] = [];
        let ok = true;
        for (const c of chunks) if (!(ok = cut(c, false, events))) break;
        if (ok && eof) ok = cut(undefined, true, events);
        const batch = this.processor.maxBatchSize;
        for (let i = 0; i < events.length && !this.abandoned; i += batch) await this.store(socket, events.length <= batch ? events : events.slice(i, i + batch));
        if (this.abandoned) return;
        if (socket.writableLength > REPLY_BYTES && !socket.destroyed && !this.stopping) {
          // The client is not reading its replies: read no more from it until it does.
          socket.pause();
          await this.repliesDrained(socket);
          if (!this.stopping && !refused && queued <= QUEUE_BYTES) socket.resume();
        }
        if (!ok) {
          refused = true;
          pending = undefined;
          this.counter.EventReadFail++;
          this.failures.warn('too-long', `Client sent event exceeding the maximum length (source ${this.name}, ${socket.remoteAddress}:${socket.remotePort})`);
          socket.end(`FAILED: Event exceeds the maximum length (${max} chars, including newline)\n`);
        } else if (eof) socket.end();
      }
    };

    const kick = (): void => {
      if (pumping) return;
      const p = pump()
        .catch((err) => {
          this.failures.error('connection', `netcat source ${this.name}: ${(err as Error).message}`);
          socket.destroy();
        })
        .finally(() => {
          this.inflight.delete(p);
          pumping = undefined;
          if (!refused && !socket.destroyed && (queue.length > 0 || ended)) kick();
        });
      pumping = p;
      this.inflight.add(p);
    };

    socket.on('data', (chunk: Buffer) => {
      if (refused) return;
      queue.push(chunk);
      queued += chunk.length;
      if (queued > QUEUE_BYTES) socket.pause();
      kick();
    });
    socket.on('end', () => {
      ended = true;
      kick();
    });
    socket.on('error', (err) => this.logger.debug(`netcat source ${this.name}: client error: ${err.message}`));
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.counter.OpenConnectionCount = this.sockets.size;
    });
  }

  /** Resolves when the socket's write buffer drained, it closed, or the source stops. */
  private repliesDrained(socket: net.Socket): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        this.replyWaits.delete(done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
      this.replyWaits.add(done);
    });
  }

  private chars(b: Buffer): number {
    return this.decoder ? this.decoder.decode(b).length : b.toString('utf8').length;
  }

  /**
   * Appends an event for each complete line of `data` from `from` on (and for the
   * unterminated rest when `eof`). Returns where the unconsumed rest starts, or -1
   * when a line is longer than max-line-length: the lines before it are in `events`.
   */
  private scan(data: Buffer, from: number, eof: boolean, events: FlumeEvent[]): number {
    const max = this.o['max-line-length'];
    let start = from;
    for (;;) {
      const nl = data.indexOf(NL, start);
      const end = nl < 0 ? data.length : nl;
      // Only a line that may be too long is measured in characters.
      if (end - start + 1 > max && this.chars(data.subarray(start, end)) + 1 > max) return -1;
      if (nl < 0) break;
      events.push(this.event(data, start, nl));
      start = nl + 1;
    }
    if (eof && start < data.length) {
      events.push(this.event(data, start, data.length));
      start = data.length;
    }
    return start;
  }

  /**
   * A UTF-8 line is a slice of the read it came in: one small object per line, no
   * copy. Reads are buffers of their own, sized to what was read, so a line keeps at
   * most its own read alive. Other encodings are decoded into a UTF-8 body.
   */
  private event(data: Buffer, start: number, end: number): FlumeEvent {
    if (!this.decoder) return new SlicedEvent(data, start, end);
    return createEvent(Buffer.from(this.decoder.decode(data.subarray(start, end)), 'utf8'));
  }

  private async store(socket: net.Socket, events: FlumeEvent[]): Promise<void> {
    this.counter.EventReceivedCount += events.length;
    let reply: Buffer | string | undefined;
    try {
      await this.processor.processEventBatch(events);
      this.counter.EventAcceptedCount += events.length;
      if (this.o['ack-every-event']) reply = events.length === 1 ? OK : Buffer.alloc(3 * events.length, OK);
    } catch (err) {
      this.counter.ChannelWriteFail++;
      this.failures.warn('process', `Error processing event. ${(err as Error).message}`);
      reply = `FAILED: ${(err as Error).message}\n`.repeat(events.length);
    }
    if (reply !== undefined && !socket.destroyed && socket.writable) socket.write(reply);
  }
}

export default defineSource({
  type: 'netcat',
  aliases: ['org.apache.flume.source.NetcatSource'],
  description: 'Listens on a TCP port and turns each line of text into an event.',
  options,
  listens: (o) => [{ host: o.bind, port: o.port, protocol: 'tcp' }],
  create: ({ name, options, processor, counter, logger }) => new NetcatSource(name, options, processor, counter, logger),
});
