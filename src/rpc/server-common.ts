import type tls from 'node:tls';
import type { Logger } from '../plugin-api/index.js';

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
}
