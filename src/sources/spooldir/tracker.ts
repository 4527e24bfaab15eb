import fs from 'node:fs';
import path from 'node:path';

/** The file being read and how far its events are committed. */
export interface Meta {
  file: string;
  ino: number;
  dev: number;
  size: number;
  mtimeMs: number;
  offset: number;
  skip: number;
}

/** Flume's name for the position file in trackerDir. */
export const META_NAME = '.flumespool-main.meta';

/**
 * The position of the file being read, in `<trackerDir>/.flumespool-main.meta`
 * (Flume's name; the content is JSON). It is written after every committed batch as
 * a whole new file renamed over the old one, so a crash or a full disk leaves either
 * the old position or the new one, never a torn mix. Sync calls: the file is tiny,
 * and a hand-off to the thread pool would cost more than the write.
 */
export class Tracker {
  readonly path: string;
  private readonly tmp: string;

  constructor(dir: string) {
    this.path = path.join(dir, META_NAME);
    this.tmp = `${this.path}.tmp`;
  }

  /** The stored position, nothing, or why the file cannot be used. */
  load(): { meta?: Meta; corrupt?: string } {
    let raw: Buffer;
    try {
      raw = fs.readFileSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      return { corrupt: `cannot be read: ${(err as Error).message}` };
    }
    if (raw.length === 0) return {};
    if (raw.subarray(0, 4).equals(Buffer.from('Obj\x01', 'latin1'))) return { corrupt: 'it is an Avro file written by Java Flume, whose positions are not read' };
    let m: Partial<Meta>;
    try {
      m = JSON.parse(raw.toString('utf8')) as Partial<Meta>;
    } catch (err) {
      return { corrupt: `it is not valid JSON (${(err as Error).message})` };
    }
    const nums = ['ino', 'dev', 'size', 'mtimeMs', 'offset', 'skip'] as const;
    if (typeof m !== 'object' || m === null || typeof m.file !== 'string' || nums.some((k) => typeof m[k] !== 'number' || !Number.isFinite(m[k]) || m[k]! < 0)) {
      return { corrupt: 'it lacks the fields file, ino, dev, size, mtimeMs, offset and skip' };
    }
    if (m.offset! > m.size!) return { corrupt: `its offset ${m.offset} is past the size ${m.size} of ${m.file}` };
    return { meta: m as Meta };
  }

  /** Stores the position: a new file renamed over the old one. */
  save(m: Meta): void {
    fs.writeFileSync(this.tmp, JSON.stringify(m));
    fs.renameSync(this.tmp, this.path);
  }

  clear(): void {
    fs.rmSync(this.path, { force: true });
  }

  /** Moves an unusable position file aside (kept for inspection) and returns its new name. */
  setAside(): string {
    const dest = `${this.path}.corrupt-${Date.now()}`;
    fs.renameSync(this.path, dest);
    return dest;
  }
}
