import { defineSource, opt, type ChannelProcessor, type Context, type EventDrivenSource, type Logger, type OptionProblem, type Options, type SourceCounter } from '../../plugin-api/index.js';
import { SERVER_TLS_OPTIONS, serverTlsOptions, serverTlsProblems } from '../../rpc/tls.js';
import { CLIENT_OPTIONS, KEEP_FIELDS_OPTION, SyslogTcpListener } from './common.js';
import { SyslogParser, parseKeepFields } from './parser.js';

export const options = {
  host: opt.optionalString('Address to listen on; unset: every interface.'),
  port: opt.requiredInteger('TCP port to listen on.', { min: 0, max: 65535 }),
  eventSize: opt.integer(2500, 'Longest message in bytes; a longer one is cut there and marked flume.syslog.status = Incomplete.', { min: 10, max: 16 * 1024 * 1024 }),
  keepFields: KEEP_FIELDS_OPTION,
  ...CLIENT_OPTIONS,
  ...SERVER_TLS_OPTIONS,
};

type SyslogTcpOptions = Options<typeof options>;

/**
 * Flume's syslogtcp source: syslog messages over TCP, one per line or RFC 6587
 * octet-counted frame, parsed as RFC 5424 or RFC 3164 (see parser.ts).
 */
class SyslogTcpSource implements EventDrivenSource {
  readonly kind = 'event-driven';
  private readonly listener: SyslogTcpListener;

  constructor(name: string, o: SyslogTcpOptions, ctx: Context, processor: ChannelProcessor, counter: SourceCounter, logger: Logger) {
    const keep = parseKeepFields(o.keepFields);
    this.listener = new SyslogTcpListener(
      {
        name,
        host: o.host,
        port: o.port,
        ...(o.ssl ? { tls: serverTlsOptions(ctx, o) } : {}),
        eventSize: o.eventSize,
        batchSize: processor.maxBatchSize,
        clientIPHeader: o.clientIPHeader,
        clientHostnameHeader: o.clientHostnameHeader,
        newParser: () => new SyslogParser({ keep }),
      },
      processor,
      counter,
      logger,
    );
  }

  start(): Promise<void> {
    return this.listener.start();
  }

  stop(): Promise<void> {
    return this.listener.stop();
  }
}

export default defineSource({
  type: 'syslogtcp',
  aliases: ['org.apache.flume.source.SyslogTcpSource'],
  description: 'Receives syslog messages (RFC 5424 and RFC 3164) over TCP, newline-framed or octet-counted.',
  options,
  listens: (o) => [{ host: o.host ?? '0.0.0.0', port: o.port, protocol: 'tcp' }],
  validate(o, ctx) {
    const problems: OptionProblem[] = [];
    serverTlsProblems(ctx, o, problems);
    return problems;
  },
  create: ({ name, options, context, processor, counter, logger }) => new SyslogTcpSource(name, options, context, processor, counter, logger),
});
