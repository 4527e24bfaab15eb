/**
 * Flume's ThriftSourceProtocol (flume-ng-sdk/src/main/thrift/flume.thrift) on the wire,
 * with the npm `thrift` package's protocol classes (compact or binary) over its framed
 * transport:
 *
 *   struct ThriftFlumeEvent { 1: required map<string,string> headers, 2: required binary body }
 *   enum Status { OK, FAILED, ERROR, UNKNOWN }
 *   service ThriftSourceProtocol {
 *     Status append(1: ThriftFlumeEvent event),
 *     Status appendBatch(1: list<ThriftFlumeEvent> events) }
 *
 * What a generated service would do, written out for the two calls: arguments are
 * `<name>_args` structs (field 1), results `<name>_result` structs (field 0, the
 * Status as i32). A frame is `length:int32` + one message.
 */
import thrift from 'thrift';
import type { TProtocol, TProtocolConstructor } from 'thrift';
import type { FlumeEvent } from '../../core/event.js';
import { FlumeError } from '../../core/errors.js';
import { CallBudget, CallTooLargeError, UNLIMITED_CALLS, type CallLimits } from '../call-limits.js';

const { Thrift, TFramedTransport, TCompactProtocol, TBinaryProtocol } = thrift;
const T = Thrift.Type;
const M = Thrift.MessageType;

export type ThriftProtocolName = 'compact' | 'binary';
export type ThriftMessageName = 'append' | 'appendBatch';
export type ThriftStatus = 'OK' | 'FAILED' | 'ERROR' | 'UNKNOWN';
export const THRIFT_STATUSES: readonly ThriftStatus[] = ['OK', 'FAILED', 'ERROR', 'UNKNOWN'];

/** Java's TFastFramedTransport default: the largest frame either side accepts. */
export const DEFAULT_MAX_FRAME_BYTES = 16_384_000;

export const ThriftErrorCodes = {
  /** A frame, message or struct that does not decode. */
  DECODE: 'FTS_ERR_THRIFT_DECODE',
  /** A frame length below zero or above the limit. */
  FRAME: 'FTS_ERR_THRIFT_FRAME',
  /** The server answered FAILED, ERROR or UNKNOWN. */
  STATUS: 'FTS_ERR_THRIFT_STATUS',
  /** The server answered with a TApplicationException. */
  REMOTE_ERROR: 'FTS_ERR_THRIFT_REMOTE_ERROR',
  /** No answer within the request timeout. */
  TIMEOUT: 'FTS_ERR_THRIFT_TIMEOUT',
  /** No connection within the connect timeout. */
  CONNECT_TIMEOUT: 'FTS_ERR_THRIFT_CONNECT_TIMEOUT',
  /** The connection is closed or broke. */
  CLOSED: 'FTS_ERR_THRIFT_CLOSED',
} as const;

export function thriftError(code: (typeof ThriftErrorCodes)[keyof typeof ThriftErrorCodes], message: string, cause?: unknown): FlumeError {
  return new FlumeError(code, message, cause === undefined ? undefined : { cause });
}

export function protocolClass(name: ThriftProtocolName): TProtocolConstructor {
  return (name === 'binary' ? TBinaryProtocol : TCompactProtocol) as unknown as TProtocolConstructor;
}

/** Writes one message with `body` and returns the frame (length prefix included). */
function frame(protocol: ThriftProtocolName, write: (p: TProtocol) => void): Buffer {
  let out: Buffer | undefined;
  const trans = new TFramedTransport(undefined, (buf?: Buffer) => {
    out = buf;
  });
  const p = new (protocolClass(protocol))(trans);
  write(p);
  p.flush();
  return out!;
}

function writeEvent(p: TProtocol, e: FlumeEvent): void {
  p.writeStructBegin('ThriftFlumeEvent');
  const keys = Object.keys(e.headers);
  p.writeFieldBegin('headers', T.MAP, 1);
  p.writeMapBegin(T.STRING, T.STRING, keys.length);
  for (const k of keys) {
    p.writeString(k);
    p.writeString(e.headers[k]!);
  }
  p.writeMapEnd();
  p.writeFieldEnd();
  p.writeFieldBegin('body', T.STRING, 2);
  p.writeBinary(e.body);
  p.writeFieldEnd();
  p.writeFieldStop();
  p.writeStructEnd();
}

/** A call frame: `append(event)` or `appendBatch(events)`. */
export function encodeCall(protocol: ThriftProtocolName, name: ThriftMessageName, seqid: number, events: readonly FlumeEvent[]): Buffer {
  return frame(protocol, (p) => {
    p.writeMessageBegin(name, M.CALL, seqid);
    p.writeStructBegin(`${name}_args`);
    if (name === 'append') {
      p.writeFieldBegin('event', T.STRUCT, 1);
      writeEvent(p, events[0]!);
    } else {
      p.writeFieldBegin('events', T.LIST, 1);
      p.writeListBegin(T.STRUCT, events.length);
      for (const e of events) writeEvent(p, e);
      p.writeListEnd();
    }
    p.writeFieldEnd();
    p.writeFieldStop();
    p.writeStructEnd();
    p.writeMessageEnd();
  });
}

/** A reply frame carrying a Status. */
export function encodeReply(protocol: ThriftProtocolName, name: string, seqid: number, status: ThriftStatus): Buffer {
  return frame(protocol, (p) => {
    p.writeMessageBegin(name, M.REPLY, seqid);
    p.writeStructBegin(`${name}_result`);
    p.writeFieldBegin('success', T.I32, 0);
    p.writeI32(THRIFT_STATUSES.indexOf(status));
    p.writeFieldEnd();
    p.writeFieldStop();
    p.writeStructEnd();
    p.writeMessageEnd();
  });
}

/** A TApplicationException frame (unknown method, undecodable arguments). */
export function encodeException(protocol: ThriftProtocolName, name: string, seqid: number, type: number, message: string): Buffer {
  return frame(protocol, (p) => {
    p.writeMessageBegin(name, M.EXCEPTION, seqid);
    new Thrift.TApplicationException(type, message).write(p);
    p.writeMessageEnd();
  });
}

export const APP_EXCEPTION = Thrift.TApplicationExceptionType;

function reader(protocol: ThriftProtocolName, body: Buffer): TProtocol {
  return new (protocolClass(protocol))(new TFramedTransport(body));
}

/** Reads a struct field by field; unknown fields are skipped. */
function readStruct(p: TProtocol, onField: (fid: number, ftype: number) => boolean): void {
  p.readStructBegin();
  for (;;) {
    const f = p.readFieldBegin();
    if (f.ftype === T.STOP) break;
    if (!onField(f.fid, f.ftype)) p.skip(f.ftype);
    p.readFieldEnd();
  }
  p.readStructEnd();
}

const EMPTY: Buffer = Buffer.alloc(0);

/** A ThriftFlumeEvent, its header count charged to `budget` before the headers are built. Written without closures: it runs per event. */
function readEvent(p: TProtocol, budget: CallBudget): FlumeEvent {
  let headers: Record<string, string> | undefined;
  let body: Buffer | undefined;
  p.readStructBegin();
  for (;;) {
    const f = p.readFieldBegin();
    if (f.ftype === T.STOP) break;
    if (f.fid === 1 && f.ftype === T.MAP) {
      const m = p.readMapBegin();
      if (m.size > 0 && (m.ktype !== T.STRING || m.vtype !== T.STRING)) throw new Error('headers must be map<string,string>');
      budget.addHeaders(m.size);
      const h: Record<string, string> = {};
      for (let i = 0; i < m.size; i++) {
        const k = p.readString();
        const v = p.readString();
        if (k === '__proto__') Object.defineProperty(h, k, { value: v, enumerable: true, writable: true, configurable: true });
        else h[k] = v;
      }
      p.readMapEnd();
      headers = h;
    } else if (f.fid === 2 && f.ftype === T.STRING) {
      body = p.readBinary();
      // Empty bodies share one buffer (a view per event costs ~100 bytes of heap).
      if (body.length === 0) body = EMPTY;
    } else p.skip(f.ftype);
    p.readFieldEnd();
  }
  p.readStructEnd();
  // Both fields are required in the IDL.
  if (headers === undefined) throw new Error('ThriftFlumeEvent without headers (field 1)');
  if (body === undefined) throw new Error('ThriftFlumeEvent without body (field 2)');
  return { headers, body };
}

export interface DecodedCall {
  name: string;
  seqid: number;
  type: number;
  /** Undefined for a method that is not append/appendBatch, or a call refused by its limits. */
  events?: FlumeEvent[];
  /** Set when the call is beyond the limits: it is answered FAILED, its events never built. */
  refused?: CallTooLargeError;
  /** The estimated heap of the decoded events (CallBudget). */
  cost?: number;
}

/**
 * Decodes a call frame's body (without the length prefix). Throws FTS_ERR_THRIFT_DECODE
 * on anything malformed; bodies are views into `body`.
 */
export function decodeCall(protocol: ThriftProtocolName, body: Buffer, limits: CallLimits = UNLIMITED_CALLS): DecodedCall {
  let out: DecodedCall | undefined;
  try {
    const p = reader(protocol, body);
    const msg = p.readMessageBegin();
    const name = typeof msg.fname === 'string' ? msg.fname : String(msg.fname);
    out = { name, seqid: msg.rseqid, type: msg.mtype };
    if (name !== 'append' && name !== 'appendBatch') return out;
    const events: FlumeEvent[] = [];
    const budget = new CallBudget(limits, body.length);
    let seen = false;
    readStruct(p, (fid, ftype) => {
      if (fid !== 1) return false;
      if (name === 'append' && ftype === T.STRUCT) {
        budget.addEvents(1);
        events.push(readEvent(p, budget));
        seen = true;
        return true;
      }
      if (name === 'appendBatch' && ftype === T.LIST) {
        const l = p.readListBegin();
        if (l.size > 0 && l.etype !== T.STRUCT) throw new Error('events must be a list of ThriftFlumeEvent');
        // Each event takes at least two bytes: never trust the announced size for allocation.
        if (l.size > body.length) throw new Error(`list of ${l.size} events in a frame of ${body.length} bytes`);
        budget.addEvents(l.size);
        for (let i = 0; i < l.size; i++) events.push(readEvent(p, budget));
        p.readListEnd();
        seen = true;
        return true;
      }
      return false;
    });
    p.readMessageEnd();
    if (!seen) throw new Error(`${name} without its argument (field 1)`);
    out.events = events;
    out.cost = budget.bytes;
    return out;
  } catch (err) {
    if (err instanceof CallTooLargeError && out !== undefined) {
      out.refused = err;
      return out;
    }
    throw thriftError(ThriftErrorCodes.DECODE, `undecodable Thrift call: ${(err as Error).message ?? String(err)}`, err);
  }
}

export type DecodedReply = { name: string; seqid: number; status: ThriftStatus; error?: undefined } | { name: string; seqid: number; status?: undefined; error: string };

/** Decodes a reply frame's body (without the length prefix). */
export function decodeReply(protocol: ThriftProtocolName, body: Buffer): DecodedReply {
  try {
    const p = reader(protocol, body);
    const msg = p.readMessageBegin();
    const name = String(msg.fname);
    if (msg.mtype === M.EXCEPTION) {
      const x = new Thrift.TApplicationException();
      x.read(p);
      p.readMessageEnd();
      return { name, seqid: msg.rseqid, error: x.message || `TApplicationException ${x.code}` };
    }
    let status: ThriftStatus | undefined;
    readStruct(p, (fid, ftype) => {
      if (fid === 0 && ftype === T.I32) {
        status = THRIFT_STATUSES[p.readI32()] ?? 'UNKNOWN';
        return true;
      }
      return false;
    });
    p.readMessageEnd();
    if (status === undefined) return { name, seqid: msg.rseqid, error: `${name} failed: unknown result` };
    return { name, seqid: msg.rseqid, status };
  } catch (err) {
    throw thriftError(ThriftErrorCodes.DECODE, `undecodable Thrift reply: ${(err as Error).message ?? String(err)}`, err);
  }
}

/** Splits a byte stream into frame bodies, refusing bad lengths as soon as they are announced. */
export class ThriftFrameDecoder {
  private chunks: Buffer[] = [];
  private available = 0;
  private failed = false;

  constructor(private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {}

  /** True while part of a frame is held. */
  get inFrame(): boolean {
    return this.available > 0;
  }

  /** Bytes of the unfinished frame held. */
  get held(): number {
    return this.available;
  }

  push(chunk: Buffer): Buffer[] {
    if (this.failed) throw thriftError(ThriftErrorCodes.FRAME, 'frame decoder used after a refused frame');
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.available += chunk.length;
    }
    const out: Buffer[] = [];
    while (this.available >= 4) {
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : Buffer.concat(this.chunks, this.available);
      if (head !== this.chunks[0]) this.chunks = [head];
      const len = head.readInt32BE(0);
      if (len < 0 || len > this.maxFrameBytes) {
        this.failed = true;
        throw thriftError(ThriftErrorCodes.FRAME, `frame of ${len} bytes (allowed 0..${this.maxFrameBytes})`);
      }
      if (this.available < 4 + len) break;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.available);
      out.push(all.subarray(4, 4 + len));
      const rest = all.subarray(4 + len);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.available = rest.length;
    }
    return out;
  }
}
