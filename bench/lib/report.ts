import fs from 'node:fs';
import type { Row, Sample, Target } from './types.js';
import type { MachineInfo } from './machine.js';

export const eps = (s: Sample): number => (s.seconds > 0 ? s.events / s.seconds : 0);
export const mbps = (s: Sample): number => (eps(s) * s.bytesPerEvent) / 1e6;
/** CPU microseconds per event delivered (start-up included), or undefined. */
export const cpuPerEvent = (s: Sample): number | undefined => (s.cpuSeconds !== undefined && s.events > 0 ? (s.cpuSeconds * 1e6) / s.events : undefined);
const us = (x: number | undefined): string => (x === undefined ? '—' : x < 10 ? x.toFixed(2) : x.toFixed(1));

/** The median sample: by events/s for throughput rows, by RSS for idle rows. */
export function median(samples: readonly Sample[], kind: Row['kind']): Sample | undefined {
  if (samples.length === 0) return undefined;
  const key = kind === 'idle' ? (s: Sample) => s.rssKb : eps;
  const sorted = [...samples].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;
const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');

export interface Summary {
  row: Row;
  ours?: Sample;
  peer?: Sample;
  met: boolean | undefined;
}

export function summarize(row: Row): Summary {
  const ours = median(row.ours, row.kind);
  const peer = median(row.peer, row.kind);
  return { row, ours, peer, met: ours ? targetMet(row.target, ours, peer) : undefined };
}

function targetMet(t: Target | undefined, ours: Sample, peer: Sample | undefined): boolean | undefined {
  if (!t) return undefined;
  const lost = (ours.lost ?? 0) > 0;
  switch (t.metric) {
    case 'eps':
      return !lost && eps(ours) >= t.min;
    case 'eps-vs-peer':
      return peer ? !lost && eps(ours) >= t.minRatio * eps(peer) : undefined;
    case 'rss-mb':
      return ours.rssKb / 1024 <= t.max;
  }
}

export function targetText(t: Target | undefined): string {
  if (!t) return '—';
  switch (t.metric) {
    case 'eps':
      return `≥ ${int(t.min)} ev/s`;
    case 'eps-vs-peer':
      return t.minRatio === 1 ? '≥ peer ev/s' : `≥ ${t.minRatio}× peer ev/s`;
    case 'rss-mb':
      return `RSS ≤ ${t.max} MB`;
  }
}

const metText = (m: boolean | undefined): string => (m === undefined ? '—' : m ? 'yes' : '**no**');

/** Cells of one row of the results table (markdown-safe). */
function cells(s: Summary): string[] {
  const { row, ours, peer } = s;
  const memKb = (x: Sample | undefined): number | undefined => (x ? (row.kind === 'idle' ? x.rssKb : x.peakRssKb) : undefined);
  const o = memKb(ours);
  const p = memKb(peer);
  const thr = (x: Sample | undefined): [string, string] => (row.kind === 'idle' || !x ? ['—', '—'] : [int(eps(x)), mbps(x).toFixed(1)]);
  const [oe, om] = thr(ours);
  const [pe, pm] = thr(peer);
  const cpu = (x: Sample | undefined): string => (row.kind === 'idle' || !x ? '—' : us(cpuPerEvent(x)));
  return [
    row.title,
    oe,
    om,
    cpu(ours),
    o !== undefined ? mb(o) : '—',
    pe,
    pm,
    cpu(peer),
    p !== undefined ? mb(p) : '—',
    row.kind === 'idle' || !ours || !peer ? '—' : ratio(eps(ours), eps(peer)),
    o !== undefined && p !== undefined ? ratio(o, p) : '—',
    targetText(row.target),
    metText(s.met),
  ];
}

const HEAD = ['topology', 'ours ev/s', 'ours MB/s', 'ours CPU µs/ev', 'ours RSS', 'peer ev/s', 'peer MB/s', 'peer CPU µs/ev', 'peer RSS', 'ev/s ours÷peer', 'RSS ours÷peer', 'target', 'met'];

export function consoleTable(summaries: readonly Summary[]): string {
  const rows = [HEAD, ...summaries.map(cells)].map((r) => r.map((c) => c.replace(/\*\*/g, '')));
  const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [fmt(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(fmt)].join('\n');
}

/** One run in words: events, time, rate, memory, loss and notes. */
export function sampleLine(kind: Row['kind'], s: Sample): string {
  const base =
    kind === 'idle'
      ? `RSS ${mb(s.rssKb)} (peak ${mb(s.peakRssKb)})`
      : `${int(s.events)} ev in ${s.seconds.toFixed(3)} s = ${int(eps(s))} ev/s, CPU ${s.cpuSeconds?.toFixed(2) ?? '?'} s (${us(cpuPerEvent(s))} µs/ev), peak ${mb(s.peakRssKb)}`;
  const extra: string[] = [];
  if (s.lost !== undefined) extra.push(`lost ${int(s.lost)}`);
  if (s.duplicated) extra.push(`duplicated ${int(s.duplicated)}`);
  for (const n of s.notes ?? []) extra.push(n);
  return extra.length ? `${base} (${extra.join('; ')})` : base;
}

function runsText(row: Row, samples: readonly Sample[]): string {
  return samples.length === 0 ? '—' : samples.map((s) => sampleLine(row.kind, s)).join('<br>');
}

/** Where the generated part of RESULTS.md ends; text after this line is kept across runs. */
export const KEEP_MARKER = '<!-- bench: everything below this line is kept when the benchmark rewrites this file -->';

export function resultsMarkdown(machine: MachineInfo, summaries: readonly Summary[], args: string): string {
  const md: string[] = [];
  md.push('# Benchmark results', '');
  md.push(
    `Written by \`npm run bench${args ? ' -- ' + args : ''}\` (bench/run.ts) on ${machine.date}. Each cell shows the run with the median events/s (idle rows:`,
    'the median RSS) of the runs listed under the table; the peer ran in the same invocation, alternating with our agent, on the same machine.',
    'MB/s is 10^6 bytes of payload per second (see each topology for what',
    "the payload is). CPU µs/ev is the process's user + system CPU time (all threads, start-up included) divided by the events delivered: it depends",
    'less than events/s on what else the machine was doing. RSS is the peak resident set size (VmHWM) of the process, except for idle rows, where it',
    'is the RSS after idling. Each run notes how much of the machine other programs used meanwhile (other sessions may run tests on these cores).',
    '',
  );
  md.push('## Machine', '');
  md.push('| | |', '|---|---|');
  md.push(`| CPU | ${machine.cpuModel} |`);
  md.push(`| cores | ${machine.cores} |`);
  md.push(`| memory | ${machine.memoryGiB.toFixed(1)} GiB |`);
  md.push(`| OS | ${machine.os} (kernel ${machine.kernel}) |`);
  md.push(`| node | ${machine.node} |`);
  md.push(`| peer | ${machine.peer} |`);
  md.push(`| date | ${machine.date} |`, '');
  md.push('## Results', '');
  md.push(`| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
  for (const s of summaries) md.push(`| ${cells(s).join(' | ')} |`);
  md.push('');
  md.push('## Topologies, methods and runs', '');
  for (const s of summaries) {
    const r = s.row;
    md.push(`### ${r.title} (\`${r.id}\`)`, '');
    md.push(r.method, '');
    md.push(`- peer: ${r.peerLabel}`);
    md.push(r.target ? `- target: ${targetText(r.target)}: ${metText(s.met)}` : '- target: none (see below)');
    md.push(`- ours, runs: ${runsText(r, r.ours)}`);
    md.push(`- peer, runs: ${runsText(r, r.peer)}`);
    for (const n of r.notes) md.push(`- ${n}`);
    md.push('');
  }
  md.push(KEEP_MARKER, '');
  return md.join('\n');
}

/** Writes `generated` to `file`, keeping whatever an earlier version had after KEEP_MARKER. */
export function writeResults(file: string, generated: string): void {
  let kept = '';
  if (fs.existsSync(file)) {
    const old = fs.readFileSync(file, 'utf8');
    const at = old.indexOf(KEEP_MARKER);
    if (at >= 0) kept = old.slice(at + KEEP_MARKER.length).replace(/^\n+/, '');
  }
  fs.writeFileSync(file, kept ? `${generated}\n${kept}` : generated);
}
