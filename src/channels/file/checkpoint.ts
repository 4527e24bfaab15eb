/**
 * The checkpoint: the queue of pointers and, for each data directory, how far its log
 * had been applied, written to a temporary file, fsync'd and renamed over the old one
 * (atomic), with a trailing CRC. Replay starts from it and reads only the log after it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CHECKPOINT_MAGIC, crc32, FORMAT_VERSION } from './format.js';

export const CHECKPOINT_NAME = 'checkpoint';

export interface DirPosition {
  dir: string;
  fileId: number;
  offset: number;
}

export interface CheckpointData {
  seq: number;
  nextFileId: number;
  positions: DirPosition[];
  queue: Float64Array;
}

export function encodeCheckpoint(seq: number, nextFileId: number, positions: readonly DirPosition[], count: number, fill: (out: Float64Array) => void): Buffer {
  const dirs = positions.map((p) => Buffer.from(p.dir, 'utf8'));
  let head = 4 + 2 + 2 + 8 + 4 + 4;
  for (const d of dirs) head += 2 + d.length + 4 + 8;
  head += 8;
  const padded = (head + 7) & ~7;
  const b = Buffer.alloc(padded + count * 8 + 4);
  let at = 0;
  b.writeUInt32LE(CHECKPOINT_MAGIC, at);
  at += 4;
  b.writeUInt16LE(FORMAT_VERSION, at);
  at += 2;
  b.writeUInt16LE(0, at);
  at += 2;
  b.writeDoubleLE(seq, at);
  at += 8;
  b.writeUInt32LE(nextFileId, at);
  at += 4;
  b.writeUInt32LE(positions.length, at);
  at += 4;
  positions.forEach((p, i) => {
    b.writeUInt16LE(dirs[i]!.length, at);
    at += 2;
    dirs[i]!.copy(b, at);
    at += dirs[i]!.length;
    b.writeUInt32LE(p.fileId, at);
    at += 4;
    b.writeDoubleLE(p.offset, at);
    at += 8;
  });
  b.writeDoubleLE(count, at);
  // The pointers sit 8-aligned so they can be filled through a Float64Array view.
  fill(new Float64Array(b.buffer, b.byteOffset + padded, count));
  b.writeUInt32LE(crc32(b.subarray(0, b.length - 4)), b.length - 4);
  return b;
}

/** Reads a checkpoint; throws with the reason when it is missing or damaged. */
export function readCheckpoint(file: string): CheckpointData {
  const b = fs.readFileSync(file);
  if (b.length < 40) throw new Error(`${file}: too short (${b.length} bytes)`);
  if (b.readUInt32LE(0) !== CHECKPOINT_MAGIC) throw new Error(`${file}: not a checkpoint (bad magic number)`);
  const version = b.readUInt16LE(4);
  if (version !== FORMAT_VERSION) throw new Error(`${file}: format version ${version}, this agent reads version ${FORMAT_VERSION}`);
  if (crc32(b.subarray(0, b.length - 4)) !== b.readUInt32LE(b.length - 4)) throw new Error(`${file}: checksum mismatch`);
  let at = 8;
  const seq = b.readDoubleLE(at);
  at += 8;
  const nextFileId = b.readUInt32LE(at);
  at += 4;
  const n = b.readUInt32LE(at);
  at += 4;
  const positions: DirPosition[] = [];
  for (let i = 0; i < n; i++) {
    const l = b.readUInt16LE(at);
    at += 2;
    const dir = b.toString('utf8', at, at + l);
    at += l;
    const fileId = b.readUInt32LE(at);
    at += 4;
    const offset = b.readDoubleLE(at);
    at += 8;
    positions.push({ dir, fileId, offset });
  }
  const count = b.readDoubleLE(at);
  at += 8;
  const padded = (at + 7) & ~7;
  if (padded + count * 8 + 4 !== b.length) throw new Error(`${file}: length does not match its ${count} queue entries`);
  const queue = new Float64Array(count);
  new Uint8Array(queue.buffer).set(b.subarray(padded, padded + count * 8));
  return { seq, nextFileId, positions, queue };
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // not supported everywhere
  }
}

/** Writes `data` as `dir/checkpoint` atomically. */
export async function writeCheckpoint(dir: string, data: Buffer): Promise<void> {
  const tmp = path.join(dir, `${CHECKPOINT_NAME}.tmp`);
  const fh = await fs.promises.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, path.join(dir, CHECKPOINT_NAME));
  fsyncDir(dir);
}
