import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/support). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'flume-ng');

/**
 * A port nobody listens on right now. It is taken below the kernel's ephemeral range
 * (32768 and up on Linux), so an outgoing connection of another test running
 * meanwhile cannot be given it as its local port before the agent binds it.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  return kernelPort();
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A fresh temporary directory, removed by `cleanup()`. */
export function tempDir(prefix = 'flume-ts-'): { dir: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface RunningAgent {
  proc: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when `re` matches the combined output; rejects after `timeoutMs` with the output. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** SIGTERM (or the given signal) and wait for exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** Spawns bin/flume-ng with `args`; the test must stop it (or it is killed when the test process exits). */
export function spawnFlume(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunningAgent {
  const proc = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of waiters) w();
  };
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    poke();
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    poke();
  });
  const exited = new Promise<number | string>((resolve) => {
    proc.on('exit', (code, sig) => {
      running.delete(proc);
      poke();
      resolve(code ?? sig ?? -1);
    });
  });
  let exitedFlag = false;
  void exited.then(() => (exitedFlag = true));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, timeoutMs = 15000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const m = (out + err).match(re);
          if (m) {
            done();
            resolve(m);
            return true;
          }
          if (exitedFlag) {
            done();
            reject(new Error(`agent exited before ${re} appeared.\nstdout:\n${out}\nstderr:\n${err}`));
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}.\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(w);
        };
        const w = (): void => void check();
        if (!check()) waiters.add(w);
      });
    },
    async stop(signal = 'SIGTERM') {
      if (!exitedFlag) proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 20000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** Writes `text` as a job file in `dir` and returns its path. */
export function writeJob(dir: string, text: string, name = 'job.conf'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** Starts an agent from job text with console logging at INFO and waits until it is up. */
export async function startAgent(job: string, opts: { name?: string; dir: string; extraArgs?: string[]; ready?: RegExp; env?: NodeJS.ProcessEnv }): Promise<RunningAgent> {
  // Agents reload their job file when it changes: a second agent started in the same
  // directory gets a file of its own, so it never rewrites the first one's.
  let name = 'job.conf';
  for (let n = 2; fs.existsSync(path.join(opts.dir, name)); n++) name = `job-${n}.conf`;
  const file = writeJob(opts.dir, job, name);
  const agent = spawnFlume(['agent', '-n', opts.name ?? 'a1', '-f', file, '-c', path.join(ROOT, 'conf'), '-Dflume.root.logger=INFO,console', ...(opts.extraArgs ?? [])], { env: opts.env });
  await agent.waitFor(opts.ready ?? /Agent \S+ started/);
  return agent;
}

/** Connects to a TCP port, writes `data`, and collects what comes back until the server closes or `idleMs` passes without data. */
export function tcpExchange(port: number, data: string | Buffer, opts: { expectBytes?: number; timeoutMs?: number; end?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(got);
    }, opts.timeoutMs ?? 5000);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      got += d;
      if (opts.expectBytes !== undefined && got.length >= opts.expectBytes) {
        clearTimeout(timer);
        sock.end();
        resolve(got);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    sock.write(data);
    if (opts.end) sock.end();
  });
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 10000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Bodies of the `Event: { ... }` lines a logger sink printed, in order. */
export function loggedBodies(output: string): string[] {
  const out: string[] = [];
  for (const m of output.matchAll(/Event: \{ headers:\{.*?\} body:(.*) \}$/gm)) {
    const dump = m[1]!;
    // The text column starts after 16 hex slots of 3 chars plus the leading space.
    out.push(dump.slice(49));
  }
  return out;
}

type Props = Record<string, string | number | boolean>;
export interface JobSpec {
  sources?: Record<string, Props>;
  channels: Record<string, Props>;
  sinks?: Record<string, Props>;
  sinkgroups?: Record<string, Props>;
}

/** Renders a job file: `{ sources: { r1: { type: 'netcat', port } }, ... }` → `a1.sources = r1` and `a1.sources.r1.type = netcat` ... */
export function jobText(spec: JobSpec, agent = 'a1'): string {
  const lines: string[] = [];
  for (const section of ['sources', 'channels', 'sinks', 'sinkgroups'] as const) {
    const comps = spec[section];
    if (!comps) continue;
    lines.push(`${agent}.${section} = ${Object.keys(comps).join(' ')}`);
    for (const [name, props] of Object.entries(comps)) {
      for (const [k, v] of Object.entries(props)) lines.push(`${agent}.${section}.${name}.${k} = ${v}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** netcat on 127.0.0.1:`port` → memory c1 → the given sink k1: the shape most tests need. */
export function netcatJob(port: number, sink: Props, opts: { source?: Props; channel?: Props } = {}): string {
  return jobText({
    sources: { r1: { type: 'netcat', bind: '127.0.0.1', port, channels: 'c1', ...opts.source } },
    channels: { c1: { type: 'memory', ...opts.channel } },
    sinks: { k1: { channel: 'c1', ...sink } },
  });
}
