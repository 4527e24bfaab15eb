import fs from 'node:fs';
import { watch as chokidarWatch } from 'chokidar';
import { readJobFile, type JobText } from '../load.js';
import type { ConfigSource } from './types.js';

/**
 * Job files on disk. Changes are noticed through file-system events (chokidar) and,
 * in case an event is missed (network file systems, some editors' rename dance), by
 * comparing size, mtime and inode every `pollSeconds` (Flume's -i, default 30).
 */
export class FileConfigSource implements ConfigSource {
  readonly description: string;

  constructor(
    private readonly files: readonly string[],
    private readonly pollSeconds: number,
  ) {
    this.description = files.join(', ');
  }

  async read(): Promise<JobText[]> {
    return this.files.map((f) => {
      const r = readJobFile(f);
      if ('error' in r) throw new Error(r.error);
      return { name: f, text: r.text };
    });
  }

  watch(onChange: () => void): () => Promise<void> {
    const stamp = (): string =>
      this.files
        .map((f) => {
          try {
            const st = fs.statSync(f);
            return `${st.ino}:${st.size}:${st.mtimeMs}`;
          } catch {
            return 'missing';
          }
        })
        .join('|');
    let last = stamp();
    const check = (): void => {
      const now = stamp();
      if (now !== last) {
        last = now;
        onChange();
      }
    };
    const watcher = chokidarWatch([...this.files], { ignoreInitial: true, persistent: false });
    watcher.on('all', check);
    watcher.on('error', () => {});
    const timer = setInterval(check, this.pollSeconds * 1000);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await watcher.close();
    };
  }
}
