import { ErrorCodes, defineSink, opt, type OptionProblem } from '../plugin-api/index.js';
import { ThriftRpcClient, type ThriftRpcClientOptions } from '../rpc/thrift/client.js';
import { RPC_SINK_OPTIONS, RpcSink, effectiveTimeout, rpcSinkProblems } from '../rpc/rpc-sink.js';
import { clientTlsOptions } from '../rpc/tls.js';

export const options = {
  ...RPC_SINK_OPTIONS,
  'connection-reset-interval': opt.optionalDuration("The thrift sink's documented spelling of reset-connection-interval (Flume's code reads only reset-connection-interval; here both work).", {
    unit: 's',
    min: 0,
  }),
  protocol: opt.enum(['compact', 'binary'], 'compact', "Thrift protocol; it must match the source's."),
  kerberos: opt.boolean(false, 'SASL/GSSAPI authentication: not supported; true is refused.'),
  'client-principal': opt.optionalString('Kerberos principal of the client (only with kerberos, which is not supported).'),
  'client-keytab': opt.optionalString('Kerberos keytab of the client (only with kerberos, which is not supported).'),
  'server-principal': opt.optionalString('Kerberos principal of the server (only with kerberos, which is not supported).'),
};

export default defineSink({
  type: 'thrift',
  aliases: ['org.apache.flume.sink.ThriftSink'],
  description: "Sends events to a thrift source over Flume's Thrift RPC, one appendBatch per transaction.",
  options,
  batchOption: 'batch-size',
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
    rpcSinkProblems(ctx, o, problems);
    return problems;
  },
  create: ({ name, channel, options: o, context, logger, counter }) => {
    const reset = context.containsKey('reset-connection-interval') ? o['reset-connection-interval'] : (o['connection-reset-interval'] ?? 0);
    return new RpcSink(
      name,
      channel,
      { ...o, 'reset-connection-interval': reset },
      () => {
        const clientOptions: ThriftRpcClientOptions = {
          host: o.hostname,
          port: o.port,
          protocol: o.protocol,
          connectTimeout: effectiveTimeout(o['connect-timeout']),
          requestTimeout: effectiveTimeout(o['request-timeout']),
          ...(o.ssl ? { tls: clientTlsOptions(context, o) } : {}),
          logger,
        };
        return () => new ThriftRpcClient(clientOptions);
      },
      `protocol ${o.protocol}, ssl ${o.ssl ? 'on' : 'off'}`,
      logger,
      counter,
    );
  },
});
