import dgram from 'node:dgram';
import os from 'node:os';
import type { CounterGroup } from '../core/counters.js';
import type { Logger } from '../core/logger.js';
import { defineReporter, ErrorCodes, opt } from '../plugin-api/index.js';
import { flumeMetrics } from './flume-json.js';

/**
 * Flume's Ganglia reporter: every pollFrequency seconds each attribute goes to each
 * gmond as an XDR-encoded gmetric packet (Ganglia 3.1: a metadata message, id 128,
 * in group "flume", then a string value message, id 133; Ganglia 3.0 when asked).
 * Named `flume.<TYPE>.<component>.<Attribute>`; type "float" when the value parses as
 * one, else "string"; units empty, slope 3, tmax 60, dmax 0, as Flume sends them.
 * Written by hand: the format is a few fixed fields, and the npm gmetric clients are unmaintained.
 */
export class GangliaReporter {
  private readonly socket = dgram.createSocket('udp4');
  private timer: NodeJS.Timeout | undefined;
  private readonly hostname = os.hostname();

  constructor(
    private readonly hosts: readonly { host: string; port: number }[],
    private readonly pollSeconds: number,
    private readonly ganglia3: boolean,
    private readonly groups: () => readonly CounterGroup[],
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.socket.on('error', (err) => this.logger.warn(`Could not send metrics to Ganglia: ${err.message}`));
    this.socket.unref();
    const tick = (): void => {
      this.report();
      this.timer = setTimeout(tick, this.pollSeconds * 1000);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.socket.close();
  }

  /** Sends one round of every attribute. */
  report(): void {
    for (const [component, attrs] of Object.entries(flumeMetrics(this.groups()))) {
      for (const [attr, value] of Object.entries(attrs)) {
        const name = `flume.${component}.${attr}`;
        if (this.ganglia3) this.send(ganglia30Message(`${this.hostname}.${name}`, value));
        else for (const m of ganglia31Messages(this.hostname, name, value)) this.send(m);
      }
    }
  }

  private send(packet: Buffer): void {
    for (const h of this.hosts) this.socket.send(packet, h.port, h.host);
  }
}

/** Java's Float.parseFloat accepts this value (Flume's float-or-string rule). */
function isFloat(v: string): boolean {
  return /^[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?)$/.test(v.trim());
}

class Xdr {
  private readonly parts: Buffer[] = [];
  int(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    this.parts.push(b);
    return this;
  }
  string(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    this.int(bytes.length);
    this.parts.push(bytes, Buffer.alloc((4 - (bytes.length % 4)) % 4));
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const UNITS = '';
const SLOPE = 3;
const TMAX = 60;
const DMAX = 0;

export function ganglia31Messages(host: string, name: string, value: string): [Buffer, Buffer] {
  const type = isFloat(value) ? 'float' : 'string';
  const meta = new Xdr().int(128).string(host).string(name).int(0).string(type).string(name).string(UNITS).int(SLOPE).int(TMAX).int(DMAX).int(1).string('GROUP').string('flume').done();
  const val = new Xdr().int(133).string(host).string(name).int(0).string('%s').string(value).done();
  return [meta, val];
}

export function ganglia30Message(name: string, value: string): Buffer {
  const type = isFloat(value) ? 'float' : 'string';
  return new Xdr().int(0).string(type).string(name).string(value).string(UNITS).int(SLOPE).int(TMAX).int(DMAX).done();
}

const options = {
  hosts: opt.requiredString('The gmond daemons to send to: host:port[,host:port...].'),
  pollFrequency: opt.duration(60, 'Seconds between two rounds of metrics.', { unit: 's', min: 1, max: 86_400 }),
  isGanglia3: opt.boolean(false, 'Send the Ganglia 3.0 format instead of 3.1.'),
};

/** `host:port,host:port` → addresses; throws naming the bad entry. */
export function gangliaHosts(raw: string): { host: string; port: number }[] {
  const hosts = raw
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)
    .map((h) => {
      const m = /^(.+):(\d+)$/.exec(h);
      const port = m ? Number(m[2]) : NaN;
      if (!m || port < 1 || port > 65535) throw new Error(`"${h}" is not host:port`);
      return { host: m[1]!, port };
    });
  if (hosts.length === 0) throw new Error('no host given');
  return hosts;
}

export const ganglia = defineReporter({
  type: 'ganglia',
  aliases: ['org.apache.flume.instrumentation.GangliaServer'],
  description: 'Sends every counter to gmond as Ganglia 3.1 (or 3.0) gmetric packets.',
  options,
  validate(o, ctx) {
    try {
      gangliaHosts(o.hosts);
      return [];
    } catch (e) {
      return [{ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'hosts', message: `${ctx.fullKey('hosts')}: ${(e as Error).message}` }];
    }
  },
  async create({ options: o, agent, logger }) {
    const reporter = new GangliaReporter(gangliaHosts(o.hosts), o.pollFrequency, o.isGanglia3, () => agent.counterGroups(), logger);
    reporter.start();
    return { description: `ganglia ${o.isGanglia3 ? '3.0' : '3.1'} to ${o.hosts} every ${o.pollFrequency} s`, stop: () => reporter.stop() };
  },
});
