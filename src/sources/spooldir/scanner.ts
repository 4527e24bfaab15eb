import fs from 'node:fs';
import path from 'node:path';
import { fullMatch } from '../../interceptors/java-regex.js';

/** A file ready to be read, with what it looked like when it was listed. */
export interface Candidate {
  path: string;
  /** Path relative to spoolDir (tracker files use it). */
  rel: string;
  name: string;
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

/** A directory entry that can never be read as a file (FIFO, socket, link to nothing or to a directory). */
export interface BadEntry {
  path: string;
  rel: string;
  reason: string;
}

export interface ScanSettings {
  dir: string;
  trackerDir: string;
  /** Mark files in trackerDir (trackingPolicy tracker_dir) instead of renaming them. */
  trackerMarks: boolean;
  fileSuffix: string;
  failedSuffix: string;
  include: RegExp;
  ignore: RegExp;
  recursive: boolean;
  quietMs: number;
  order: 'oldest' | 'youngest' | 'random';
}

/**
 * Lists the files of the spool directory that may be read, as Flume chooses them
 * (names not starting with ".", not ending with the suffixes, matching
 * includePattern and not ignorePattern, not marked in trackerDir), keeping only those
 * that are quiet: unchanged (size, mtime, ctime) for quietMs, judged by their
 * timestamps or, when those are in the future, by this scanner having seen them
 * unchanged that long. Sorted by consumeOrder.
 *
 * Polling (every pollDelay while idle, as Flume), not file-system notifications
 * (chokidar): a file is only taken once it has been quiet, which a listing with stat
 * decides anyway, and notifications would save at most one pollDelay of latency.
 */
export class Scanner {
  /** Files not yet quiet: what they looked like, and since when (monotonic ms). */
  private watching = new Map<string, { size: number; mtimeMs: number; ctimeMs: number; since: number }>();

  constructor(private readonly s: ScanSettings) {}

  async scan(): Promise<{ ready: Candidate[]; bad: BadEntry[]; waiting: number }> {
    const s = this.s;
    const marked = s.trackerMarks ? await this.markedFiles() : undefined;
    const ready: Candidate[] = [];
    const bad: BadEntry[] = [];
    const watching = new Map<string, { size: number; mtimeMs: number; ctimeMs: number; since: number }>();
    const now = Date.now();
    const mono = performance.now();
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (dir === s.dir) throw err;
        return;
      }
      for (const e of entries) {
        const name = e.name;
        const p = path.join(dir, name);
        const r = rel ? `${rel}/${name}` : name;
        if (name.startsWith('.')) continue;
        if (e.isDirectory()) {
          if (s.recursive && !fullMatch(s.ignore, name) && p !== s.trackerDir) await walk(p, r);
          continue;
        }
        if (name.endsWith(s.fileSuffix) || name.endsWith(s.failedSuffix)) continue;
        if (!fullMatch(s.include, name) || fullMatch(s.ignore, name)) continue;
        if (marked?.has(r)) continue;
        let st: fs.Stats | undefined;
        try {
          st = fs.statSync(p);
        } catch (err) {
          if (e.isSymbolicLink()) bad.push({ path: p, rel: r, reason: `it is a symbolic link that cannot be followed (${(err as NodeJS.ErrnoException).code})` });
          continue;
        }
        if (!st.isFile()) {
          if (st.isDirectory()) {
            if (!e.isSymbolicLink()) continue;
            bad.push({ path: p, rel: r, reason: 'it is a symbolic link to a directory' });
          } else bad.push({ path: p, rel: r, reason: 'it is not a regular file (a FIFO, socket or device would block or never end)' });
          continue;
        }
        const changed = Math.max(st.mtimeMs, st.ctimeMs);
        let quiet = now - changed >= s.quietMs;
        if (!quiet) {
          const w = this.watching.get(p);
          const since = w && w.size === st.size && w.mtimeMs === st.mtimeMs && w.ctimeMs === st.ctimeMs ? w.since : mono;
          if (mono - since >= s.quietMs && changed > now) quiet = true;
          else watching.set(p, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, since });
        }
        if (quiet) ready.push({ path: p, rel: r, name, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev });
      }
    };
    await walk(s.dir, '');
    this.watching = watching;
    sortCandidates(ready, s.order);
    return { ready, bad, waiting: watching.size };
  }

  /** Paths (relative to spoolDir) that trackerDir marks as done or failed. */
  private async markedFiles(): Promise<Set<string>> {
    const out = new Set<string>();
    const s = this.s;
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(path.join(dir, e.name), r);
        else if (r.endsWith(s.fileSuffix)) out.add(r.slice(0, -s.fileSuffix.length));
        else if (r.endsWith(s.failedSuffix)) out.add(r.slice(0, -s.failedSuffix.length));
      }
    };
    await walk(s.trackerDir, '');
    return out;
  }
}

/** Flume's orders: by modification time (ties: the smaller name first), or shuffled. */
export function sortCandidates(files: Candidate[], order: 'oldest' | 'youngest' | 'random'): void {
  if (order === 'random') {
    for (let i = files.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [files[i], files[j]] = [files[j]!, files[i]!];
    }
    return;
  }
  const sign = order === 'oldest' ? 1 : -1;
  files.sort((a, b) => (a.mtimeMs !== b.mtimeMs ? sign * (a.mtimeMs - b.mtimeMs) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
