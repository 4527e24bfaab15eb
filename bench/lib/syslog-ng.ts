import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawnTracked, type Tracked } from './proc.js';

const run = promisify(execFile);

/**
 * The peer: syslog-ng and its load generator loggen, both from Debian's
 * syslog-ng-core package (syslog-ng-dev ships only headers).
 */
export interface SyslogNgTools {
  syslogNg: string;
  ctl: string;
  loggen: string;
  /** e.g. `3.38.1`. */
  version: string;
  /** The `@version:` a config file declares (major.minor). */
  configVersion: string;
}

const PACKAGE = 'syslog-ng-core';
const BINARIES = { syslogNg: '/usr/sbin/syslog-ng', ctl: '/usr/sbin/syslog-ng-ctl', loggen: '/usr/bin/loggen' };

function present(): boolean {
  return Object.values(BINARIES).every((p) => fs.existsSync(p));
}

/**
 * Finds syslog-ng and loggen, installing syslog-ng-core with apt-get when they are
 * missing and we are root. Returns why not when they cannot be had.
 */
export function ensureSyslogNg(log: (m: string) => void): SyslogNgTools | { unavailable: string } {
  if (!present()) {
    if (process.getuid?.() !== 0) return { unavailable: `${PACKAGE} is not installed and we are not root (sudo apt-get install -y ${PACKAGE})` };
    log(`installing ${PACKAGE} (syslog-ng and loggen) with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
      execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300', PACKAGE], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env,
      });
    } catch (err) {
      return { unavailable: `apt-get install ${PACKAGE} failed: ${(err as Error).message.split('\n')[0]}` };
    }
    if (!present()) return { unavailable: `${PACKAGE} installed but ${Object.values(BINARIES).join(', ')} not all found` };
  }
  const text = execFileSync(BINARIES.syslogNg, ['--version'], { encoding: 'utf8' });
  const version = text.match(/Installer-Version:\s*(\S+)/)?.[1] ?? text.match(/syslog-ng \d+ \((\S+)\)/)?.[1] ?? 'unknown';
  const configVersion = version.split('.').slice(0, 2).join('.');
  return { ...BINARIES, version, configVersion };
}

export interface RunningSyslogNg {
  proc: Tracked;
  pid: number;
  /** When syslog-ng said "starting up" (its own clock, ms since the epoch). */
  startedAtMs: number;
  /** syslog-ng-ctl stats as `type;id;instance;state;counter` → value. */
  stats(): Promise<Map<string, number>>;
  /** The `processed` counter of a destination. */
  destinationProcessed(id: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts syslog-ng in the foreground with `body` as its configuration (after the
 * `@version` line), its persist file, pid file and control socket in `dir`, and waits
 * until it reports that it is up.
 */
export async function startSyslogNg(tools: SyslogNgTools, dir: string, body: string): Promise<RunningSyslogNg> {
  const conf = path.join(dir, 'syslog-ng.conf');
  const ctlSock = path.join(dir, 'syslog-ng.ctl');
  fs.writeFileSync(conf, `@version: ${tools.configVersion}\n${body}`);
  const proc = spawnTracked(tools.syslogNg, ['-F', '-e', '-f', conf, '-R', path.join(dir, 'syslog-ng.persist'), '-p', path.join(dir, 'syslog-ng.pid'), '-c', ctlSock]);
  const { match } = await proc.waitFor(/^\[(\S+)\] syslog-ng starting up/m, 15000);
  const startedAtMs = parseIsoLocal(match[1]!);
  const stats = async (): Promise<Map<string, number>> => {
    const { stdout } = await run(tools.ctl, ['stats', '-c', ctlSock]);
    const m = new Map<string, number>();
    for (const line of stdout.split('\n')) {
      const parts = line.split(';');
      if (parts.length === 6 && /^\d+$/.test(parts[5]!)) m.set(parts.slice(0, 5).join(';'), Number(parts[5]));
    }
    return m;
  };
  return {
    proc,
    pid: proc.pid,
    startedAtMs,
    stats,
    async destinationProcessed(id) {
      return (await stats()).get(`destination;${id};;a;processed`) ?? 0;
    },
    stop: () => proc.stop(),
  };
}

/** `2026-11-21T05:01:39.518958` (local time, as syslog-ng prints its own messages) → ms. */
function parseIsoLocal(s: string): number {
  const m = s.match(/^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?/);
  if (!m) return Date.now();
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  return new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, ms).getTime();
}

export interface LoggenRun {
  /** Messages loggen says it sent. */
  sent: number;
  startedAtMs: number;
  endedAtMs: number;
  /** loggen's own summary line. */
  summary: string;
}

/**
 * Runs loggen against a TCP port in stream mode: `count` messages of `size` bytes
 * (newline included) on one connection, as fast as it can, for at most `maxSeconds`.
 */
export async function runLoggen(tools: SyslogNgTools, o: { port: number; size: number; count: number; maxSeconds: number; connections?: number }): Promise<LoggenRun> {
  const args = [
    '-Q',
    '--inet',
    '--stream',
    '--size',
    String(o.size),
    '--number',
    String(o.count),
    '--interval',
    String(o.maxSeconds),
    '--rate',
    '1000000000',
    '--active-connections',
    String(o.connections ?? 1),
    '127.0.0.1',
    String(o.port),
  ];
  const startedAtMs = Date.now();
  const proc = spawnTracked(tools.loggen, args);
  const { code, atMs } = await proc.exited;
  const out = proc.output();
  const summary = out.match(/average rate = [^\n]*/)?.[0] ?? out.trim().split('\n').pop() ?? '';
  const sent = Number(summary.match(/count=(\d+)/)?.[1] ?? NaN);
  if (code !== 0 || !Number.isFinite(sent)) throw new Error(`loggen failed (exit ${code}): ${out.slice(-1000)}`);
  return { sent, startedAtMs, endedAtMs: atMs, summary: summary.trim() };
}
