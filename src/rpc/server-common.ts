import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from '../plugin-api/index.js';
import type { CallLimits, CallTooLargeError } from './call-limits.js';

/** Settings every RPC server (Avro, Thrift) takes. */
export interface RpcServerCommonOptions {
  /** Default 0.0.0.0. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Node TLS server options (key, cert, ciphers, minVersion, ...). TLS starts right after accept. */
  tls?: tls.SecureContextOptions & tls.TlsOptions;
  /** Flume syntax: `allow|deny:ip|name:<pattern>,...`; first match decides, no match accepts. */
  ipFilterRules?: string;
  /** Most bytes one frame may carry. */
  maxFrameBytes?: number;
  /**
   * How long a connection may stay silent in the middle of a frame before it is
   * closed and counted as truncated (ms, default 60000). Without it a client that
   * stops mid-frame would hold its connection and buffered bytes forever.
   */
  frameStallTimeout?: number;
  /** How long close() lets running calls finish before dropping connections (ms, default 5000). */
  closeTimeout?: number;
  /**
   * The most bytes of unfinished frames all connections together may hold (default
   * 512 MiB); the connection that goes beyond it is closed. (Avro with deflate uses
   * maxTotalInflatedBytes instead.)
   */
  maxTotalFrameBytes?: number;
  /** What one call may expand to; a call beyond it is answered FAILED without being decoded (default: no event limit, 128 MiB). */
  callLimits?: CallLimits;
  /** Told of each call refused by callLimits (after FAILED is sent); without it the server logs a rate-limited warning. */
  onCallRefused?: (kind: 'append' | 'appendBatch', err: CallTooLargeError) => void;
  logger?: Logger;
}

/** What every RPC server counts; plain fields, read them at any time. */
export class RpcServerCounters {
  /** TCP connections admitted (after the IP filter). */
  connectionsAccepted = 0;
  connectionsOpen = 0;
  /** Refused by ipFilterRules. */
  connectionsRejected = 0;
  /** Closed because of bad framing, undecodable messages, TLS, zlib or socket errors. */
  connectionsFailed = 0;
  framesReceived = 0;
  /** Over the frame limits, or a negative count or length. */
  framesRefused = 0;
  /** The peer stopped in the middle of a frame (closed, or went silent for frameStallTimeout). */
  framesTruncated = 0;
  /** Requests whose data did not decode. */
  decodeErrors = 0;
  appendReceived = 0;
  appendBatchReceived = 0;
  eventsReceived = 0;
  callsOk = 0;
  callsFailed = 0;
  /** Answered FAILED without decoding: beyond callLimits (also counted in callsFailed). */
  callsRefused = 0;
}

export const DEFAULT_MAX_TOTAL_FRAME_BYTES = 512 * 1024 * 1024;

/** Listens; resolves with the bound address, rejects with the listen error (port in use, ...). */
export function listenServer(server: net.Server, host: string, port: number, logger: Logger, label: string): Promise<net.AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port, backlog: 1024 }, () => {
      server.off('error', onError);
      server.on('error', (err) => logger.error(`${label} RPC server error: ${err.message}`));
      resolve(serverAddress(server, label));
    });
  });
}

/** The bound address (the real port when listening on port 0). */
export function serverAddress(server: net.Server, label: string): net.AddressInfo {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error(`${label} RPC server is not listening`);
  return a;
}

/** Stops accepting, lets every connection finish its running calls until `closeTimeout` ms from now, then waits for the server to close. */
export async function closeServer(server: net.Server, connections: Iterable<{ shutdown(deadline: number): Promise<void> }>, closeTimeout: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const deadline = Date.now() + closeTimeout;
  await Promise.all([...connections].map((c) => c.shutdown(deadline)));
  await closed;
}
