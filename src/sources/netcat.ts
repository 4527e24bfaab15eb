import net from 'node:net';
import { TextDecoder } from 'node:util';
import { defineSource, opt, type ChannelProcessor, type EventDrivenSource, type FlumeEvent, type Logger, type Options, type SourceCounter } from '../plugin-api/index.js';

export const options = {
  bind: opt.requiredString('Address to listen on.'),
  port: opt.requiredInteger('TCP port to listen on.', { min: 0, max: 65535 }),
  'max-line-length': opt.integer(512, 'Longest line accepted, in characters including the newline.', { min: 1 }),
  'ack-every-event': opt.boolean(true, 'Reply "OK" after each event is stored.'),
  encoding: opt.string('utf-8', 'Character set of the incoming text; bodies are stored as UTF-8.'),
};

type NetcatOptions = Options<typeof options>;
const NL = 0x0a;
const OK = Buffer.from('OK\n');

/**
 * Flume's netcat source: one event per `\n`-terminated line (a `\r` before it is
 * kept), "OK" once the line is stored in every required channel, "FAILED: <reason>"
 * when it is not. The lines that arrive together are stored in one transaction (Flume
 * uses one per line): the replies are the same, per line, in order, and the
 * throughput is not bound by a commit per line. The socket is paused while a batch
 * is stored, so a slow channel slows the client instead of growing a buffer.
 */
class NetcatSource implements EventDrivenSource {
  readonly kind = 'event-driven';
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly decoder: TextDecoder | undefined;

  constructor(
    private readonly name: string,
    private readonly o: NetcatOptions,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
  ) {
    const enc = o.encoding.toLowerCase().replace(/_/g, '-');
    this.decoder = enc === 'utf-8' || enc === 'utf8' ? undefined : new TextDecoder(enc);
  }

  start(): Promise<void> {
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

  async stop(): Promise<void> {
    const closed = new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    for (const s of this.sockets) s.pause();
    await Promise.allSettled([...this.inflight]);
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    this.counter.OpenConnectionCount = this.sockets.size;
    let pending: Buffer | undefined;
    const max = this.o['max-line-length'];

    const handle = async (chunk: Buffer | undefined, eof: boolean): Promise<void> => {
      const data = pending && chunk ? Buffer.concat([pending, chunk]) : (pending ?? chunk ?? Buffer.alloc(0));
      pending = undefined;
      // Line boundaries first, as offsets into `data`; the bodies are made in one copy below.
      const ends: number[] = [];
      let start = 0;
      let tooLong = false;
      for (;;) {
        const nl = data.indexOf(NL, start);
        const end = nl < 0 ? data.length : nl;
        // Only a line that may be too long is measured in characters.
        if (end - start + 1 > max && this.chars(data.subarray(start, end)) + 1 > max) {
          tooLong = true;
          break;
        }
        if (nl < 0) break;
        ends.push(nl);
        start = nl + 1;
      }
      if (!tooLong && start < data.length) {
        if (eof) {
          ends.push(data.length);
          start = data.length;
        } else {
          pending = Buffer.from(data.subarray(start));
        }
      }
      const events = this.toEvents(data, ends);
      const batch = this.processor.maxBatchSize;
      for (let i = 0; i < events.length; i += batch) await this.store(socket, events.length <= batch ? events : events.slice(i, i + batch));
      if (tooLong) {
        this.counter.EventReadFail++;
        this.logger.warn(`Client sent event exceeding the maximum length (source ${this.name}, ${socket.remoteAddress}:${socket.remotePort})`);
        socket.end(`FAILED: Event exceeds the maximum length (${max} chars, including newline)\n`);
        pending = undefined;
      }
    };

    let chain: Promise<void> = Promise.resolve();
    const run = (chunk: Buffer | undefined, eof: boolean): void => {
      socket.pause();
      const p = chain.then(() => handle(chunk, eof)).catch((err) => {
        this.logger.error(`netcat source ${this.name}: ${(err as Error).message}`);
        socket.destroy();
      });
      chain = p;
      this.inflight.add(p);
      void p.finally(() => {
        this.inflight.delete(p);
        if (eof) socket.end();
        else if (!socket.destroyed) socket.resume();
      });
    };
    socket.on('data', (chunk: Buffer) => run(chunk, false));
    socket.on('end', () => run(undefined, true));
    socket.on('error', (err) => this.logger.debug(`netcat source ${this.name}: client error: ${err.message}`));
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.counter.OpenConnectionCount = this.sockets.size;
    });
  }

  private chars(b: Buffer): number {
    return this.decoder ? this.decoder.decode(b).length : b.toString('utf8').length;
  }

  /**
   * One event per line ending at each of `ends`. The complete lines are copied out of
   * the socket chunk once (the chunk must not be pinned by the channel) and each body
   * is a view of that copy: one allocation per read, not one per line.
   */
  private toEvents(data: Buffer, ends: number[]): FlumeEvent[] {
    const events = new Array<FlumeEvent>(ends.length);
    if (ends.length === 0) return events;
    if (this.decoder) {
      let s = 0;
      for (let i = 0; i < ends.length; i++) {
        events[i] = { headers: {}, body: Buffer.from(this.decoder.decode(data.subarray(s, ends[i])), 'utf8') };
        s = ends[i]! + 1;
      }
      return events;
    }
    const last = ends[ends.length - 1]!;
    const block = Buffer.allocUnsafe(last);
    data.copy(block, 0, 0, last);
    let s = 0;
    for (let i = 0; i < ends.length; i++) {
      events[i] = { headers: {}, body: block.subarray(s, ends[i]) };
      s = ends[i]! + 1;
    }
    return events;
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
      this.logger.warn(`Error processing event. ${(err as Error).message}`);
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
  create: ({ name, options, processor, counter, logger }) => new NetcatSource(name, options, processor, counter, logger),
});
