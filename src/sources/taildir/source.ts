import fs from 'node:fs';
import path from 'node:path';
import {
  FlumeError,
  ErrorCodes,
  RateLimitedLog,
  SlicedEvent,
  setLongTimeout,
  sleep,
  type ChannelProcessor,
  type EventDrivenSource,
  type FlumeEvent,
  type Logger,
  type SourceCounter,
} from '../../plugin-api/index.js';
import type { FileGroup } from './groups.js';
import { fingerprintPath, formatFingerprints, formatPositions, readFingerprints, readPositions, writeAtomically, type Fingerprint, type PositionEntry } from './position-file.js';
import { FINGERPRINT_BYTES, TailFile, type ContentPrint } from './tail-file.js';

/** Bytes per read: large reads keep the per-line cost to cutting and one small object. */
const CHUNK = 1 << 20;
/** How long a file that looks like a copy waits for its original to be truncated (copytruncate) before it counts as a plain copy. */
const COPY_WAIT_MS = 10_000;
/** How long a truncated file's old fingerprint is kept for a copy that appears after the truncation. */
const TRUNCATED_PRINT_MS = 60_000;
/** Bytes of a head that index it. */
const HEAD_KEY = 8;
/** At most this much of the last committed line is kept as its fingerprint. */
const TAIL_MAX = 1024;
const NL = 0x0a;
const CR = 0x0d;

export interface TaildirSettings {
  groups: readonly FileGroup[];
  positionFile: string;
  batchSize: number;
  maxBatchCount: number;
  skipToEnd: boolean;
  byteOffsetHeader: boolean;
  fileHeader: boolean;
  fileHeaderKey: string;
  idleTimeout: number;
  writePosInterval: number;
  backoffSleepIncrement: number;
  maxBackoffSleep: number;
  cachePatternMatching: boolean;
  maxLineLength: number;
  maxOpenFiles: number;
}

interface Listing {
  mtimeMs: number;
  checkedAt: number;
  names: string[];
}

interface Found {
  path: string;
  group: FileGroup;
  key: string;
  inode: string;
  size: number;
  mtimeMs: number;
}

/**
 * Flume's TAILDIR source. Files are followed by device and inode rather than by
 * name, so a rotated file is finished where it stopped, never read again, whatever
 * its new name; copytruncate copies are recognised by their first bytes and the
 * bytes before the committed position. Reading is batched into large reads cut into
 * sliced events; positions move only after the channels committed a batch.
 * Directory notifications (fs.watch) wake the loop at once; a scan on a timer
 * (backoffSleepIncrement up to maxBackoffSleep) runs regardless, so a missed
 * notification delays lines, never loses them. Hand-written: no library follows
 * files by inode with commit-driven positions.
 */
export class TaildirSource implements EventDrivenSource {
  readonly kind = 'event-driven';
  private readonly files = new Map<string, TailFile>();
  private readonly byPath = new Map<string, TailFile>();
  private readonly listings = new Map<string, Listing>();
  private readonly watchers: fs.FSWatcher[] = [];
  private readonly abort = new AbortController();
  private readonly rl: RateLimitedLog;
  private restore = new Map<string, PositionEntry[]>();
  private prints = new Map<string, Fingerprint>();
  private loop: Promise<void> | undefined;
  private posLoop: Promise<void> | undefined;
  private posWriting: Promise<void> = Promise.resolve();
  private positionsDirty = true;
  private openCount = 0;
  private fullNeeded = true;
  private nextFullAt = 0;
  private readonly dirty = new Set<string>();
  private wakeUp: (() => void) | undefined;
  private poked = false;
  private readonly hasHeaders: boolean;
  /** Followed files by the first bytes of their content (and of their content before a truncation), to find what a new file may be a copy of without comparing it with every file. */
  private readonly heads = new Map<string, Set<TailFile>>();
  private readonly headKeys = new Map<TailFile, string[]>();

  constructor(
    private readonly name: string,
    private readonly s: TaildirSettings,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
  ) {
    this.rl = new RateLimitedLog(logger);
    this.hasHeaders = s.fileHeader || s.byteOffsetHeader || s.groups.some((g) => Object.keys(g.headers).length > 0);
  }

  async start(): Promise<void> {
    for (const g of this.s.groups) {
      let st: fs.Stats;
      try {
        st = fs.statSync(g.dir);
      } catch {
        throw new FlumeError(ErrorCodes.CONFIG_VALUE, `TAILDIR source ${this.name}: directory of file group ${g.name} does not exist: ${g.dir}`);
      }
      if (!st.isDirectory()) throw new FlumeError(ErrorCodes.CONFIG_VALUE, `TAILDIR source ${this.name}: ${g.dir} (file group ${g.name}) is not a directory`);
    }
    fs.mkdirSync(path.dirname(this.s.positionFile), { recursive: true });
    try {
      for (const e of readPositions(this.s.positionFile)) {
        const list = this.restore.get(e.inode) ?? [];
        list.push(e);
        this.restore.set(e.inode, list);
      }
      for (const f of readFingerprints(fingerprintPath(this.s.positionFile))) this.prints.set(`${f.inode}:${f.file}`, f);
      this.logger.info(`TAILDIR source ${this.name}: ${[...this.restore.values()].reduce((n, l) => n + l.length, 0)} position(s) read from ${this.s.positionFile}`);
    } catch (err) {
      this.logger.error(`TAILDIR source ${this.name}: cannot read position file ${this.s.positionFile} (${(err as Error).message}); starting without positions`);
      this.restore.clear();
    }
    await this.scan(true);
    await this.findRestoredElsewhere();
    // Truncated while stopped and no matching file was its copy: look for one under another name.
    for (const tf of [...this.files.values()]) {
      if (!tf.beforeTruncation) continue;
      const copy = await this.findCopy(tf, tf.beforeTruncation);
      if (!copy) continue;
      this.logger.info(`TAILDIR source ${this.name}: ${copy.path} is the copy of ${tf.path} made before it was truncated while stopped; reading it from pos ${tf.beforeTruncation.pos}`);
      tf.beforeTruncation = undefined;
      this.reindex(tf);
      this.files.set(copy.key, copy);
    }
    this.restore.clear();
    this.prints.clear();
    this.watch();
    this.posLoop = this.positionLoop();
    this.logger.info(`TAILDIR source ${this.name} started: ${this.s.groups.map((g) => `${g.name}=${g.dir}/${g.pattern}`).join(', ')}; following ${this.files.size} file(s)`);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wake();
    await this.loop;
    await this.posLoop;
    for (const w of this.watchers) w.close();
    this.positionsDirty = true;
    await this.writePositions();
    for (const tf of this.files.values()) await this.close(tf);
    this.rl.flush();
  }

  // ---- the loop -----------------------------------------------------------

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let idleScans = 0;
    while (!signal.aborted) {
      let lines = false;
      let more = false;
      try {
        if (this.fullNeeded || Date.now() >= this.nextFullAt) {
          this.fullNeeded = false;
          this.dirty.clear();
          const r = await this.scan(false);
          lines = r.lines;
          more = r.more;
          idleScans = lines ? 0 : idleScans + 1;
          const wait = more ? 0 : lines ? this.s.backoffSleepIncrement : Math.min(idleScans * this.s.backoffSleepIncrement, this.s.maxBackoffSleep);
          this.nextFullAt = Date.now() + wait;
        } else if (this.dirty.size > 0) {
          const paths = [...this.dirty];
          this.dirty.clear();
          for (const p of paths) {
            const tf = this.byPath.get(p);
            if (!tf) {
              this.fullNeeded = true;
              continue;
            }
            const r = await this.drain(tf);
            if (r > 0) lines = true;
            if (r > 1) this.dirty.add(p);
          }
        }
      } catch (err) {
        this.counter.EventReadFail++;
        this.logger.error(`TAILDIR source ${this.name}: unable to tail files: ${(err as Error).stack ?? err}`);
        await sleep(this.s.maxBackoffSleep, signal);
        continue;
      }
      if (signal.aborted) break;
      if (more || this.dirty.size > 0 || this.fullNeeded) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      await this.idle(Math.max(0, this.nextFullAt - Date.now()));
    }
  }

  /** Waits `ms`, or less if a notification or stop comes first. */
  private idle(ms: number): Promise<void> {
    if (this.poked || this.abort.signal.aborted) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = (): void => {
        t.clear();
        this.wakeUp = undefined;
        resolve();
      };
      const t = setLongTimeout(finish, ms);
      this.wakeUp = finish;
    });
  }

  /** Writes positions every writePosInterval until stopped (stop writes the last ones). */
  private async positionLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      await sleep(this.s.writePosInterval, signal);
      if (!signal.aborted) await this.writePositions();
    }
  }

  private wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.poked = true;
  }

  /** One fs.watch per directory: a change to a matching name marks it, anything else asks for a scan. */
  private watch(): void {
    const dirs = new Map<string, FileGroup[]>();
    for (const g of this.s.groups) dirs.set(g.dir, [...(dirs.get(g.dir) ?? []), g]);
    for (const [dir, groups] of dirs) {
      try {
        const w = fs.watch(dir, { persistent: false }, (event, file) => {
          const name = file?.toString();
          if (event === 'change' && name && groups.some((g) => g.matches(name))) this.dirty.add(path.join(dir, name));
          else if (event === 'rename' || !name) this.fullNeeded = true;
          else return;
          this.wake();
        });
        w.on('error', (err) => {
          this.logger.warn(`TAILDIR source ${this.name}: notifications for ${dir} stopped (${err.message}); polling every ${this.s.maxBackoffSleep} ms at most`);
          w.close();
        });
        this.watchers.push(w);
      } catch (err) {
        this.logger.warn(`TAILDIR source ${this.name}: no notifications for ${dir} (${(err as Error).message}); polling every ${this.s.maxBackoffSleep} ms at most`);
      }
    }
  }

  // ---- scanning -----------------------------------------------------------

  /** The matching names in a group's directory, listed again only when the directory changed (cachePatternMatching). */
  private async list(g: FileGroup): Promise<string[]> {
    const key = g.dir + '\0' + g.name;
    const cached = this.listings.get(key);
    let mtimeMs: number;
    try {
      mtimeMs = (await fs.promises.stat(g.dir)).mtimeMs;
    } catch (err) {
      this.rl.warn(`dir:${g.dir}`, `TAILDIR source ${this.name}: cannot read directory ${g.dir}: ${(err as Error).message}`);
      return cached?.names ?? [];
    }
    const now = Date.now();
    // As Flume: a listing is reused while the directory's mtime is unchanged and was older than the listing by a clear second.
    if (this.s.cachePatternMatching && cached && cached.mtimeMs === mtimeMs && mtimeMs < cached.checkedAt - 1000) return cached.names;
    let names: string[];
    try {
      names = (await fs.promises.readdir(g.dir)).filter((n) => g.matches(n));
    } catch (err) {
      this.rl.warn(`dir:${g.dir}`, `TAILDIR source ${this.name}: cannot list directory ${g.dir}: ${(err as Error).message}`);
      return cached?.names ?? [];
    }
    this.listings.set(key, { mtimeMs, checkedAt: now, names });
    return names;
  }

  private async statFile(p: string): Promise<{ key: string; inode: string; size: number; mtimeMs: number } | undefined> {
    try {
      const st = await fs.promises.stat(p, { bigint: true });
      if (!st.isFile()) return undefined;
      return { key: `${st.dev}:${st.ino}`, inode: String(st.ino), size: Number(st.size), mtimeMs: Number(st.mtimeMs) };
    } catch {
      return undefined;
    }
  }

  /**
   * Lists every group, follows renames by inode, takes up new files, lets go of
   * files gone, reads what grew and closes idle files. `lines`: something was
   * sent; `more`: a file still has lines (maxBatchCount reached).
   */
  private async scan(initial: boolean): Promise<{ lines: boolean; more: boolean }> {
    const now = Date.now();
    const seen = new Set<TailFile>();
    const fresh: Found[] = [];
    for (const g of this.s.groups) {
      for (const name of await this.list(g)) {
        const p = path.join(g.dir, name);
        const st = await this.statFile(p);
        if (!st) continue;
        const tf = this.files.get(st.key);
        if (tf) {
          if (seen.has(tf)) continue;
          seen.add(tf);
          if (tf.path !== p) this.renamed(tf, p, g);
          tf.matched = true;
          // A file not read yet still gets its first bytes noted, so a copytruncate copy of it is known even if reading lags behind.
          if (tf.head.length === 0 && st.size > 0 && st.size >= tf.maxSeen) await this.noteHead(tf, p);
          if (st.size < tf.maxSeen && !tf.copyOf) this.dirty.add(p);
        } else if (!fresh.some((f) => f.key === st.key)) fresh.push({ path: p, group: g, ...st });
      }
    }
    for (const tf of [...this.files.values()]) {
      if (!seen.has(tf) && tf.matched) await this.lost(tf);
    }
    // Restored files first, so that copies can be matched against them; then oldest first, as Flume.
    const restored = (f: Found): number => (this.restore.has(f.inode) ? 0 : 1);
    fresh.sort((a, b) => restored(a) - restored(b) || a.mtimeMs - b.mtimeMs);
    for (const f of fresh) await this.discover(f, initial, now);
    if (initial) return { lines: false, more: false };

    let lines = false;
    let more = false;
    for (const tf of [...this.files.values()]) {
      if (this.abort.signal.aborted) break;
      const r = await this.drain(tf);
      if (r > 0) lines = true;
      if (r > 1) more = true;
    }
    await this.closeIdle(Date.now());
    return { lines, more };
  }

  /** Files whose recorded heads `head` starts with. */
  private headCandidates(head: Buffer): TailFile[] {
    const out = new Set<TailFile>();
    for (let k = 1; k <= Math.min(HEAD_KEY, head.length); k++) for (const t of this.heads.get(head.toString('latin1', 0, k)) ?? []) out.add(t);
    return [...out];
  }

  /** Files the copy check may match: called whenever a file's head or old fingerprint changes, or it is dropped. */
  private reindex(tf: TailFile, dropped = false): void {
    for (const k of this.headKeys.get(tf) ?? []) {
      const set = this.heads.get(k);
      set?.delete(tf);
      if (set?.size === 0) this.heads.delete(k);
    }
    this.headKeys.delete(tf);
    if (dropped) return;
    const keys: string[] = [];
    for (const h of [tf.head, tf.beforeTruncation?.head]) {
      if (!h || h.length === 0) continue;
      const k = h.toString('latin1', 0, Math.min(HEAD_KEY, h.length));
      if (keys.includes(k)) continue;
      keys.push(k);
      let set = this.heads.get(k);
      if (!set) this.heads.set(k, (set = new Set()));
      set.add(tf);
    }
    if (keys.length > 0) this.headKeys.set(tf, keys);
  }

  private drop(tf: TailFile): void {
    this.files.delete(tf.key);
    if (this.byPath.get(tf.path) === tf) this.byPath.delete(tf.path);
    this.reindex(tf, true);
    this.positionsDirty = true;
  }

  private renamed(tf: TailFile, p: string, g: FileGroup): void {
    this.logger.info(`TAILDIR source ${this.name}: ${tf.path} was renamed to ${p} (inode ${tf.inode}); continuing at pos ${tf.pos}, not reading it again`);
    if (this.byPath.get(tf.path) === tf) this.byPath.delete(tf.path);
    tf.path = p;
    tf.group = g;
    tf.rotated = true;
    this.byPath.set(p, tf);
    this.positionsDirty = true;
  }

  /** A followed file no longer has a matching name: finish it through its descriptor, or find it by inode. */
  private async lost(tf: TailFile): Promise<void> {
    tf.matched = false;
    tf.rotated = true;
    if (this.byPath.get(tf.path) === tf) this.byPath.delete(tf.path);
    this.positionsDirty = true;
    if (tf.fh) {
      this.logger.info(`TAILDIR source ${this.name}: ${tf.path} (inode ${tf.inode}) no longer matches; finishing it through its open descriptor`);
      return;
    }
    const found = await this.findInode(path.dirname(tf.path), tf.key);
    if (found) {
      this.logger.info(`TAILDIR source ${this.name}: ${tf.path} (inode ${tf.inode}) is now ${found}; finishing it from pos ${tf.pos}`);
      tf.path = found;
      return;
    }
    if (tf.size > tf.pos) this.logger.warn(`TAILDIR source ${this.name}: ${tf.path} (inode ${tf.inode}) was removed with ${tf.size - tf.pos} byte(s) not read`);
    else this.logger.info(`TAILDIR source ${this.name}: ${tf.path} (inode ${tf.inode}) was removed`);
    this.drop(tf);
  }

  /** The path in `dir` whose device and inode are `key`, if any (one stat per entry: used only when a file vanished). */
  private async findInode(dir: string, key: string): Promise<string | undefined> {
    let names: string[];
    try {
      names = await fs.promises.readdir(dir);
    } catch {
      return undefined;
    }
    for (const n of names) {
      const p = path.join(dir, n);
      if (this.byPath.has(p)) continue;
      const st = await this.statFile(p);
      if (st?.key === key) return p;
    }
    return undefined;
  }

  /** A matching file not followed yet: restored from the position file, a copy of a followed file, or new. */
  private async discover(f: Found, initial: boolean, now: number): Promise<void> {
    let pos = initial && this.s.skipToEnd ? f.size : 0;
    let rotated = false;
    let print: ContentPrint | undefined;
    let copyOf: TailFile | undefined;
    let head: Buffer | undefined;
    let tail: Buffer | undefined;
    const entries = this.restore.get(f.inode);
    // The entry for this path (Flume's rule), else one for this inode under an older name: rotated while stopped.
    const entry = entries?.find((e) => e.file === f.path) ?? entries?.[0];
    if (entry) {
      entries!.splice(entries!.indexOf(entry), 1);
      ({ pos, print, head, tail } = await this.fromEntry(entry, f.path, f.size));
      rotated = entry.file !== f.path;
    } else {
      const c = await this.copyCheck(f, now);
      if (c?.resolved !== undefined) {
        pos = c.resolved;
        rotated = true;
      } else if (c) copyOf = c.of;
    }
    const tf = new TailFile(f.key, f.inode, f.path, f.group, pos, f.size, now);
    tf.rotated = rotated;
    if (print) tf.beforeTruncation = { ...print, at: now };
    if (head && tail) {
      tf.head = head;
      tf.tail = tail;
    }
    if (!entry && tf.head.length === 0 && f.size > 0) {
      const h = await this.headOf(f.path);
      if (h && h.length > 0 && pos === 0) tf.head = h;
    }
    tf.maxSeen = f.size;
    this.reindex(tf);
    if (copyOf) {
      tf.copyOf = copyOf;
      tf.copySince = now;
      tf.truncations = copyOf.truncations;
    }
    if (!entry && !copyOf) this.logger.info(`TAILDIR source ${this.name}: opening ${f.path}, inode: ${f.inode}, pos: ${pos}`);
    this.files.set(f.key, tf);
    this.byPath.set(f.path, tf);
    this.positionsDirty = true;
  }

  /**
   * Is `f` a copy of a followed file in its directory (copytruncate, or cp)? It is
   * when its first bytes and its bytes before that file's position are the same.
   * `resolved`: the original was truncated already, read the copy from here;
   * otherwise `of`: wait for the original's truncation.
   */
  private async copyCheck(f: { path: string; size: number }, now: number): Promise<{ resolved?: number; of: TailFile } | undefined> {
    const dir = path.dirname(f.path);
    const head = await this.headOf(f.path);
    if (!head || head.length === 0) return undefined;
    const starts = (h: Buffer): boolean => h.length > 0 && head.length >= h.length && head.compare(h, 0, h.length, 0, h.length) === 0;
    for (const t of this.headCandidates(head)) {
      if (t.copyOf || !(starts(t.head) || (t.beforeTruncation && starts(t.beforeTruncation.head))) || path.dirname(t.path) !== dir) continue;
      const old = t.beforeTruncation;
      if (old && now - old.at < TRUNCATED_PRINT_MS && f.size >= old.pos && (await this.looksLike(f.path, old))) {
        t.beforeTruncation = undefined;
        this.reindex(t);
        this.logger.info(`TAILDIR source ${this.name}: ${f.path} is a copy of ${t.path} made before it was truncated; reading the copy from pos ${old.pos}`);
        return { resolved: old.pos, of: t };
      }
      if (t.head.length > 0 && (await this.looksLike(f.path, t.print(), true))) {
        this.logger.info(`TAILDIR source ${this.name}: ${f.path} looks like a copy of ${t.path}; waiting for ${t.path} to be truncated (copytruncate) before reading it`);
        return { of: t };
      }
    }
    return undefined;
  }

  private async noteHead(tf: TailFile, p: string): Promise<void> {
    const head = await this.headOf(p);
    if (head && head.length > 0 && tf.head.length === 0) {
      tf.head = head;
      this.reindex(tf);
    }
    tf.maxSeen = Math.max(tf.maxSeen, head?.length ?? 0);
  }

  private async headOf(p: string): Promise<Buffer | undefined> {
    let fh: fs.promises.FileHandle | undefined;
    try {
      fh = await fs.promises.open(p, 'r');
      const buf = Buffer.alloc(FINGERPRINT_BYTES);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead);
    } catch {
      return undefined;
    } finally {
      await fh?.close();
    }
  }

  /** Does the file at `p` start with `print.head` and hold `print.tail` just before `print.pos`? With `headOnly`, a file too short for the tail still counts. */
  private async looksLike(p: string, print: ContentPrint, headOnly = false): Promise<boolean> {
    if (print.head.length === 0 && print.tail.length === 0) return false;
    let fh: fs.promises.FileHandle | undefined;
    try {
      fh = await fs.promises.open(p, 'r');
      const size = (await fh.stat()).size;
      if (size < print.head.length) return false;
      const head = Buffer.alloc(print.head.length);
      await fh.read(head, 0, head.length, 0);
      if (!head.equals(print.head)) return false;
      if (size < print.pos) return headOnly;
      const tail = Buffer.alloc(print.tail.length);
      await fh.read(tail, 0, tail.length, print.pos - tail.length);
      return tail.equals(print.tail);
    } catch {
      return false;
    } finally {
      await fh?.close();
    }
  }

  /**
   * Where to continue a file the position file knew (possibly under another name):
   * at its position, unless it is now shorter or, when the fingerprint taken at that
   * position is at hand, no longer holds those bytes there. Then it was truncated
   * while the agent was stopped: it starts at 0, and its old fingerprint finds the copy.
   */
  private async fromEntry(entry: PositionEntry, p: string, size: number): Promise<{ pos: number; print?: ContentPrint; head?: Buffer; tail?: Buffer }> {
    const fp = this.prints.get(`${entry.inode}:${entry.file}`);
    // The fingerprint counts only if it was taken at the recorded position (the two files are written one after the other).
    const recorded: ContentPrint | undefined = fp && fp.pos === entry.pos ? { head: fp.head, tail: fp.tail, pos: entry.pos } : undefined;
    if (size < entry.pos) {
      this.logger.info(`TAILDIR source ${this.name}: ${p} (inode ${entry.inode}) is shorter (${size}) than its recorded pos ${entry.pos}: truncated while stopped, reading it from 0`);
      return { pos: 0, print: recorded };
    }
    if (recorded && !(await this.looksLike(p, recorded))) {
      this.logger.info(`TAILDIR source ${this.name}: ${p} (inode ${entry.inode}) no longer holds what was read up to pos ${entry.pos}: truncated and written again while stopped, reading it from 0`);
      return { pos: 0, print: recorded };
    }
    if (entry.file !== p) this.logger.info(`TAILDIR source ${this.name}: ${entry.file} became ${p} while stopped (inode ${entry.inode}); continuing at pos ${entry.pos}`);
    return { pos: entry.pos, head: recorded?.head, tail: recorded?.tail };
  }

  /** Restored entries whose inode no matching name holds: rotated to another name while stopped? */
  private async findRestoredElsewhere(): Promise<void> {
    const now = Date.now();
    for (const entries of this.restore.values()) {
      for (const e of entries) {
        const dir = path.dirname(e.file);
        const group = this.s.groups.find((g) => g.dir === dir);
        let found: string | undefined;
        let st: Awaited<ReturnType<TaildirSource['statFile']>>;
        if (group) {
          for (const n of await fs.promises.readdir(dir).catch(() => [] as string[])) {
            const p = path.join(dir, n);
            if (this.byPath.has(p)) continue;
            const s = await this.statFile(p);
            if (s && s.inode === e.inode && !this.files.has(s.key)) {
              found = p;
              st = s;
              break;
            }
          }
        }
        if (!found || !st || !group) {
          this.logger.info(`TAILDIR source ${this.name}: missing file: ${e.file}, inode: ${e.inode}, pos: ${e.pos}`);
          continue;
        }
        const r = await this.fromEntry(e, found, st.size);
        const tf = new TailFile(st.key, e.inode, found, group, r.pos, st.size, now);
        tf.matched = false;
        tf.rotated = true;
        if (r.print) tf.beforeTruncation = { ...r.print, at: now };
        if (r.head && r.tail) {
          tf.head = r.head;
          tf.tail = r.tail;
        }
        this.reindex(tf);
        this.files.set(st.key, tf);
      }
    }
  }

  // ---- reading ------------------------------------------------------------

  private async open(tf: TailFile): Promise<boolean> {
    if (tf.fh) return true;
    if (this.openCount >= this.s.maxOpenFiles) await this.evict();
    // The descriptor is counted before it is opened, so opens running side by side
    // cannot together go past maxOpenFiles.
    this.openCount++;
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(tf.path, 'r');
    } catch (err) {
      this.openCount--;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.rl.warn(`open:${tf.path}`, `TAILDIR source ${this.name}: cannot open ${tf.path}: ${(err as Error).message}`);
      this.fullNeeded = true;
      return false;
    }
    const st = await fh.stat({ bigint: true });
    if (`${st.dev}:${st.ino}` !== tf.key) {
      // The name now belongs to another file: the next scan sorts out which is which.
      await fh.close();
      this.openCount--;
      this.fullNeeded = true;
      return false;
    }
    tf.fh = fh;
    tf.idleClosed = false;
    return true;
  }

  private async close(tf: TailFile): Promise<void> {
    if (!tf.fh) return;
    const fh = tf.fh;
    tf.fh = undefined;
    this.openCount--;
    // A held partial line is read again on reopening: the position stops before it.
    tf.carry = undefined;
    tf.readOff = tf.pos;
    await fh.close().catch(() => undefined);
  }

  /** Closes the least recently read descriptor of a file that still has a name, to stay under maxOpenFiles. */
  private async evict(): Promise<void> {
    let victim: TailFile | undefined;
    for (const tf of this.files.values()) {
      if (tf.fh && tf.matched && (!victim || tf.lastUse < victim.lastUse)) victim = tf;
    }
    if (victim) await this.close(victim);
  }

  /**
   * Reads what `tf` gained and sends it in batches. Returns 0 when nothing was
   * sent, 1 when lines were sent, 2 when maxBatchCount stopped it with more to read.
   */
  private async drain(tf: TailFile): Promise<number> {
    if (tf.copyOf && !this.decideCopy(tf)) return 0;
    let size: number;
    let mtimeMs: number;
    if (tf.fh) {
      const st = await tf.fh.stat();
      size = st.size;
      mtimeMs = st.mtimeMs;
    } else {
      const st = await this.statFile(tf.path);
      if (!st || st.key !== tf.key) return 0;
      size = st.size;
      mtimeMs = st.mtimeMs;
      if (size === tf.size && mtimeMs === tf.mtimeMs && (size === tf.readOff || tf.idleClosed)) return 0;
      if (!(await this.open(tf))) return 0;
    }
    tf.lastUse = Date.now();
    const touched = mtimeMs !== tf.mtimeMs;
    tf.mtimeMs = mtimeMs;
    if (size < tf.readOff || size < tf.maxSeen) await this.truncated(tf, size);
    // Written without growing past us (truncated and written again before we looked): the bytes before the position tell.
    else if ((size > tf.readOff || touched) && tf.tail.length > 0 && tf.pos >= tf.tail.length && !(await this.tailIntact(tf))) await this.truncated(tf, size);
    if (size > tf.maxSeen) tf.maxSeen = size;
    if (size !== tf.size) {
      if (size > tf.size) tf.lastGrowth = tf.lastUse;
      tf.size = size;
    }
    if (size <= tf.readOff) return 0;
    return this.read(tf, size);
  }

  /** Are the bytes before `pos` still what was read there? If not, the file was truncated and written again past our position. */
  private async tailIntact(tf: TailFile): Promise<boolean> {
    const buf = Buffer.allocUnsafe(tf.tail.length);
    const { bytesRead } = await tf.fh!.read(buf, 0, buf.length, tf.pos - buf.length);
    return bytesRead === buf.length && buf.equals(tf.tail);
  }

  /** The same inode got smaller (or rewritten): a real truncation, so it starts again at 0. */
  private async truncated(tf: TailFile, size: number): Promise<void> {
    this.logger.info(`TAILDIR source ${this.name}: ${tf.path} (inode ${tf.inode}) was truncated to ${size} bytes below pos ${tf.pos}; reading it again from 0`);
    const before = tf.print();
    tf.truncations++;
    const pending = [...this.files.values()].find((c) => c.copyOf === tf);
    if (pending) this.takeCopy(pending, before.pos);
    else if (before.head.length > 0) {
      // copytruncate to a name the group does not match: the copy holds what was not read yet.
      const copy = await this.findCopy(tf, before);
      if (copy) {
        this.logger.info(`TAILDIR source ${this.name}: ${copy.path} is the copy of ${tf.path} made before the truncation; reading it from pos ${before.pos}`);
        this.files.set(copy.key, copy);
      } else tf.beforeTruncation = { ...before, at: Date.now() };
    }
    tf.pos = 0;
    tf.readOff = 0;
    tf.carry = undefined;
    tf.head = Buffer.alloc(0);
    tf.tail = Buffer.alloc(0);
    tf.size = size;
    tf.maxSeen = size;
    this.reindex(tf);
    this.positionsDirty = true;
  }

  /** A not followed file in `tf`'s directory that starts as `tf` did and holds its bytes before its position. */
  private async findCopy(tf: TailFile, print: ContentPrint): Promise<TailFile | undefined> {
    const dir = path.dirname(tf.path);
    for (const n of await fs.promises.readdir(dir).catch(() => [] as string[])) {
      const p = path.join(dir, n);
      if (this.byPath.has(p)) continue;
      const st = await this.statFile(p);
      if (!st || this.files.has(st.key) || st.size < print.pos) continue;
      if (!(await this.looksLike(p, print))) continue;
      const copy = new TailFile(st.key, st.inode, p, tf.group, print.pos, st.size, Date.now());
      copy.matched = false;
      copy.rotated = true;
      return copy;
    }
    return undefined;
  }

  private takeCopy(copy: TailFile, pos: number): void {
    this.logger.info(`TAILDIR source ${this.name}: ${copy.copyOf!.path} was truncated; reading its copy ${copy.path} from pos ${pos}`);
    copy.copyOf = undefined;
    copy.pos = copy.readOff = pos;
    copy.rotated = true;
    this.positionsDirty = true;
  }

  /** A file waiting as a possible copy: true once it may be read. */
  private decideCopy(tf: TailFile): boolean {
    const orig = tf.copyOf!;
    if (!this.files.has(orig.key) || orig.truncations !== tf.truncations) {
      // Its original is gone or was truncated without this copy being taken: read the copy from where the original was.
      this.takeCopy(tf, orig.truncations !== tf.truncations ? 0 : orig.pos);
      return true;
    }
    if (Date.now() - tf.copySince < COPY_WAIT_MS) return false;
    // Not truncated: a plain copy whose bytes the original sends; only what is added to it later is new.
    this.logger.info(`TAILDIR source ${this.name}: ${tf.path} is a copy of ${orig.path}, which was not truncated; reading only what is added to it`);
    tf.copyOf = undefined;
    tf.pos = tf.readOff = tf.size;
    this.positionsDirty = true;
    return true;
  }

  private async read(tf: TailFile, size: number): Promise<number> {
    const bs = this.s.batchSize;
    const max = this.s.maxLineLength;
    let batch: FlumeEvent[] = [];
    let batches = 0;
    let sent = 0;
    /** Where the lines of an unsent batch end, should the next read find nothing. */
    let held: { end: number; data: Buffer; start: number; lastStart: number } | undefined;
    const fh = tf.fh!;
    while (tf.readOff < size) {
      const carry = tf.carry;
      const carryLen = carry ? carry.length : 0;
      const want = Math.min(CHUNK, size - tf.readOff);
      let data = Buffer.allocUnsafe(carryLen + want);
      if (carry) carry.copy(data, 0);
      const { bytesRead } = await fh.read(data, carryLen, want, tf.readOff);
      if (bytesRead === 0) break;
      if (bytesRead < want) data = data.subarray(0, carryLen + bytesRead);
      const base = tf.readOff - carryLen;
      tf.readOff += bytesRead;
      tf.carry = undefined;
      if (base === 0 && tf.head.length < FINGERPRINT_BYTES) {
        tf.head = Buffer.from(data.subarray(0, Math.min(FINGERPRINT_BYTES, data.length)));
        this.reindex(tf);
      }
      const end = data.length;
      let start = 0;
      let lastStart = 0;
      for (;;) {
        let nl = data.indexOf(NL, start);
        let next: number;
        if (nl < 0) {
          // No newline: a line longer than the limit is cut, never buffered without bound.
          if (end - start <= max) break;
          nl = start + max;
          next = nl;
          this.counter.EventReadFail++;
          this.rl.warn('long-line', `TAILDIR source ${this.name}: a line of ${tf.path} at byte ${base + start} is longer than maxLineLength (${max}); it is split into events of ${max} bytes`);
        } else {
          next = nl + 1;
          if (nl - start > max) {
            nl = start + max;
            next = nl;
            this.counter.EventReadFail++;
            this.rl.warn('long-line', `TAILDIR source ${this.name}: a line of ${tf.path} at byte ${base + start} is longer than maxLineLength (${max}); it is split into events of ${max} bytes`);
          } else if (nl > start && data[nl - 1] === CR) nl--;
        }
        batch.push(this.event(tf, data, start, nl, base + start));
        lastStart = start;
        start = next;
        if (batch.length >= bs) {
          if (!(await this.send(tf, batch, base + start, data, start, lastStart))) return sent > 0 ? 1 : 0;
          sent += batch.length;
          batch = [];
          batches++;
        }
      }
      if (start < end) tf.carry = Buffer.from(data.subarray(start, end));
      // At the end of what there is now (a short read: the file may also have shrunk since its size was taken), the batch goes.
      if (batch.length > 0 && (tf.readOff >= size || bytesRead < want || batches + 1 >= this.s.maxBatchCount)) {
        if (!(await this.send(tf, batch, base + start, data, start, lastStart))) return sent > 0 ? 1 : 0;
        sent += batch.length;
        batch = [];
        batches++;
      }
      if (batches >= this.s.maxBatchCount) return tf.readOff < size ? 2 : 1;
      held = batch.length > 0 ? { end: base + start, data, start, lastStart } : undefined;
    }
    // A read that found nothing more (the file shrank under us) still sends what was cut.
    if (batch.length > 0 && held) {
      if (!(await this.send(tf, batch, held.end, held.data, held.start, held.lastStart))) return sent > 0 ? 1 : 0;
      sent += batch.length;
    }
    return sent > 0 ? 1 : 0;
  }

  private event(tf: TailFile, data: Buffer, start: number, end: number, offset: number): FlumeEvent {
    const e = new SlicedEvent(data, start, end);
    if (this.hasHeaders) {
      const h: Record<string, string> = { ...tf.group.headers };
      if (this.s.fileHeader) h[this.s.fileHeaderKey] = tf.path;
      if (this.s.byteOffsetHeader) h.byteoffset = String(offset);
      e.headers = h;
    }
    return e;
  }

  /**
   * Stores a batch, retrying while the channels refuse it (1 s doubling to 5 s, as
   * Flume); only then does the position move to `endPos`. False if stopped first.
   */
  private async send(tf: TailFile, batch: FlumeEvent[], endPos: number, data: Buffer, endInData: number, lastStart: number): Promise<boolean> {
    this.counter.EventReceivedCount += batch.length;
    this.counter.AppendBatchReceivedCount++;
    let wait = 1000;
    for (;;) {
      try {
        await this.processor.processEventBatch(batch);
        break;
      } catch (err) {
        this.counter.ChannelWriteFail++;
        if (this.abort.signal.aborted) {
          this.logger.warn(`TAILDIR source ${this.name}: stopping with ${batch.length} line(s) of ${tf.path} not stored; they are read again at the next start (${(err as Error).message})`);
          return false;
        }
        this.rl.warn('channel', `TAILDIR source ${this.name}: the channel is full or failing (${(err as Error).message}); trying again in ${wait} ms`);
        await sleep(wait, this.abort.signal);
        wait = Math.min(wait * 2, 5000);
      }
    }
    this.counter.EventAcceptedCount += batch.length;
    this.counter.AppendBatchAcceptedCount++;
    tf.pos = endPos;
    // The last line whole (where logs put their timestamps), at least FINGERPRINT_BYTES, at most TAIL_MAX.
    tf.tail = Buffer.from(data.subarray(Math.max(0, Math.min(lastStart, endInData - FINGERPRINT_BYTES), endInData - TAIL_MAX), endInData));
    this.positionsDirty = true;
    return true;
  }

  /** Idle files let go of their descriptors; a rotated file's partial last line is sent then, as it will never be finished. */
  private async closeIdle(now: number): Promise<void> {
    for (const tf of [...this.files.values()]) {
      if (tf.copyOf || now - tf.lastGrowth < this.s.idleTimeout || tf.readOff < tf.size) continue;
      if (tf.fh && tf.rotated && tf.carry && tf.carry.length > 0) {
        const c = tf.carry;
        tf.carry = undefined;
        await this.send(tf, [this.event(tf, c, 0, c.length, tf.readOff - c.length)], tf.readOff, c, c.length, 0);
      }
      if (tf.fh) {
        await this.close(tf);
        tf.idleClosed = true;
        this.logger.info(`TAILDIR source ${this.name}: closed idle file ${tf.path}, inode: ${tf.inode}, pos: ${tf.pos}`);
      }
      if (!tf.matched) this.drop(tf);
    }
  }

  // ---- positions ----------------------------------------------------------

  /** Writes the position file (Java Flume's format) and its fingerprints, each replaced atomically, when something changed. */
  private writePositions(): Promise<void> {
    this.posWriting = this.posWriting.then(async () => {
      if (!this.positionsDirty) return;
      this.positionsDirty = false;
      const entries: PositionEntry[] = [];
      const prints: Fingerprint[] = [];
      for (const tf of this.files.values()) {
        if (tf.copyOf) continue;
        entries.push({ inode: tf.inode, pos: tf.pos, file: tf.path });
        if (tf.head.length > 0) prints.push({ inode: tf.inode, file: tf.path, pos: tf.pos, head: tf.head, tail: tf.tail });
      }
      try {
        await writeAtomically(fingerprintPath(this.s.positionFile), formatFingerprints(prints));
        await writeAtomically(this.s.positionFile, formatPositions(entries));
      } catch (err) {
        this.positionsDirty = true;
        this.counter.GenericProcessingFail++;
        this.rl.error('posfile', `TAILDIR source ${this.name}: failed writing position file ${this.s.positionFile}: ${(err as Error).message}`);
      }
    });
    return this.posWriting;
  }
}
