import dgram from 'node:dgram';
import net from 'node:net';
import { RateLimitedLog, defineSource, opt, type ChannelProcessor, type EventDrivenSource, type FlumeEvent, type Logger, type Options, type SourceCounter } from '../../plugin-api/index.js';
import { CLIENT_OPTIONS, KEEP_FIELDS_OPTION, hostnameOf, plainAddress } from './common.js';
import { SyslogFramer, SyslogParser, parseKeepFields, type MessageSink } from './parser.js';

export const options = {
  host: opt.optionalString('Address to listen on; unset: every interface.'),
  port: opt.requiredInteger('UDP port to listen on.', { min: 0, max: 65535 }),
  keepFields: KEEP_FIELDS_OPTION,
  ...CLIENT_OPTIONS,
};

/** A datagram is at most 64 KiB (RFC 5426), so no message is longer. */
const MAX_DATAGRAM = 65536;
/** Events received while a store runs, above which datagrams are dropped (and counted) until it ends. */
const MAX_WAITING = 10_000;
/** Senders whose host names are remembered. */
const HOSTNAME_CACHE = 1024;

/**
 * Flume's syslogudp source: each datagram holds one message (or several, one per
 * line). UDP cannot be slowed down: while the channel refuses events, or while more
 * than MAX_WAITING events wait for a store, datagrams are dropped, counted in
 * ChannelWriteFail and logged at most once per interval.
 */
class SyslogUdpSource implements EventDrivenSource, MessageSink {
  readonly kind = 'event-driven';
  private socket: dgram.Socket | undefined;
  private readonly parser: SyslogParser;
  private readonly framer = new SyslogFramer(MAX_DATAGRAM, false);
  private readonly warnings: RateLimitedLog;
  private waiting: FlumeEvent[] = [];
  private storing: Promise<void> | undefined;
  private readonly hostnames = new Map<string, string>();
  private sender = '';
  private senderName = '';
  /** The current datagram's client headers, as [name, value, ...]. */
  private extra: string[] | undefined;

  constructor(
    private readonly name: string,
    private readonly o: Options<typeof options>,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
  ) {
    this.parser = new SyslogParser({ keep: parseKeepFields(o.keepFields) });
    this.warnings = new RateLimitedLog(logger);
  }

  start(): Promise<void> {
    const host = this.o.host;
    const socket = dgram.createSocket(host !== undefined && net.isIPv6(host) ? 'udp6' : 'udp4');
    socket.on('message', (msg, rinfo) => this.datagram(msg, rinfo.address));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.o.port, host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.logger.error(`Syslog UDP source ${this.name}: ${err.message}`));
        this.socket = socket;
        const a = socket.address();
        this.logger.info(`Syslog UDP source ${this.name} listening on ${a.address}:${a.port}`);
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.socket ? this.socket.close(() => r()) : r()));
    while (this.storing !== undefined) await this.storing;
    this.warnings.flush();
  }

  private datagram(msg: Buffer, address: string): void {
    if (this.waiting.length >= MAX_WAITING) {
      this.counter.ChannelWriteFail++;
      this.warnings.warn('full', `Syslog UDP source ${this.name}: datagram from ${address} dropped: ${MAX_WAITING} messages wait for the channel`);
      return;
    }
    this.sender = plainAddress(address);
    const hn = this.o.clientHostnameHeader;
    if (hn !== undefined) {
      const known = this.hostnames.get(this.sender);
      if (known === undefined) {
        // Looked up once per sender; this datagram carries the address meanwhile.
        const ip = this.sender;
        if (this.hostnames.size >= HOSTNAME_CACHE) this.hostnames.clear();
        this.hostnames.set(ip, ip);
        void hostnameOf(ip).then((h) => this.hostnames.set(ip, h));
      }
      this.senderName = known ?? this.sender;
    }
    const o = this.o;
    this.extra = undefined;
    if (o.clientIPHeader !== undefined || o.clientHostnameHeader !== undefined) {
      this.extra = [];
      if (o.clientIPHeader !== undefined) this.extra.push(o.clientIPHeader, this.sender);
      if (o.clientHostnameHeader !== undefined) this.extra.push(o.clientHostnameHeader, this.senderName);
    }
    this.framer.whole(msg, this);
    this.flush();
  }

  /** One message of the current datagram (MessageSink). */
  message(buf: Buffer, start: number, end: number, incomplete: boolean): void {
    const event = this.parser.parse(buf, start, end, incomplete, this.extra);
    if (this.parser.invalid) {
      this.counter.EventReadFail++;
      this.warnings.warn('invalid', `Syslog UDP source ${this.name}: a message from ${this.sender} is not valid syslog; kept with flume.syslog.status = Invalid`);
    }
    this.waiting.push(event);
  }

  /** Stores what waits, one transaction at a time (datagrams arriving meanwhile go into the next). */
  private flush(): void {
    if (this.storing || this.waiting.length === 0) return;
    const batch = this.waiting.length <= this.processor.maxBatchSize ? this.waiting : this.waiting.slice(0, this.processor.maxBatchSize);
    this.waiting = batch === this.waiting ? [] : this.waiting.slice(batch.length);
    this.counter.EventReceivedCount += batch.length;
    this.storing = this.processor
      .processEventBatch(batch)
      .then(
        () => {
          this.counter.EventAcceptedCount += batch.length;
        },
        (err: Error) => {
          this.counter.ChannelWriteFail++;
          this.warnings.warn('store', `Syslog UDP source ${this.name}: ${batch.length} message(s) dropped: ${err.message}`);
        },
      )
      .finally(() => {
        this.storing = undefined;
        this.flush();
      });
  }
}

export default defineSource({
  type: 'syslogudp',
  aliases: ['org.apache.flume.source.SyslogUDPSource'],
  description: 'Receives syslog messages (RFC 5424 and RFC 3164) in UDP datagrams.',
  options,
  listens: (o) => [{ host: o.host ?? '0.0.0.0', port: o.port, protocol: 'udp' }],
  create: ({ name, options, processor, counter, logger }) => new SyslogUdpSource(name, options, processor, counter, logger),
});
