// Debian's rsyslog as a test peer, run in the foreground from a temporary directory.
// scripts/test.mjs unpacks the package under node_modules/.cache when it is not
// installed (it conflicts with syslog-ng-core, the benchmarks' peer).
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT, eventually } from './agent.js';

function binary(): { bin: string; modDir?: string } {
  if (fs.existsSync('/usr/sbin/rsyslogd')) return { bin: '/usr/sbin/rsyslogd' };
  const base = path.join(ROOT, 'node_modules', '.cache', 'rsyslog');
  const lib = path.join(base, 'usr', 'lib');
  const arch = fs.readdirSync(lib).find((d) => fs.existsSync(path.join(lib, d, 'rsyslog', 'imtcp.so')));
  if (!arch) throw new Error(`rsyslog modules not found under ${lib}`);
  return { bin: path.join(base, 'usr', 'sbin', 'rsyslogd'), modDir: path.join(lib, arch, 'rsyslog') };
}

export interface RunningRsyslog {
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts rsyslogd -n with `conf` (its work directory set to `dir`) and waits until
 * the TCP port `readyPort` it listens on accepts connections.
 */
export async function startRsyslog(dir: string, conf: string, readyPort: number): Promise<RunningRsyslog> {
  const { bin, modDir } = binary();
  const work = path.join(dir, 'rsyslog-work');
  fs.mkdirSync(work, { recursive: true });
  const file = path.join(dir, 'rsyslog.conf');
  fs.writeFileSync(file, `global(workDirectory="${work}")\n${conf}`);
  const args = ['-n', '-f', file, '-i', path.join(dir, 'rsyslog.pid'), ...(modDir ? ['-M', modDir] : [])];
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const kill = (): void => void proc.kill('SIGKILL');
  process.once('exit', kill);
  const stop = async (): Promise<void> => {
    process.off('exit', kill);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  };
  try {
    const net = await import('node:net');
    await eventually(
      () =>
        new Promise<boolean>((resolve) => {
          if (proc.exitCode !== null) throw new Error(`rsyslogd exited: ${out}`);
          const s = net.connect(readyPort, '127.0.0.1');
          s.on('connect', () => {
            s.destroy();
            resolve(true);
          });
          s.on('error', () => resolve(false));
        }),
      10_000,
      `rsyslogd listening on ${readyPort} (${out})`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { proc, output: () => out, stop };
}
