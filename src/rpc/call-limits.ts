/**
 * What one RPC call (append, appendBatch) may expand to once decoded, shared by the
 * Avro and Thrift servers. A frame of a few megabytes can announce millions of empty
 * events, and each decoded event costs heap however small it is on the wire; so the
 * decoders check every announced count against these limits *before* building the
 * items, and refuse the call (answered FAILED) instead of allocating.
 */
import { FlumeError } from '../core/errors.js';

export interface CallLimits {
  /** Most events one call may carry (the channels' transactionCapacity: a larger batch could never be committed). */
  readonly maxEvents: number;
  /** Most heap the decoded events of one call may take, as estimated by callCost. */
  readonly maxBytes: number;
}

export const UNLIMITED_CALLS: CallLimits = Object.freeze({ maxEvents: Infinity, maxBytes: Infinity });

/**
 * Heap one decoded event takes beyond its bytes: the event object, its headers
 * object, its body view and its array slot (measured: ~106 bytes for an empty event,
 * ~200 with a body view). Kept as an upper estimate.
 */
export const EVENT_HEAP_BYTES = 200;
/** Heap one header entry takes beyond its characters (two strings and a property slot). */
export const HEADER_HEAP_BYTES = 80;

export const CALL_TOO_LARGE = 'FTS_ERR_RPC_CALL_TOO_LARGE';

/** A call refused by its limits before its events were built; the connection stays usable. */
export class CallTooLargeError extends FlumeError {
  constructor(
    /** Which limit: the event count or the estimated heap. */
    readonly limit: 'events' | 'bytes',
    /** Events announced so far (a lower bound when the array comes in several blocks). */
    readonly events: number,
    /** Estimated heap so far, bytes. */
    readonly bytes: number,
    readonly max: number,
  ) {
    super(
      CALL_TOO_LARGE,
      limit === 'events' ? `the call carries ${events} or more events, more than ${max}` : `the call would take about ${mib(bytes)} once decoded, more than ${mib(max)} (max-call-bytes)`,
    );
    this.name = 'CallTooLargeError';
  }
}

function mib(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : `${n} bytes`;
}

/**
 * Running account of one call's decoding: the frame's bytes (bodies and header
 * strings are copied out of it) plus the per-item overheads, checked per announced
 * block, so a refusal happens before the block's items exist.
 */
export class CallBudget {
  events = 0;
  bytes: number;
  constructor(
    readonly limits: CallLimits,
    payloadBytes: number,
  ) {
    this.bytes = payloadBytes;
  }

  /** `n` more events are announced. */
  addEvents(n: number): void {
    this.events += n;
    if (this.events > this.limits.maxEvents) throw new CallTooLargeError('events', this.events, this.bytes, this.limits.maxEvents);
    this.bytes += n * EVENT_HEAP_BYTES;
    if (this.bytes > this.limits.maxBytes) throw new CallTooLargeError('bytes', this.events, this.bytes, this.limits.maxBytes);
  }

  /** `n` more header entries are announced. */
  addHeaders(n: number): void {
    this.bytes += n * HEADER_HEAP_BYTES;
    if (this.bytes > this.limits.maxBytes) throw new CallTooLargeError('bytes', this.events, this.bytes, this.limits.maxBytes);
  }
}

/** Default of the sources' max-call-bytes (a flume-ts extension). */
export const DEFAULT_MAX_CALL_BYTES = 128 * 1024 * 1024;
