// Helpers shared by the spooldir end-to-end tests.
import fs from 'node:fs';
import path from 'node:path';
import { jobText, type RunningAgent } from '../support/agent.js';

type Props = Record<string, string | number | boolean>;

/** spooldir r1 → memory c1 → file_roll k1 writing one file into `out`. */
export function spoolJob(spool: string, out: string, source: Props = {}, opts: { channel?: Props; sink?: Props } = {}): string {
  return jobText({
    sources: { r1: { type: 'spooldir', spoolDir: spool, channels: 'c1', quietPeriod: 200, pollDelay: 100, ...source } },
    channels: { c1: { type: 'memory', capacity: 10000, transactionCapacity: 1000, ...opts.channel } },
    sinks: { k1: { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.batchSize': 1000, channel: 'c1', ...opts.sink } },
  });
}

/** Every line file_roll wrote into `dir`, in file order. */
export function outLines(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      return lines;
    });
}

/** `<tag>-<n>` for n in 0..count-1, one per line. */
export function numbered(tag: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${tag}-${i}`);
}

/** Writes the lines (each with its newline) to `file`. */
export function writeLines(file: string, lines: readonly string[]): void {
  fs.writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
}

/** How often each line occurs. */
export function countLines(lines: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}

/** The source counters the agent logs when the spooldir source stops. */
export function stopMetrics(agent: RunningAgent): Record<string, number> {
  const m = (agent.stdout() + agent.stderr()).match(/SpoolDir source r1 stopped\. Metrics: (\{.*\})/);
  if (!m) throw new Error(`no stop metrics in the output:\n${agent.stderr()}`);
  return JSON.parse(m[1]!) as Record<string, number>;
}

/** Names in `dir`, sorted. */
export function names(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}
