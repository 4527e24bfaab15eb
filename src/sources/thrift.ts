import { ErrorCodes, defineSource, opt, type Context, type Logger, type OptionProblem, type Options } from '../plugin-api/index.js';
import { ThriftRpcServer } from '../rpc/thrift/server.js';
import { CALL_LIMIT_OPTIONS, RpcSource, type RpcSourceProtocol } from '../rpc/rpc-source.js';
import { SERVER_TLS_OPTIONS, serverTlsOptions, serverTlsProblems } from '../rpc/tls.js';

export const options = {
  bind: opt.requiredString('Address to listen on (0.0.0.0 for every interface).'),
  port: opt.requiredInteger('TCP port to listen on (0 picks a free one and logs it).', { min: 0, max: 65535 }),
  threads: opt.optionalInteger('Accepted for compatibility; no effect: one event loop serves every connection (the calls of one connection are answered in order).', { min: 0 }),
  protocol: opt.enum(['compact', 'binary'], 'compact', "Thrift protocol; it must match the sender's (Flume selects binary only for the exact lowercase word; here any case works)."),
  kerberos: opt.boolean(false, 'SASL/GSSAPI authentication: not supported; true is refused.'),
  'agent-principal': opt.optionalString('Kerberos principal of the agent (only with kerberos, which is not supported).'),
  'agent-keytab': opt.optionalString('Kerberos keytab of the agent (only with kerberos, which is not supported).'),
  ...SERVER_TLS_OPTIONS,
  ...CALL_LIMIT_OPTIONS,
};

type ThriftSourceOptions = Options<typeof options>;

function thriftProtocol(name: string, o: ThriftSourceOptions, ctx: Context, logger: Logger): RpcSourceProtocol<ThriftRpcServer> {
  return {
    label: 'Thrift',
    describe: `protocol ${o.protocol}, ssl ${o.ssl ? 'on' : 'off'}`,
    makeServer(handler, bounds) {
      const tlsOptions = o.ssl ? serverTlsOptions(ctx, o) : undefined;
      if (o.threads !== undefined) logger.debug(`Thrift source ${name}: threads = ${o.threads} has no effect (one event loop serves every connection)`);
      return new ThriftRpcServer(
        {
          host: o.bind,
          port: o.port,
          protocol: o.protocol,
          ...(tlsOptions ? { tls: tlsOptions } : {}),
          callLimits: { maxEvents: bounds.maxEvents, maxBytes: o['max-call-bytes'] },
          onCallRefused: bounds.onCallRefused,
          maxTotalFrameBytes: o['max-total-frame-bytes'],
          logger,
        },
        handler,
      );
    },
    serverCounts: (server) => ({ open: server.counters.connectionsOpen, readFails: server.counters.connectionsFailed + server.counters.exceptions }),
  };
}

export default defineSource({
  type: 'thrift',
  aliases: ['org.apache.flume.source.ThriftSource'],
  description: "Receives events over Flume's Thrift RPC (ThriftSourceProtocol, framed transport, compact or binary protocol).",
  options,
  listens: (o) => [{ host: o.bind, port: o.port, protocol: 'tcp' }],
  validate(o, ctx) {
    const problems: OptionProblem[] = [];
    if (o.kerberos) {
      problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_VALUE,
        key: 'kerberos',
        message: `${ctx.fullKey('kerberos')} = true: Kerberos (SASL/GSSAPI) is not supported by flume-ts; use ssl for encryption`,
      });
    }
    serverTlsProblems(ctx, o, problems);
    return problems;
  },
  create: ({ name, options, context, processor, counter, logger }) => new RpcSource(name, thriftProtocol(name, options, context, logger), processor, counter, logger),
});
