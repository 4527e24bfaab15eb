import fs from 'node:fs';
import path from 'node:path';

/** One followed file as Java Flume's TAILDIR source records it. */
export interface PositionEntry {
  /** The inode number as decimal digits (it may exceed 2^53, so never a JS number). */
  inode: string;
  /** Bytes up to the end of the last committed line. */
  pos: number;
  /** The file's absolute path when the position was written. */
  file: string;
}

/**
 * What identifies a file's content beyond its inode: its first bytes and the bytes
 * just before its committed position. Java Flume's position file has no room for
 * them (its reader refuses unknown keys), so they live in a file of their own beside
 * it; they let a restart tell a copytruncate copy made while the agent was down.
 */
export interface Fingerprint {
  inode: string;
  file: string;
  /** The position `tail` ends at. */
  pos: number;
  head: Buffer;
  tail: Buffer;
}

/** The sidecar file of fingerprints for a position file. */
export function fingerprintPath(positionFile: string): string {
  return positionFile + '.fingerprints';
}

// Gson, which writes Java Flume's file, escapes these as \u00XX by default (HTML safety).
const GSON_ESCAPES = /[<>&='\u2028\u2029]/g;

function gsonString(s: string): string {
  return JSON.stringify(s).replace(GSON_ESCAPES, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * The position file's text exactly as Java Flume 1.11 writes it: a compact JSON
 * array `[{"inode":N,"pos":N,"file":"/abs/path"}]`, no trailing newline; no entries
 * make an empty file (Flume truncates it then).
 */
export function formatPositions(entries: readonly PositionEntry[]): string {
  if (entries.length === 0) return '';
  const parts = new Array<string>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    parts[i] = `{"inode":${e.inode},"pos":${e.pos},"file":${gsonString(e.file)}}`;
  }
  return '[' + parts.join(',') + ']';
}

/** Reads a position file (Java Flume's or ours). A missing or empty file has no entries; a malformed one throws. */
export function readPositions(file: string): PositionEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if (text.trim() === '') return [];
  // Inodes stay exact: quote the digits before JSON.parse turns them into doubles.
  const parsed: unknown = JSON.parse(text.replace(/("inode"\s*:\s*)(\d+)/g, '$1"$2"'));
  if (!Array.isArray(parsed)) throw new Error('not a JSON array');
  const out: PositionEntry[] = [];
  for (const e of parsed) {
    const o = e as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || typeof o.inode !== 'string' || typeof o.pos !== 'number' || typeof o.file !== 'string' || !Number.isSafeInteger(o.pos) || o.pos < 0) {
      throw new Error(`an entry needs an integer inode and pos and a file path: ${JSON.stringify(e)}`);
    }
    out.push({ inode: o.inode, pos: o.pos, file: o.file });
  }
  return out;
}

export function formatFingerprints(fps: readonly Fingerprint[]): string {
  return JSON.stringify(fps.map((f) => ({ inode: f.inode, file: f.file, pos: f.pos, head: f.head.toString('base64'), tail: f.tail.toString('base64') })));
}

/** Reads the fingerprints sidecar; anything missing or unreadable is simply no fingerprints. */
export function readFingerprints(file: string): Fingerprint[] {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Array<Record<string, unknown>>;
    if (!Array.isArray(parsed)) return [];
    return parsed
      .filter((o) => typeof o.inode === 'string' && typeof o.file === 'string' && typeof o.pos === 'number' && typeof o.head === 'string' && typeof o.tail === 'string')
      .map((o) => ({ inode: o.inode as string, file: o.file as string, pos: o.pos as number, head: Buffer.from(o.head as string, 'base64'), tail: Buffer.from(o.tail as string, 'base64') }));
  } catch {
    return [];
  }
}

/**
 * Replaces `file` with `text` so that a reader (or a crash at any moment) sees the
 * old or the new content, never a mix: write a temporary file beside it, flush it to
 * disk, rename it over the old one.
 */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  const fh = await fs.promises.open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, file);
}
