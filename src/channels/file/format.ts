/**
 * The file channel's on-disk format, version 1 (docs/file-channel-format.md).
 * Hand-written because it is ours: a length-prefixed, CRC-checked record per commit,
 * so a commit is one write and replay checks one checksum per batch. CRCs are zlib's
 * CRC-32 (node:zlib crc32, native code).
 *
 * Log file: a 16-byte header, then records.
 *   header  : magic "FTSL" | u16 version | u16 flags | u32 fileId | u32 reserved
 *   record  : u32 RECORD_MAGIC | u8 type | u8 flags | u16 reserved | u32 payloadLength
 *             | u32 crc (over bytes 4..12 of the record header, then the payload) | payload
 *   payload : f64 seq | u32 takes | u32 puts | takes × (u32 fileId, u32 offset) | puts × event
 *   event   : u32 length (of what follows) | u16 headers | headers × (u16 keyLen, key,
 *             u32 valueLen, value) | u32 bodyLen | body
 * A pointer to an event is fileId × 2^32 + the file offset of its length field.
 */
import zlib from 'node:zlib';
import { SlicedEvent, type FlumeEvent } from '../../plugin-api/index.js';

export const FORMAT_VERSION = 1;
export const FILE_MAGIC = 0x4c535446; // "FTSL" read as a little-endian u32
export const FILE_HEADER = 16;
export const RECORD_MAGIC = 0x31435246; // "FRC1"
export const RECORD_HEADER = 16;
export const TYPE_TXN = 1;
/** Filler written over a damaged range by fcintegritytool --remove: skipped by replay, offsets unchanged. */
export const TYPE_PAD = 2;
export const TXN_FIXED = 16;
export const CHECKPOINT_MAGIC = 0x4b435446; // "FTCK"
/** Largest payload a record may declare: bounds what a damaged length can make replay allocate. */
export const MAX_RECORD = 1 << 30;

export const crc32: (data: Uint8Array, value?: number) => number = (zlib as unknown as { crc32: (d: Uint8Array, v?: number) => number }).crc32;

const TWO32 = 4294967296;
export const pointer = (fileId: number, offset: number): number => fileId * TWO32 + offset;
export const pointerFile = (p: number): number => Math.floor(p / TWO32);
export const pointerOffset = (p: number): number => p % TWO32;

/** Set in a log file's header flags when its payloads are encrypted (the header then names the key and the nonce). */
export const FLAG_ENCRYPTED = 1;

/** A log file header; an encrypted file's adds u16 alias length, the key alias and a 16-byte nonce. */
export function fileHeader(fileId: number, enc?: { alias: string; nonce: Buffer }): Buffer {
  const alias = enc ? Buffer.from(enc.alias, 'utf8') : undefined;
  const b = Buffer.alloc(FILE_HEADER + (alias ? 2 + alias.length + 16 : 0));
  b.writeUInt32LE(FILE_MAGIC, 0);
  b.writeUInt16LE(FORMAT_VERSION, 4);
  b.writeUInt16LE(enc ? FLAG_ENCRYPTED : 0, 6);
  b.writeUInt32LE(fileId, 8);
  if (alias && enc) {
    b.writeUInt16LE(alias.length, FILE_HEADER);
    alias.copy(b, FILE_HEADER + 2);
    enc.nonce.copy(b, FILE_HEADER + 2 + alias.length);
  }
  return b;
}

export interface FileHeaderInfo {
  fileId: number;
  /** Where the first record starts. */
  dataStart: number;
  alias?: string;
  nonce?: Buffer;
}

/** Reads a log file's header from its first bytes, or undefined when they are not one. */
export function parseFileHeader(b: Buffer): FileHeaderInfo | undefined {
  if (b.length < FILE_HEADER || b.readUInt32LE(0) !== FILE_MAGIC) return undefined;
  const fileId = b.readUInt32LE(8);
  if ((b.readUInt16LE(6) & FLAG_ENCRYPTED) === 0) return { fileId, dataStart: FILE_HEADER };
  if (b.length < FILE_HEADER + 2) return undefined;
  const l = b.readUInt16LE(FILE_HEADER);
  const end = FILE_HEADER + 2 + l + 16;
  if (b.length < end) return undefined;
  return { fileId, dataStart: end, alias: b.toString('utf8', FILE_HEADER + 2, FILE_HEADER + 2 + l), nonce: Buffer.from(b.subarray(end - 16, end)) };
}

/** Bytes enough to hold any file header. */
export const MAX_FILE_HEADER = FILE_HEADER + 2 + 65535 + 16;

const utf8Len = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Bytes one event takes in a record. */
export function eventSize(e: FlumeEvent): number {
  let n = 4 + 2 + 4;
  // SlicedEvents without headers never make their headers object.
  const h = e instanceof SlicedEvent ? (e as unknown as { h?: Record<string, string> }).h : e.headers;
  if (h) for (const k in h) n += 2 + utf8Len(k) + 4 + utf8Len(h[k]!);
  return n + (e instanceof SlicedEvent ? e.end - e.start : e.body.length);
}

/**
 * One commit as one record: taken pointers and put events. `putOffsets` receives the
 * offset of each put event relative to the record's start, for its pointer once the
 * record's place in the file is known.
 */
export function encodeTxn(seq: number, takes: readonly number[], puts: readonly FlumeEvent[], putOffsets: number[]): Buffer {
  let size = RECORD_HEADER + TXN_FIXED + takes.length * 8;
  for (let i = 0; i < puts.length; i++) size += eventSize(puts[i]!);
  const b = Buffer.allocUnsafe(size);
  b.writeUInt32LE(RECORD_MAGIC, 0);
  b[4] = TYPE_TXN;
  b[5] = 0;
  b.writeUInt16LE(0, 6);
  b.writeUInt32LE(size - RECORD_HEADER, 8);
  let at = RECORD_HEADER;
  b.writeDoubleLE(seq, at);
  b.writeUInt32LE(takes.length, at + 8);
  b.writeUInt32LE(puts.length, at + 12);
  at += TXN_FIXED;
  for (let i = 0; i < takes.length; i++) {
    const p = takes[i]!;
    b.writeUInt32LE(pointerFile(p), at);
    b.writeUInt32LE(pointerOffset(p), at + 4);
    at += 8;
  }
  for (let i = 0; i < puts.length; i++) {
    const e = puts[i]!;
    putOffsets[i] = at;
    const start = at;
    at += 4;
    const h = e instanceof SlicedEvent ? (e as unknown as { h?: Record<string, string> }).h : e.headers;
    const hcAt = at;
    at += 2;
    let hc = 0;
    if (h) {
      for (const k in h) {
        const kl = b.write(k, at + 2, 'utf8');
        b.writeUInt16LE(kl, at);
        at += 2 + kl;
        const vl = b.write(h[k]!, at + 4, 'utf8');
        b.writeUInt32LE(vl, at);
        at += 4 + vl;
        hc++;
      }
    }
    b.writeUInt16LE(hc, hcAt);
    if (e instanceof SlicedEvent) {
      const len = e.end - e.start;
      b.writeUInt32LE(len, at);
      e.source.copy(b, at + 4, e.start, e.end);
      at += 4 + len;
    } else {
      b.writeUInt32LE(e.body.length, at);
      e.body.copy(b, at + 4);
      at += 4 + e.body.length;
    }
    b.writeUInt32LE(at - start - 4, start);
  }
  b.writeUInt32LE(crc32(b.subarray(RECORD_HEADER), crc32(b.subarray(4, 12))), 12);
  return b;
}

/**
 * Decodes the event whose length field is at `at` in `b` (the body is a view of `b`).
 * Returns undefined when the bytes cannot be an event (damaged or not an event).
 */
export function decodeEvent(b: Buffer, at: number): FlumeEvent | undefined {
  if (at + 10 > b.length) return undefined;
  const len = b.readUInt32LE(at);
  const end = at + 4 + len;
  if (len < 6 || end > b.length) return undefined;
  let p = at + 4;
  const hc = b.readUInt16LE(p);
  p += 2;
  const headers: Record<string, string> = {};
  for (let i = 0; i < hc; i++) {
    if (p + 2 > end) return undefined;
    const kl = b.readUInt16LE(p);
    p += 2;
    if (p + kl + 4 > end) return undefined;
    const k = b.toString('utf8', p, p + kl);
    p += kl;
    const vl = b.readUInt32LE(p);
    p += 4;
    if (p + vl > end) return undefined;
    headers[k] = b.toString('utf8', p, p + vl);
    p += vl;
  }
  if (p + 4 > end) return undefined;
  const bl = b.readUInt32LE(p);
  p += 4;
  if (p + bl !== end) return undefined;
  return { headers, body: b.subarray(p, end) };
}

/** The length of the event at `at` (its whole encoding), or 0 when it does not fit. */
export function eventLengthAt(b: Buffer, at: number): number {
  if (at + 4 > b.length) return 0;
  return 4 + b.readUInt32LE(at);
}

/** A valid record of `length` bytes (at least RECORD_HEADER) that replay skips. */
export function padRecord(length: number): Buffer {
  const b = Buffer.alloc(length);
  b.writeUInt32LE(RECORD_MAGIC, 0);
  b[4] = TYPE_PAD;
  b.writeUInt32LE(length - RECORD_HEADER, 8);
  b.writeUInt32LE(crc32(b.subarray(RECORD_HEADER), crc32(b.subarray(4, 12))), 12);
  return b;
}

/** A record found in a log file. */
export interface ScannedRecord {
  /** File offset of the record header. */
  offset: number;
  seq: number;
  /** Pointers taken by the commit. */
  takes: number[];
  /** Pointers of the events put by the commit, in order. */
  puts: number[];
}

/** A range of a log file that held no valid record. */
export interface Damage {
  file: string;
  offset: number;
  length: number;
  /** At the end of the file (a torn write): nothing valid follows. */
  tail: boolean;
  reason: string;
}
