/**
 * What a topology module hands back to the harness. A topology measures our agent
 * and, in the same run, a peer doing the same work; the harness prints and records
 * both side by side.
 */

/** One measured run of one process (our agent or the peer). */
export interface Sample {
  /** Events delivered end to end (counted at the destination where the topology can). */
  events: number;
  /** Seconds from the start of the work to the last event delivered (idle rows: seconds idle). */
  seconds: number;
  /** Payload bytes per event used for MB/s: the body, or for line protocols the line with its newline. */
  bytesPerEvent: number;
  /** Peak resident set size of the process (VmHWM), kB. */
  peakRssKb: number;
  /** Resident set size (VmRSS) when the run ended, kB. */
  rssKb: number;
  /** CPU time (user + system, all threads) the process used from its start to the end of the run, seconds. */
  cpuSeconds?: number;
  /** Events sent but not found at the destination (line protocols). */
  lost?: number;
  /** Events found more than once at the destination. */
  duplicated?: number;
  /** Anything worth knowing about this run (generator rate, ...). */
  notes?: string[];
}

export type Target = { metric: 'eps'; min: number } | { metric: 'eps-vs-peer'; minRatio: number } | { metric: 'rss-mb'; max: number };

export interface Row {
  /** Stable id, e.g. `stress-memory-null`. */
  id: string;
  /** One line: what flows where. */
  title: string;
  kind: 'throughput' | 'idle';
  /** Our agent, one sample per repetition. */
  ours: Sample[];
  /** The peer, one sample per repetition; empty when there is no peer. */
  peer: Sample[];
  /** What the peer ran, or why there is none. */
  peerLabel: string;
  target?: Target;
  /** How the figures are taken (goes to RESULTS.md). */
  method: string;
  notes: string[];
}

/** What every topology gets from the harness. */
export interface BenchContext {
  /** Repetitions of each throughput measurement; the median is reported. */
  repeat: number;
  /** The peer's tools, or why they are not available. */
  syslogNg: import('./syslog-ng.js').SyslogNgTools | { unavailable: string };
  /** When set, our agents run with `--cpu-prof` and write their profiles under this directory. */
  profileDir?: string;
  log(message: string): void;
  /** Logs one finished run and returns it (so a topology can write `row.ours.push(ctx.sample(kind, s))`). */
  sample(kind: Row['kind'], s: Sample): Sample;
  /** Runs one measurement, notes how busy other programs kept the machine meanwhile, and logs it. */
  measure(kind: Row['kind'], run: () => Promise<Sample>): Promise<Sample>;
}

/** A benchmark topology; later issues add one module each under bench/topologies/. */
export interface Topology {
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<Row[]>;
}
