import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ROOT, spawnFlume, writeJob, type RunningAgent } from '../../test/support/agent.js';
import { memoryOf } from './proc.js';

/** The profiler preload, compiled beside this file. */
const PROFILER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cpu-profile.js');

/** The log pattern the harness parses; passed with -D so conf/ changes cannot break it. */
const PATTERN = '%d [%p - %c] %m';

export interface BenchAgent {
  agent: RunningAgent;
  pid: number;
  /** When the agent logged "Agent … started" (its own clock, ms since the epoch). */
  startedAtMs: number;
  /** Waits for a log line matching `re` (which must not be anchored) and returns it with the time the agent logged it. */
  waitLog(re: RegExp, timeoutMs: number): Promise<{ match: RegExpMatchArray; loggedAtMs: number }>;
  /** Peak RSS, RSS and CPU time so far. */
  memory(): { peakRssKb: number; rssKb: number; cpuSeconds: number };
  stop(): Promise<void>;
}

/**
 * Starts `bin/flume-ng agent -n a1 -f <job> -c conf -Dflume.root.logger=INFO,console`
 * as a user would, and waits until it logged that it started. With `profileDir` the
 * agent runs with V8's CPU profiler (preloaded through NODE_OPTIONS, see
 * cpu-profile.ts) and writes its profile there when it stops.
 */
export async function startBenchAgent(job: string, o: { dir: string; profileDir?: string; name?: string }): Promise<BenchAgent> {
  const name = o.name ?? 'a1';
  const file = writeJob(o.dir, job);
  const env: NodeJS.ProcessEnv = {};
  if (o.profileDir) {
    fs.mkdirSync(o.profileDir, { recursive: true });
    // Node 20 does not take --cpu-prof from NODE_OPTIONS; a preloaded module starts the same profiler.
    env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(PROFILER).href}`.trim();
    env.BENCH_CPU_PROF_DIR = o.profileDir;
  }
  const agent = spawnFlume(['agent', '-n', name, '-f', file, '-c', path.join(ROOT, 'conf'), '-Dflume.root.logger=INFO,console', `-Dflume.log.pattern=${PATTERN}`], { env });
  const pid = agent.proc.pid!;
  const waitLog = async (re: RegExp, timeoutMs: number): Promise<{ match: RegExpMatchArray; loggedAtMs: number }> => {
    const line = new RegExp(`^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3}) \\[[A-Z]+ - [^\\]]*\\] .*?(?:${re.source})`, 'm');
    const m = await agent.waitFor(line, timeoutMs);
    return { match: m, loggedAtMs: parseLog4jTime(m[1]!) };
  };
  let startedAtMs: number;
  try {
    startedAtMs = (await waitLog(new RegExp(`Agent ${name} started`), 20000)).loggedAtMs;
  } catch (err) {
    await agent.stop('SIGKILL');
    throw err;
  }
  return {
    agent,
    pid,
    startedAtMs,
    waitLog,
    memory: () => memoryOf(pid),
    async stop() {
      await agent.stop('SIGTERM');
    },
  };
}

/** log4j's `%d`: `2026-11-21 04:42:41,123`, local time. */
function parseLog4jTime(s: string): number {
  const m = s.match(/^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3})$/)!;
  return new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!).getTime();
}
