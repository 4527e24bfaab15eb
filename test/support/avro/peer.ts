/**
 * Starts the Python Avro RPC peer (peer.py, on Debian's python3-avro) for interop
 * tests, and a self-signed certificate for TLS tests. Every process started here is
 * tracked and killed by killAll().
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's interpreter: python3-avro is installed for it, not for a pyenv python on PATH. */
export const PYTHON = '/usr/bin/python3';

/** peer.py beside this file's source; found from the compiled file's ancestors, or the working directory. */
export function peerScript(): string {
  const rel = path.join('test', 'support', 'avro', 'peer.py');
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, rel);
    if (fs.existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const fromCwd = path.join(process.cwd(), rel);
  if (fs.existsSync(fromCwd)) return fromCwd;
  throw new Error(`cannot find ${rel} (run the tests from the repository root)`);
}

/**
 * Throws with install instructions when python3-avro is missing: interop tests must
 * fail loudly, not skip.
 */
export function requirePythonAvro(): void {
  const r = spawnSync(PYTHON, ['-c', 'import avro.ipc, avro.protocol, avro.io'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(
      `the Avro interop tests need Apache Avro for Python at ${PYTHON}, which is missing ` +
        `(${r.error?.message ?? r.stderr.trim().split('\n').pop()}). ` +
        'Install it with: apt-get update && apt-get install -y python3-avro',
    );
  }
}

const running = new Set<ChildProcess>();

/** Kills every peer still running (call from after()). */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((p) => stop(p)));
}

function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) {
    running.delete(p);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    p.once('exit', () => {
      clearTimeout(t);
      running.delete(p);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

function start(args: string[]): ChildProcess {
  const p = spawn(PYTHON, [peerScript(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(p);
  p.once('exit', () => running.delete(p));
  return p;
}

/** One JSON object per line of the peer's stdout. */
export type PeerLine = Record<string, unknown>;

export interface PeerServer {
  port: number;
  /** Lines printed so far. */
  lines: PeerLine[];
  stderr(): string;
  /** Resolves once `pred` holds for the lines (checked on every new line), or rejects after timeoutMs. */
  waitFor(pred: (lines: PeerLine[]) => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function lineReader(p: ChildProcess, onLine: (l: PeerLine) => void): () => string {
  let out = '';
  let err = '';
  p.stdout!.setEncoding('utf8');
  p.stdout!.on('data', (d: string) => {
    out += d;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line.trim() !== '') onLine(JSON.parse(line) as PeerLine);
    }
  });
  p.stderr!.setEncoding('utf8');
  p.stderr!.on('data', (d: string) => (err += d));
  return () => err;
}

/** `peer.py server 0 ...`; resolves when it listens. */
export function startPeerServer(extra: string[] = []): Promise<PeerServer> {
  const p = start(['server', '0', ...extra]);
  const lines: PeerLine[] = [];
  const waiters = new Set<() => void>();
  const stderr = lineReader(p, (l) => {
    lines.push(l);
    for (const w of [...waiters]) w();
  });
  const waitFor = (pred: (lines: PeerLine[]) => boolean, timeoutMs = 10_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (pred(lines)) {
          waiters.delete(check);
          clearTimeout(t);
          resolve();
        }
      };
      const t = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`peer server: condition not met in ${timeoutMs} ms; lines: ${JSON.stringify(lines)} stderr: ${stderr()}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return new Promise((resolve, reject) => {
    p.once('exit', (code) => reject(new Error(`peer server exited (${code}) before listening: ${stderr()}`)));
    waitFor((ls) => ls.some((l) => typeof l.listening === 'number')).then(() => {
      const port = lines.find((l) => typeof l.listening === 'number')!.listening as number;
      resolve({ port, lines, stderr, waitFor, stop: () => stop(p) });
    }, reject);
  });
}

/** `peer.py client ...` to completion; resolves with its lines, rejects on a non-zero exit. */
export function runPeerClient(host: string, port: number, extra: string[] = [], timeoutMs = 30_000): Promise<PeerLine[]> {
  const p = start(['client', host, String(port), ...extra]);
  const lines: PeerLine[] = [];
  const stderr = lineReader(p, (l) => lines.push(l));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      void stop(p);
      reject(new Error(`peer client timed out; lines: ${JSON.stringify(lines)} stderr: ${stderr()}`));
    }, timeoutMs);
    p.once('exit', (code) => {
      clearTimeout(t);
      if (code === 0) resolve(lines);
      else reject(new Error(`peer client exited with ${code}; lines: ${JSON.stringify(lines)} stderr: ${stderr()}`));
    });
  });
}

/** A self-signed certificate for 127.0.0.1/localhost made by openssl in a temp dir (removed again). */
export function selfSignedCert(): { key: Buffer; cert: Buffer } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-ts-avro-tls-'));
  try {
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=flume-ts-test',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { encoding: 'utf8' },
    );
    if (r.error || r.status !== 0) {
      throw new Error(`openssl could not make a certificate (install the openssl package): ${r.error?.message ?? r.stderr}`);
    }
    return { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
