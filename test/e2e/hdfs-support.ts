import fs from 'node:fs';
import path from 'node:path';
import { ROOT, startAgent, tempDir, type RunningAgent } from '../support/agent.js';
import { WebHdfsServer } from '../support/webhdfs/server.js';

export { WebHdfsServer };

/** A seed job file from jobs/hdfs with lines replaced or added (key → value; undefined removes). */
export function seedJob(file: string, set: Record<string, string | undefined>): string {
  const lines = fs.readFileSync(path.join(ROOT, 'jobs', 'hdfs', file), 'utf8').split('\n');
  const out: string[] = [];
  const done = new Set<string>();
  for (const l of lines) {
    const m = /^\s*([^#=\s][^=]*?)\s*=/.exec(l);
    if (m && m[1]! in set) {
      done.add(m[1]!);
      if (set[m[1]!] !== undefined) out.push(`${m[1]} = ${set[m[1]!]}`);
      continue;
    }
    out.push(l);
  }
  for (const [k, v] of Object.entries(set)) if (!done.has(k) && v !== undefined) out.push(`${k} = ${v}`);
  return out.join('\n') + '\n';
}

/** A WebHDFS server and a temp dir, cleaned up after `fn`, with agents started in it stopped. */
export async function withHdfs(fn: (h: { server: WebHdfsServer; dir: string; start(job: string, name?: string): Promise<RunningAgent> }) => Promise<void>): Promise<void> {
  const server = await WebHdfsServer.start();
  const t = tempDir('flume-hdfs-');
  const agents: RunningAgent[] = [];
  try {
    await fn({
      server,
      dir: t.dir,
      start: async (job, name = 'a1') => {
        const a = await startAgent(job, { dir: t.dir, name, env: { TZ: 'UTC' } });
        agents.push(a);
        return a;
      },
    });
  } finally {
    for (const a of agents) await a.stop('SIGKILL').catch(() => {});
    await server.stop();
    t.cleanup();
  }
}

/** Files under `dir` grouped: finished and in-use (.tmp). */
export function filesOf(server: WebHdfsServer, dir = '/'): { done: string[]; inUse: string[] } {
  const all = server.listFiles(dir);
  return { done: all.filter((f) => !f.endsWith('.tmp')), inUse: all.filter((f) => f.endsWith('.tmp')) };
}

/** The concatenated bytes of `files` in name order (counters increase with time). */
export function concatFiles(server: WebHdfsServer, files: string[]): Buffer {
  return Buffer.concat([...files].sort().map((f) => server.read(f)));
}

const p2 = (n: number): string => String(n).padStart(2, '0');
/** %D/%H of a time in UTC (what the seed paths resolve to with TZ=UTC). */
export function dH(ms: number): string {
  const d = new Date(ms);
  return `${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())}/${p2(d.getUTCFullYear() % 100)}/${p2(d.getUTCHours())}`;
}
/** %Y%m%d/%H in UTC. */
export function ymdH(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}/${p2(d.getUTCHours())}`;
}
