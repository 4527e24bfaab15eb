import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 .cpuprofile (written by `node --cpu-prof`) that we read. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  name: string;
  selfMs: number;
  totalMs: number;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function label(cf: CpuProfile['nodes'][number]['callFrame']): string {
  const fn = cf.functionName || '(anonymous)';
  if (!cf.url) return fn;
  let file = cf.url.startsWith('file://') ? fileURLToPath(cf.url) : cf.url;
  if (file.startsWith(ROOT + path.sep)) file = path.relative(ROOT, file);
  return `${fn} ${file}:${cf.lineNumber + 1}`;
}

/**
 * Self and total (inclusive) time per function of one profile, largest self time
 * first. Total time counts a function once per sample even when it recurses.
 */
export function summarizeProfile(file: string): { wallMs: number; entries: ProfileEntry[] } {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<string, number>();
  const totalUs = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    let id: number | undefined = p.samples[i]!;
    const leaf = label(byId.get(id)!.callFrame);
    selfUs.set(leaf, (selfUs.get(leaf) ?? 0) + dt);
    const seen = new Set<string>();
    while (id !== undefined) {
      const name = label(byId.get(id)!.callFrame);
      if (!seen.has(name)) {
        seen.add(name);
        totalUs.set(name, (totalUs.get(name) ?? 0) + dt);
      }
      id = parent.get(id);
    }
  }
  const entries = [...totalUs.keys()].map((name) => ({ name, selfMs: (selfUs.get(name) ?? 0) / 1000, totalMs: totalUs.get(name)! / 1000 }));
  entries.sort((a, b) => b.selfMs - a.selfMs);
  return { wallMs: (p.endTime - p.startTime) / 1000, entries };
}

/** A text report: the top `top` functions by self time and by total time. */
export function profileReport(file: string, top = 25): string {
  const { wallMs, entries } = summarizeProfile(file);
  const pct = (ms: number): string => `${((100 * ms) / wallMs).toFixed(1).padStart(5)}%`;
  const lines = [`${file}: ${(wallMs / 1000).toFixed(2)} s profiled`, '  by self time:'];
  for (const e of entries.slice(0, top)) lines.push(`  ${pct(e.selfMs)} self ${pct(e.totalMs)} total  ${e.name}`);
  lines.push('  by total time:');
  for (const e of [...entries].sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) lines.push(`  ${pct(e.totalMs)} total ${pct(e.selfMs)} self  ${e.name}`);
  return lines.join('\n');
}

/** Every .cpuprofile under `dir`, recursively. */
export function findProfiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findProfiles(p));
    else if (e.name.endsWith('.cpuprofile')) out.push(p);
  }
  return out.sort();
}

// `node dist/bench/profile-summary.js <file.cpuprofile | dir>... [--top N]`
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const ti = args.indexOf('--top');
  const top = ti >= 0 ? Number(args.splice(ti, 2)[1]) : 25;
  for (const a of args) for (const f of fs.statSync(a).isDirectory() ? findProfiles(a) : [a]) console.log(profileReport(f, top) + '\n');
}
