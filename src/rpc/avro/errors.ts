/**
 * Error codes of the Avro RPC layer. They belong in `ErrorCodes` of src/core/errors.ts;
 * they live here until that list takes them, and the errors themselves are the core's
 * FlumeError so callers match on `code` as everywhere else.
 */
import { FlumeError } from '../../core/errors.js';

export const AvroErrorCodes = {
  /** A frame announced more buffers than `maxBuffers`, or a negative count. */
  FRAME_TOO_MANY_BUFFERS: 'FTS_ERR_AVRO_FRAME_TOO_MANY_BUFFERS',
  /** A frame's buffers add up to more than `maxFrameBytes`. */
  FRAME_TOO_LARGE: 'FTS_ERR_AVRO_FRAME_TOO_LARGE',
  /** A buffer length below zero. */
  FRAME_NEGATIVE_LENGTH: 'FTS_ERR_AVRO_FRAME_NEGATIVE_LENGTH',
  /** The peer closed the connection in the middle of a frame. */
  FRAME_TRUNCATED: 'FTS_ERR_AVRO_FRAME_TRUNCATED',
  /** Avro binary data that does not decode (bad varint, length past the end, ...). */
  DECODE: 'FTS_ERR_AVRO_DECODE',
  /** The handshake failed (second NONE, incompatible protocol, unexpected answer). */
  HANDSHAKE: 'FTS_ERR_AVRO_HANDSHAKE',
  /** The server answered FAILED or UNKNOWN. */
  STATUS: 'FTS_ERR_AVRO_STATUS',
  /** The server answered with an Avro error (a "system error" string). */
  REMOTE_ERROR: 'FTS_ERR_AVRO_REMOTE_ERROR',
  /** No response within the request timeout. */
  TIMEOUT: 'FTS_ERR_AVRO_TIMEOUT',
  /** No connection (TCP and TLS) within the connect timeout. */
  CONNECT_TIMEOUT: 'FTS_ERR_AVRO_CONNECT_TIMEOUT',
  /** The connection closed (or was never opened) while a call needed it. */
  CLOSED: 'FTS_ERR_AVRO_CLOSED',
  /** A response whose serial matches no pending call. */
  UNEXPECTED_SERIAL: 'FTS_ERR_AVRO_UNEXPECTED_SERIAL',
  /** The compressed stream from the peer is not a valid zlib stream. */
  INFLATE: 'FTS_ERR_AVRO_INFLATE',
  /** An `ipFilterRules` entry that does not parse. */
  IP_FILTER_RULE: 'FTS_ERR_AVRO_IP_FILTER_RULE',
  /** An event the client cannot encode (a header value that is not a string, a body that is not a Buffer). */
  BAD_EVENT: 'FTS_ERR_AVRO_BAD_EVENT',
  /** An option out of range (compression level, limits). */
  OPTION: 'FTS_ERR_AVRO_OPTION',
} as const;

export type AvroErrorCode = (typeof AvroErrorCodes)[keyof typeof AvroErrorCodes];

export function avroError(code: AvroErrorCode, message: string, cause?: unknown): FlumeError {
  return new FlumeError(code, message, cause === undefined ? undefined : { cause });
}
