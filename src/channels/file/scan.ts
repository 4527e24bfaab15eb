/**
 * Reads a log file record by record, checking each checksum. A record that does not
 * check out starts a damaged range that ends at the next record that does (found by
 * its magic number and verified whole); when none follows, the damage is the file's
 * tail (a write torn by a crash). Shared by replay and `flume-ng tool fcintegritytool`.
 */
import fs from 'node:fs';
import { cryptAt } from './crypto.js';
import { crc32, FILE_HEADER, MAX_FILE_HEADER, MAX_RECORD, parseFileHeader, pointer, RECORD_HEADER, RECORD_MAGIC, TXN_FIXED, TYPE_PAD, TYPE_TXN, type Damage, type ScannedRecord } from './format.js';

const CHUNK = 8 << 20;
const MAGIC_BYTES = Buffer.alloc(4);
MAGIC_BYTES.writeUInt32LE(RECORD_MAGIC, 0);

export interface ScanResult {
  /** The file id its header declares (undefined when the header is damaged). */
  fileId: number | undefined;
  /** Offset just past the last valid record. */
  end: number;
  size: number;
  damage: Damage[];
  records: number;
}

class Window {
  private buf = Buffer.alloc(0);
  private start = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  /** Bytes [at, at+len) of the file, or undefined past its end. */
  get(at: number, len: number): Buffer | undefined {
    if (at + len > this.size) return undefined;
    if (at >= this.start && at + len <= this.start + this.buf.length) return this.buf.subarray(at - this.start, at - this.start + len);
    const want = Math.min(Math.max(CHUNK, len), this.size - at);
    const b = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = fs.readSync(this.fd, b, got, want - got, at + got);
      if (n === 0) break;
      got += n;
    }
    this.buf = b.subarray(0, got);
    this.start = at;
    if (got < len) return undefined;
    return this.buf.subarray(0, len);
  }
}

/**
 * Checks the record at `at`; returns its total length, or a reason it is not valid.
 * With `onRecord`, also decodes it.
 */
interface FileCtx {
  fileId: number;
  /** Decrypts a payload that sits at the given file offset (encrypted files with their key). */
  decrypt: ((at: number, payload: Buffer) => Buffer) | undefined;
  /** Encrypted and no key: only the checksums can be checked. */
  opaque: boolean;
}

function checkRecord(w: Window, at: number, fc: FileCtx, onRecord?: (r: ScannedRecord) => void): number | string {
  const fileId = fc.fileId;
  const h = w.get(at, RECORD_HEADER);
  if (!h) return 'record header cut short by the end of the file';
  if (h.readUInt32LE(0) !== RECORD_MAGIC) return 'no record starts here (bad magic number)';
  const len = h.readUInt32LE(8);
  const crc = h.readUInt32LE(12);
  const type = h[4];
  if (len > MAX_RECORD) return `record length ${len} is implausible`;
  if (at + RECORD_HEADER + len > w.size) return 'record cut short by the end of the file';
  const whole = w.get(at, RECORD_HEADER + len);
  if (!whole) return 'record cut short by the end of the file';
  let payload = whole.subarray(RECORD_HEADER);
  if (crc32(payload, crc32(whole.subarray(4, 12))) !== crc) return 'checksum mismatch';
  if (type === TYPE_PAD) return RECORD_HEADER + len;
  if (fc.opaque) return type === TYPE_TXN ? RECORD_HEADER + len : `unknown record type ${type}`;
  if (fc.decrypt) payload = fc.decrypt(at + RECORD_HEADER, payload);
  if (type !== TYPE_TXN) return `unknown record type ${type}`;
  if (len < TXN_FIXED) return 'record too short';
  const seq = payload.readDoubleLE(0);
  const nt = payload.readUInt32LE(8);
  const np = payload.readUInt32LE(12);
  let p = TXN_FIXED + nt * 8;
  if (p > len) return 'take list overruns the record';
  const puts: number[] = new Array(np);
  for (let i = 0; i < np; i++) {
    if (p + 4 > len) return 'event list overruns the record';
    puts[i] = pointer(fileId, at + RECORD_HEADER + p);
    p += 4 + payload.readUInt32LE(p);
  }
  if (p !== len) return 'event list does not fill the record';
  if (onRecord) {
    const takes: number[] = new Array(nt);
    for (let i = 0, q = TXN_FIXED; i < nt; i++, q += 8) takes[i] = pointer(payload.readUInt32LE(q), payload.readUInt32LE(q + 4));
    onRecord({ offset: at, seq, takes, puts });
  }
  return RECORD_HEADER + len;
}

/** Scans `file` from `from` (default: after its header), calling `onRecord` for each valid record. */
/**
 * Scans `file` from `from` (default: after its header), calling `onRecord` for each
 * valid record. `keys` decrypt encrypted files; without the key of an encrypted file
 * it throws, unless `checksumsOnly` (then records are checked, not decoded).
 */
export function scanLog(file: string, expectedId: number, onRecord: (r: ScannedRecord) => void, from = 0, keys?: ReadonlyMap<string, Buffer>, checksumsOnly = false): ScanResult {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const w = new Window(fd, size);
    const damage: Damage[] = [];
    let fileId: number | undefined;
    const info = parseFileHeader(w.get(0, Math.min(size, MAX_FILE_HEADER)) ?? Buffer.alloc(0));
    let dataStart = FILE_HEADER;
    const fc: FileCtx = { fileId: expectedId, decrypt: undefined, opaque: false };
    if (info) {
      fileId = fc.fileId = info.fileId;
      dataStart = info.dataStart;
      if (info.alias !== undefined) {
        const key = keys?.get(info.alias);
        const nonce = info.nonce!;
        if (key) fc.decrypt = (at, payload) => cryptAt(key, nonce, at, payload);
        else if (checksumsOnly) fc.opaque = true;
        else throw new Error(`${file} is encrypted with key ${info.alias}, which is not configured (encryption.keyProvider.keys)`);
      }
    } else {
      damage.push({ file, offset: 0, length: Math.min(size, FILE_HEADER), tail: size <= FILE_HEADER, reason: 'bad file header' });
    }
    let pos = Math.max(from, dataStart);
    let end = pos;
    let records = 0;
    while (pos < size) {
      const r = checkRecord(w, pos, fc, onRecord);
      if (typeof r === 'number') {
        pos += r;
        end = pos;
        records++;
        continue;
      }
      // Find the next record that checks out.
      let next = -1;
      let at = pos + 1;
      while (at < size && next < 0) {
        const chunk = w.get(at, Math.min(CHUNK, size - at));
        if (!chunk) break;
        let i = chunk.indexOf(MAGIC_BYTES);
        while (i >= 0) {
          if (typeof checkRecord(w, at + i, fc) === 'number') {
            next = at + i;
            break;
          }
          // checkRecord moved the window; re-read the chunk.
          const again = w.get(at, Math.min(CHUNK, size - at));
          if (!again) break;
          i = again.indexOf(MAGIC_BYTES, i + 1);
        }
        if (next < 0) at += Math.max(1, chunk.length - 3);
      }
      if (next < 0) {
        damage.push({ file, offset: pos, length: size - pos, tail: true, reason: r });
        break;
      }
      damage.push({ file, offset: pos, length: next - pos, tail: false, reason: r });
      pos = next;
    }
    return { fileId, end, size, damage, records };
  } finally {
    fs.closeSync(fd);
  }
}

/** Log files of a data directory (`log-<id>`), oldest first. */
export function listLogs(dir: string): { id: number; path: string }[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: { id: number; path: string }[] = [];
  for (const n of names) {
    const m = /^log-(\d+)$/.exec(n);
    if (m) out.push({ id: Number(m[1]), path: `${dir}/${n}` });
  }
  return out.sort((a, b) => a.id - b.id);
}
