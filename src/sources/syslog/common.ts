/**
 * What the syslog sources share: their common keys, the TCP listener (one per port:
 * connections, framing, batching, backpressure) and the client headers.
 */
import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import { ChannelError, RateLimitedLog, opt, sleep, type ChannelProcessor, type FlumeEvent, type Logger, type SourceCounter } from '../../plugin-api/index.js';
import { SyslogFramer, type MessageSink } from './parser.js';

export const KEEP_FIELDS_OPTION = opt.string(
  'none',
  'What of the syslog header stays in the body: none (or false), all (or true: the whole message), or any of "priority version timestamp hostname".',
);
export const CLIENT_OPTIONS = {
  clientIPHeader: opt.optionalString("Header that receives the client's IP address (e.g. 10.0.0.5). Unset: no header."),
  clientHostnameHeader: opt.optionalString("Header that receives the client's host name, looked up once per connection (per sender for UDP). Unset: no header."),
};

/** Bytes read and not yet stored above which a connection stops reading, so its sender waits. */
export const QUEUE_BYTES = 256 * 1024;
/** Connections one port serves at once; more are refused (closed at once) and logged. */
export const MAX_CONNECTIONS = 1024;

/** The address as Java prints it: IPv4 without the IPv6 mapping prefix. */
export function plainAddress(a: string | undefined): string {
  if (!a) return '';
  return a.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

/** The host name of an address (getnameinfo: /etc/hosts, then DNS); the address itself when there is none. */
export async function hostnameOf(address: string): Promise<string> {
  try {
    return (await dns.promises.lookupService(address, 0)).hostname;
  } catch {
    return address;
  }
}

/** Parses one message into an event (a syslog flavour bound to its options). */
export interface MessageParser {
  /** Whether the last message parsed was Invalid. */
  readonly invalid: boolean;
  /** The event of one message; `extra` are headers to add, as [name, value, ...]. */
  parse(buf: Buffer, start: number, end: number, incomplete: boolean, extra?: readonly string[]): FlumeEvent;
}

export interface ListenerConfig {
  /** Source name, for logs. */
  name: string;
  /** undefined: every interface. */
  host: string | undefined;
  port: number;
  tls?: tls.SecureContextOptions;
  eventSize: number;
  /** Most events per channel transaction. */
  batchSize: number;
  clientIPHeader?: string | undefined;
  clientHostnameHeader?: string | undefined;
  /** Header that receives the local port (multiport's portHeader). */
  portHeader?: string | undefined;
  /** A parser per connection (its caches are per stream). */
  newParser(): MessageParser;
}

/**
 * One listening TCP port of a syslog source. Each connection is cut into messages
 * as it arrives; the messages of the reads waiting when a store finishes go into the
 * next one (in transactions of at most batchSize). While a connection's unstored
 * reads exceed QUEUE_BYTES it is paused; when a channel refuses a batch the batch is
 * retried (backing off up to a second) with the connection paused, so a full
 * channel slows the sender instead of losing its messages. Syslog has no reply to
 * send, so that is the only signal the sender gets.
 */
export class SyslogTcpListener {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly inflight = new Set<Promise<void>>();
  private stopping = false;
  private readonly warnings: RateLimitedLog;

  constructor(
    private readonly c: ListenerConfig,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
  ) {
    this.warnings = new RateLimitedLog(logger);
  }

  /** The port bound (the configured one, or the one picked for 0). */
  get boundPort(): number {
    return (this.server?.address() as net.AddressInfo | null)?.port ?? this.c.port;
  }

  start(): Promise<void> {
    this.stopping = false;
    return new Promise((resolve, reject) => {
      const onConn = (s: net.Socket): void => this.accept(s);
      const server = this.c.tls ? tls.createServer({ ...this.c.tls, allowHalfOpen: true }, onConn) : net.createServer({ allowHalfOpen: true }, onConn);
      server.maxConnections = MAX_CONNECTIONS;
      server.on('drop', (d) => this.warnings.warn('drop', `Syslog source ${this.c.name}: refused a connection from ${d?.remoteAddress ?? '?'}: ${MAX_CONNECTIONS} connections are open`));
      if (this.c.tls) server.on('tlsClientError', (err) => this.warnings.warn('tls', `Syslog source ${this.c.name}: TLS handshake failed: ${err.message}`));
      server.once('error', reject);
      const listening = (): void => {
        server.off('error', reject);
        server.on('error', (err) => this.logger.error(`Syslog source ${this.c.name}: ${err.message}`));
        this.server = server;
        const a = server.address() as net.AddressInfo;
        this.logger.info(`Syslog TCP source ${this.c.name} listening on ${a.address}:${a.port}${this.c.tls ? ' (TLS)' : ''}`);
        resolve();
      };
      if (this.c.host === undefined) server.listen(this.c.port, listening);
      else server.listen(this.c.port, this.c.host, listening);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    for (const s of this.sockets) s.pause();
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    for (const s of this.sockets) s.destroy();
    await closed;
    this.warnings.flush();
  }

  private accept(socket: net.Socket): void {
    const c = this.c;
    this.sockets.add(socket);
    this.counter.OpenConnectionCount = this.sockets.size;
    const framer = new SyslogFramer(c.eventSize, true);
    const parser = c.newParser();
    const ip = plainAddress(socket.remoteAddress);
    const localPort = String(socket.localPort ?? c.port);
    /** The connection's own headers (port, client), made once its host name is known. */
    let extra: string[] | undefined;
    /** The events cut but not stored yet. */
    let events: FlumeEvent[] = [];
    const sink: MessageSink = {
      message: (buf, start, end, incomplete) => {
        const event = parser.parse(buf, start, end, incomplete, extra);
        if (parser.invalid) {
          this.counter.EventReadFail++;
          this.warnings.warn('invalid', `Syslog source ${c.name}: a message from ${ip} is not valid syslog; kept with flume.syslog.status = Invalid`);
        } else if (incomplete) {
          this.warnings.warn('incomplete', `Syslog source ${c.name}: a message from ${ip} is longer than eventSize (${c.eventSize} bytes); cut there, marked Incomplete`);
        }
        events.push(event);
      },
    };
    let queue: Buffer[] = [];
    let queued = 0;
    let ended = false;
    let pumping: Promise<void> | undefined;

    const pump = async (): Promise<void> => {
      if (extra === undefined) {
        extra = [];
        if (c.portHeader !== undefined) extra.push(c.portHeader, localPort);
        if (c.clientIPHeader !== undefined) extra.push(c.clientIPHeader, ip);
        if (c.clientHostnameHeader !== undefined) extra.push(c.clientHostnameHeader, await hostnameOf(ip));
      }
      while (queue.length > 0 || ended) {
        const chunks = queue;
        queue = [];
        queued = 0;
        const eof = ended;
        ended = false;
        if (socket.isPaused() && !eof && !this.stopping) socket.resume();
        for (const chunk of chunks) framer.push(chunk, sink);
        if (eof) framer.end(sink);
        const batch = events;
        events = [];
        for (let i = 0; i < batch.length; i += c.batchSize) await this.store(socket, batch.length <= c.batchSize ? batch : batch.slice(i, i + c.batchSize));
        if (eof) socket.end();
      }
      // A store that met a full channel paused the socket; all read so far is stored now.
      if (socket.isPaused() && !this.stopping && !socket.destroyed) socket.resume();
    };
    const kick = (): void => {
      if (pumping) return;
      const p = pump()
        .catch((err) => {
          this.logger.error(`Syslog source ${c.name}: ${(err as Error).message}`);
          socket.destroy();
        })
        .finally(() => {
          this.inflight.delete(p);
          pumping = undefined;
          if (!socket.destroyed && (queue.length > 0 || ended)) kick();
        });
      pumping = p;
      this.inflight.add(p);
    };
    socket.on('data', (chunk: Buffer) => {
      queue.push(chunk);
      queued += chunk.length;
      if (queued > QUEUE_BYTES) socket.pause();
      kick();
    });
    socket.on('end', () => {
      ended = true;
      kick();
    });
    socket.on('error', (err) => this.logger.debug(`Syslog source ${c.name}: client ${ip}: ${err.message}`));
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.counter.OpenConnectionCount = this.sockets.size;
    });
  }

  /**
   * Stores a batch, retrying while the channel refuses it: the connection stays
   * paused meanwhile (its reads pile up only to QUEUE_BYTES). When the source stops
   * with the channel still full, the batch is given up, counted and logged.
   */
  private async store(socket: net.Socket, batch: FlumeEvent[]): Promise<void> {
    this.counter.EventReceivedCount += batch.length;
    let wait = 10;
    for (;;) {
      try {
        await this.processor.processEventBatch(batch);
        this.counter.EventAcceptedCount += batch.length;
        return;
      } catch (err) {
        this.counter.ChannelWriteFail++;
        if (!(err instanceof ChannelError) || this.stopping) {
          this.logger.error(`Syslog source ${this.c.name}: ${batch.length} message(s) not stored: ${(err as Error).message}`);
          if (!(err instanceof ChannelError)) this.counter.GenericProcessingFail++;
          return;
        }
        this.warnings.warn('full', `Syslog source ${this.c.name}: channel refused ${batch.length} message(s) (${(err as Error).message}); reading paused, retrying`);
        socket.pause();
        await sleep(wait);
        wait = Math.min(wait * 2, 1000);
      }
    }
  }
}
