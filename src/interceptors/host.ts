import { promises as dns } from 'node:dns';
import os from 'node:os';
import { defineInterceptor, opt, type FlumeEvent, type Logger } from '../plugin-api/index.js';

export const options = {
  hostHeader: opt.string('host', 'Header that receives the host.'),
  useIP: opt.boolean(true, 'Use the IP address of this host; false uses its canonical host name.'),
  preserveExisting: opt.boolean(false, 'Leave the header alone when the event already has it.'),
};

/**
 * What Java's InetAddress.getLocalHost() gives: the host name resolved to an
 * address, or (useIP=false) that address's canonical name, falling back to the
 * address when the reverse lookup finds nothing. Undefined when the name does not resolve.
 */
export async function localHost(useIP: boolean, logger: Logger): Promise<string | undefined> {
  const name = os.hostname();
  let address: string;
  try {
    address = (await dns.lookup(name)).address;
  } catch (err) {
    logger.warn(`Could not get local host address (${name}): ${(err as Error).message}; no host header will be set`);
    return undefined;
  }
  if (useIP) return address;
  try {
    return (await dns.lookupService(address, 0)).hostname;
  } catch {
    return address;
  }
}

/**
 * Flume's HostInterceptor: the host is looked up once, when the source starts, and
 * the same string is put on every event.
 */
class HostInterceptor {
  private host: string | undefined;
  constructor(
    private readonly header: string,
    private readonly useIP: boolean,
    private readonly preserveExisting: boolean,
    private readonly logger: Logger,
  ) {}

  async initialize(): Promise<void> {
    this.host = await localHost(this.useIP, this.logger);
  }

  intercept(events: FlumeEvent[]): FlumeEvent[] {
    const host = this.host;
    if (host === undefined) return events;
    const header = this.header;
    for (let i = 0; i < events.length; i++) {
      const h = events[i]!.headers;
      if (this.preserveExisting && Object.hasOwn(h, header)) continue;
      h[header] = host;
    }
    return events;
  }
}

export default defineInterceptor({
  type: 'host',
  aliases: ['org.apache.flume.interceptor.HostInterceptor', 'org.apache.flume.interceptor.HostInterceptor$Builder'],
  description: "Adds the IP address (or host name) of the agent's host as a header.",
  options,
  create: ({ options: o, logger }) => new HostInterceptor(o.hostHeader, o.useIP, o.preserveExisting, logger),
});
