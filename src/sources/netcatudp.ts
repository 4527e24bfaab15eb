import dgram from 'node:dgram';
import net from 'node:net';
import { RateLimitedLog, defineSource, opt, type ChannelProcessor, type EventDrivenSource, type Logger, type Options, type SourceCounter } from '../plugin-api/index.js';

export const options = {
  bind: opt.string('0.0.0.0', 'Address to listen on.'),
  port: opt.requiredInteger('UDP port to listen on.', { min: 0, max: 65535 }),
  remoteAddress: opt.optionalString("Header that receives the sender address (/ip:port). Flume's guide calls it remoteAddressHeader; both spellings are read. Unset: no header.", {
    aliases: ['remoteAddressHeader'],
  }),
};

/**
 * Flume's netcatudp source: one datagram is one event, its body the bytes up to the
 * first newline. UDP has no acknowledgement, so a datagram that cannot be stored is
 * counted and logged.
 */
class NetcatUdpSource implements EventDrivenSource {
  readonly kind = 'event-driven';
  private socket: dgram.Socket | undefined;
  private inflight = new Set<Promise<void>>();
  /** A full channel refuses every datagram of a burst: one line, then a count. */
  private readonly warnings: RateLimitedLog;

  constructor(
    private readonly name: string,
    private readonly o: Options<typeof options>,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
  ) {
    this.warnings = new RateLimitedLog(logger);
  }

  start(): Promise<void> {
    const type = net.isIPv6(this.o.bind) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket(type);
    socket.on('message', (msg, rinfo) => {
      const nl = msg.indexOf(0x0a);
      const body = Buffer.from(nl < 0 ? msg : msg.subarray(0, nl));
      const headers: Record<string, string> = {};
      if (this.o.remoteAddress) headers[this.o.remoteAddress] = `/${rinfo.address}:${rinfo.port}`;
      this.counter.EventReceivedCount++;
      const p = this.processor.processEvent({ headers, body }).then(
        () => {
          this.counter.EventAcceptedCount++;
        },
        (err: Error) => {
          this.counter.ChannelWriteFail++;
          this.warnings.warn('process', `Error processing datagram from ${rinfo.address}:${rinfo.port}: ${err.message}`);
        },
      );
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.o.port, this.o.bind, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.logger.error(`netcatudp source ${this.name}: ${err.message}`));
        this.socket = socket;
        const a = socket.address();
        this.logger.info(`Source ${this.name} listening on udp ${a.address}:${a.port}`);
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.socket ? this.socket.close(() => r()) : r()));
    await Promise.allSettled([...this.inflight]);
    this.warnings.flush();
  }
}

export default defineSource({
  type: 'netcatudp',
  aliases: ['org.apache.flume.source.NetcatUdpSource'],
  description: 'Listens on a UDP port and turns each datagram into an event.',
  options,
  listens: (o) => [{ host: o.bind, port: o.port, protocol: 'udp' }],
  create: ({ name, options, processor, counter, logger }) => new NetcatUdpSource(name, options, processor, counter, logger),
});
