import { defineSink, opt, type OptionProblem } from '../plugin-api/index.js';
import { AvroRpcClient, type AvroRpcClientOptions } from '../rpc/avro/client.js';
import { RPC_SINK_OPTIONS, RpcSink, effectiveTimeout, rpcSinkProblems } from '../rpc/rpc-sink.js';
import { clientTlsOptions } from '../rpc/tls.js';

export const options = {
  ...RPC_SINK_OPTIONS,
  'compression-type': opt.enum(['none', 'deflate'], 'none', 'deflate: the whole connection is one zlib stream each way; it must match the source.'),
  'compression-level': opt.integer(6, 'zlib level 0..9 with compression-type = deflate.', { min: 0, max: 9 }),
  maxIoWorkers: opt.optionalInteger('Accepted for compatibility; no effect (Flume 1.10+ ignores it too: one event loop does all I/O).', { min: 0 }),
};

export default defineSink({
  type: 'avro',
  aliases: ['org.apache.flume.sink.AvroSink'],
  description: "Sends events to an avro source over Flume's Avro RPC, one appendBatch per transaction.",
  options,
  batchOption: 'batch-size',
  validate(o, ctx) {
    const problems: OptionProblem[] = [];
    rpcSinkProblems(ctx, o, problems);
    return problems;
  },
  create: ({ name, channel, options: o, context, logger, counter }) =>
    new RpcSink(
      name,
      channel,
      o,
      () => {
        if (o.maxIoWorkers !== undefined) logger.info(`Rpc sink ${name}: maxIoWorkers is no longer supported and has no effect`);
        const clientOptions: AvroRpcClientOptions = {
          host: o.hostname,
          port: o.port,
          connectTimeout: effectiveTimeout(o['connect-timeout']),
          requestTimeout: effectiveTimeout(o['request-timeout']),
          compression: o['compression-type'],
          compressionLevel: o['compression-level'],
          ...(o.ssl ? { tls: clientTlsOptions(context, o) } : {}),
          logger,
        };
        return () => new AvroRpcClient(clientOptions);
      },
      `compression ${o['compression-type']}, ssl ${o.ssl ? 'on' : 'off'}`,
      logger,
      counter,
    ),
});
