import { ErrorCodes, defineSource, opt, type Context, type Logger, type OptionProblem, type Options } from '../plugin-api/index.js';
import { AvroRpcServer } from '../rpc/avro/server.js';
import { parseIpFilterRules } from '../rpc/avro/ip-filter.js';
import { CALL_LIMIT_OPTIONS, RpcSource, type RpcSourceProtocol } from '../rpc/rpc-source.js';
import { DEFAULT_MAX_CONNECTION_BYTES, DEFAULT_MAX_INFLATED_BYTES, DEFAULT_MAX_TOTAL_INFLATED_BYTES } from '../rpc/avro/server.js';
import { SERVER_TLS_OPTIONS, serverTlsOptions, serverTlsProblems } from '../rpc/tls.js';

export const options = {
  bind: opt.requiredString('Address to listen on (0.0.0.0 for every interface).'),
  port: opt.requiredInteger('TCP port to listen on (0 picks a free one and logs it).', { min: 0, max: 65535 }),
  threads: opt.optionalInteger(
    'Accepted for compatibility; no effect. Flume sizes a worker pool with it; here every connection is served on the one event loop, ' +
      'calls of one connection run concurrently (up to 64, then reading pauses) and the channel puts are asynchronous.',
    { min: 0 },
  ),
  'compression-type': opt.enum(['none', 'deflate'], 'none', 'deflate: the whole connection is one zlib stream each way; it must match the sender.'),
  ...SERVER_TLS_OPTIONS,
  ...CALL_LIMIT_OPTIONS,
  'max-connection-bytes': opt.integer(
    DEFAULT_MAX_CONNECTION_BYTES,
    'flume-ts extension: most memory (as max-call-bytes estimates it) the calls of one connection may hold while they are being stored; reading from that connection pauses beyond it.',
    { min: 64 * 1024, max: 2 ** 40 },
  ),
  'max-inflated-bytes': opt.integer(
    DEFAULT_MAX_INFLATED_BYTES,
    'flume-ts extension, with compression-type = deflate: most bytes one frame may inflate to; a larger frame closes the connection (counted in EventReadFail).',
    { min: 64 * 1024, max: 64 * 1024 * 1024 },
  ),
  'max-total-inflated-bytes': opt.integer(
    DEFAULT_MAX_TOTAL_INFLATED_BYTES,
    'flume-ts extension, with compression-type = deflate: most inflated bytes of unfinished frames all connections together may hold; ' +
      'the connection that goes beyond it is closed (counted in EventReadFail), the others are served.',
    { min: 64 * 1024, max: 2 ** 40 },
  ),
  ipFilter: opt.boolean(false, 'Filter connections by remote address with ipFilterRules.'),
  ipFilterRules: opt.optionalString(
    'Comma-separated rules allow|deny:ip|name:<pattern> (* and ? globs), e.g. allow:ip:127.*,allow:name:localhost,deny:ip:*. The first matching rule decides; a connection no rule matches is accepted.',
  ),
};

type AvroSourceOptions = Options<typeof options>;
function avroProtocol(name: string, o: AvroSourceOptions, ctx: Context, logger: Logger): RpcSourceProtocol<AvroRpcServer> {
  return {
    label: 'Avro',
    describe: `compression ${o['compression-type']}, ssl ${o.ssl ? 'on' : 'off'}`,
    makeServer(handler, bounds) {
      const tlsOptions = o.ssl ? serverTlsOptions(ctx, o) : undefined;
      if (o.threads !== undefined) logger.debug(`Avro source ${name}: threads = ${o.threads} has no effect (one event loop serves every connection)`);
      const rules = o.ipFilter ? o.ipFilterRules : undefined;
      if (rules !== undefined) logger.info(`Avro source ${name}: ipFilter with rules ${rules}`);
      return new AvroRpcServer(
        {
          host: o.bind,
          port: o.port,
          compression: o['compression-type'],
          callLimits: { maxEvents: bounds.maxEvents, maxBytes: o['max-call-bytes'] },
          onCallRefused: bounds.onCallRefused,
          maxConnectionBytes: o['max-connection-bytes'],
          maxInflatedBytes: o['max-inflated-bytes'],
          maxTotalInflatedBytes: o['max-total-inflated-bytes'],
          maxTotalFrameBytes: o['max-total-frame-bytes'],
          ...(tlsOptions ? { tls: tlsOptions } : {}),
          ...(rules !== undefined ? { ipFilterRules: rules } : {}),
          logger,
        },
        handler,
      );
    },
    serverCounts: (server) => ({ open: server.counters.connectionsOpen, readFails: server.counters.connectionsFailed + server.counters.systemErrors }),
  };
}

/**
 * The server hands bodies as views into the received frame; a channel must not pin
 * the frame (or the socket chunk it came in). One allocation holds the batch's
 * bodies, each event gets its own slice of it.
 */
export default defineSource({
  type: 'avro',
  aliases: ['org.apache.flume.source.AvroSource'],
  description: "Receives events over Flume's Avro RPC (from avro sinks, avro-client or Flume's RPC clients).",
  options,
  listens: (o) => [{ host: o.bind, port: o.port, protocol: 'tcp' }],
  validate(o, ctx) {
    const problems: OptionProblem[] = [];
    if (o.ipFilter) {
      if (o.ipFilterRules === undefined) {
        problems.push({ severity: 'error', code: ErrorCodes.CONFIG_REQUIRED, key: 'ipFilter', message: `${ctx.fullKey('ipFilterRules')} is required when ipFilter = true` });
      } else {
        try {
          parseIpFilterRules(o.ipFilterRules);
        } catch (err) {
          problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'ipFilterRules', message: `${ctx.fullKey('ipFilterRules')}: ${(err as Error).message}` });
        }
      }
    } else if (o.ipFilterRules !== undefined) {
      problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_VALUE, key: 'ipFilterRules', message: `${ctx.fullKey('ipFilterRules')} is ignored because ipFilter is not true` });
    }
    serverTlsProblems(ctx, o, problems);
    return problems;
  },
  create: ({ name, options, context, processor, counter, logger }) => new RpcSource(name, avroProtocol(name, options, context, logger), processor, counter, logger),
});
