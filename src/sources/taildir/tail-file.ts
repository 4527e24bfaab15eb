import type fs from 'node:fs';
import type { FileGroup } from './groups.js';

/** Bytes kept from a file's start and from just before its position, to recognise copies. */
export const FINGERPRINT_BYTES = 64;

/** What a file looked like up to `pos`: enough to tell a copy of it. */
export interface ContentPrint {
  head: Buffer;
  tail: Buffer;
  pos: number;
}

/**
 * One followed file, known by device and inode; its path is where it was last seen.
 * `pos` only moves when a batch was committed to the channels, so it is what the
 * position file records; `readOff` runs ahead of it by the lines in flight and the
 * partial last line held in `carry`.
 */
export class TailFile {
  /** Committed: the end of the last line every required channel accepted. */
  pos: number;
  /** The next byte to read; `carry` holds the bytes of an unfinished line just before it. */
  readOff: number;
  carry: Buffer | undefined = undefined;
  fh: fs.promises.FileHandle | undefined = undefined;
  /** The size last seen. */
  size: number;
  /** The largest size seen since the last truncation: a smaller one means the same inode was truncated. */
  maxSeen = 0;
  /** The modification time last seen. */
  mtimeMs = 0;
  /** When the file last grew (or was first seen). */
  lastGrowth: number;
  /** Last read, for closing the least recently used descriptor first. */
  lastUse = 0;
  /** Found under a name matching its group in the latest scan. */
  matched = true;
  /** Renamed, removed, or a rotated copy: its last partial line is sent once it is idle. */
  rotated = false;
  /** The first bytes of the content (up to FINGERPRINT_BYTES). */
  head: Buffer = Buffer.alloc(0);
  /** The bytes just before `pos`. */
  tail: Buffer = Buffer.alloc(0);
  /** The fingerprint before the latest truncation, for a copy that shows up after it. */
  beforeTruncation: (ContentPrint & { at: number }) | undefined = undefined;
  /** Set while this file looks like a copy of `copyOf` that is not truncated yet: not read until that is decided. */
  copyOf: TailFile | undefined = undefined;
  copySince = 0;
  /** Closed for idleness: opened again only when its size changes. */
  idleClosed = false;
  /** Counts truncations, so a pending copy sees that its original was truncated. */
  truncations = 0;

  constructor(
    readonly key: string,
    readonly inode: string,
    public path: string,
    public group: FileGroup,
    pos: number,
    size: number,
    now: number,
  ) {
    this.pos = pos;
    this.readOff = pos;
    this.size = size;
    this.lastGrowth = now;
  }

  print(): ContentPrint {
    return { head: this.head, tail: this.tail, pos: this.pos };
  }
}
