/**
 * `npm run bench`: runs each topology against our agent and, in the same run, against
 * a peer (syslog-ng) doing the same work; prints a table and writes bench/RESULTS.md.
 *
 *   npm run bench -- [--only=<id>[,<id>…]] [--repeat=N] [--profile[=<dir>]] [--no-write]
 *
 * --only      run only the topologies whose id contains one of these strings
 * --repeat    runs per throughput figure (default 5); the median is reported
 * --profile   run our agents under V8's CPU profiler, print where their time went
 *             (figures taken this way are not written to RESULTS.md)
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../test/support/agent.js';
import { cpuSnapshot, otherLoad } from './lib/cpu.js';
import { machineInfo } from './lib/machine.js';
import { consoleTable, resultsMarkdown, sampleLine, summarize, writeResults } from './lib/report.js';
import { ensureSyslogNg } from './lib/syslog-ng.js';
import type { BenchContext, Row } from './lib/types.js';
import { topologies } from './topologies/index.js';
import { findProfiles, profileReport } from './profile-summary.js';

const RESULTS = path.join(ROOT, 'bench', 'RESULTS.md');

function parseArgs(argv: readonly string[]): { only: string[]; repeat: number; profile?: string; write: boolean } {
  const o = { only: [] as string[], repeat: 5, profile: undefined as string | undefined, write: true };
  for (const a of argv) {
    const [k, v] = a.split(/=(.*)/s) as [string, string | undefined];
    if (k === '--only' && v) o.only.push(...v.split(','));
    else if (k === '--repeat' && v && Number(v) >= 1) o.repeat = Math.floor(Number(v));
    else if (k === '--profile') o.profile = v || fs.mkdtempSync(path.join(os.tmpdir(), 'flume-bench-prof-'));
    else if (k === '--no-write') o.write = false;
    else {
      process.stderr.write(`bench: unknown argument ${a}\nusage: npm run bench -- [--only=<id>,…] [--repeat=N] [--profile[=<dir>]] [--no-write]\n`);
      process.exit(2);
    }
  }
  if (o.profile) o.write = false;
  return o;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const log = (m: string): void => {
    process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${m}\n`);
  };
  // A ^C must still kill every process we started (the exit handlers in proc.ts and test/support do it).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

  const syslogNg = ensureSyslogNg(log);
  const peer = 'unavailable' in syslogNg ? `none (${syslogNg.unavailable})` : `syslog-ng ${syslogNg.version} and loggen (Debian syslog-ng-core)`;
  const machine = machineInfo(peer);
  log(`${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB, node ${machine.node}; peer: ${peer}`);

  const sample: BenchContext['sample'] = (kind, s) => {
    log(`  ${sampleLine(kind, s)}`);
    return s;
  };
  const measure: BenchContext['measure'] = async (kind, run) => {
    const before = cpuSnapshot();
    const s = await run();
    const other = otherLoad(before, cpuSnapshot());
    if (other !== undefined) (s.notes ??= []).push(`other programs used ${(other * 100).toFixed(0)}% of the machine meanwhile`);
    return sample(kind, s);
  };
  const ctx: BenchContext = { repeat: args.repeat, syslogNg, log, sample, measure, ...(args.profile ? { profileDir: args.profile } : {}) };
  const chosen = topologies.filter((t) => args.only.length === 0 || args.only.some((o) => t.id.includes(o)));
  if (chosen.length === 0) {
    log(`no topology matches ${args.only.join(',')}; ids: ${topologies.map((t) => t.id).join(', ')}`);
    return 2;
  }
  const rows: Row[] = [];
  let failed = false;
  for (const t of chosen) {
    try {
      rows.push(...(await t.run(ctx)));
    } catch (err) {
      failed = true;
      log(`topology ${t.id} failed: ${(err as Error).stack ?? err}`);
    }
  }
  const summaries = rows.map(summarize);
  process.stdout.write('\n' + consoleTable(summaries) + '\n\n');
  for (const s of summaries) for (const x of [...s.row.ours, ...s.row.peer]) if (x.lost) log(`${s.row.title}: ${x.lost} line(s) lost`);

  if (args.profile) {
    for (const f of findProfiles(args.profile)) process.stdout.write(profileReport(f) + '\n\n');
    log(`profiles are in ${args.profile}`);
  }
  const partial = args.only.length > 0 || failed;
  if (args.write && !partial) {
    const shown = process.argv.slice(2).join(' ');
    writeResults(RESULTS, resultsMarkdown(machine, summaries, shown));
    log(`wrote ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
  } else if (args.write) {
    log(`not writing ${RESULTS}: ${failed ? 'a topology failed' : 'only some topologies ran'}`);
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return failed ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
