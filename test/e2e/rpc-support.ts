// Helpers shared by the Avro and Thrift RPC end-to-end tests (test/e2e/avro-*.test.ts,
// test/e2e/thrift.test.ts): job text, agents in this process or as processes with
// their temporary directories, raw connections, and the certificates for TLS.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { builtinRegistry } from '../../src/builtins.js';
import { loadJob } from '../../src/config/load.js';
import { Agent, type AgentOptions } from '../../src/core/agent.js';
import type { CounterType } from '../../src/core/counters.js';
import type { FlumeEvent } from '../../src/core/event.js';
import type { Logger } from '../../src/core/logger.js';
import { withTransaction } from '../../src/core/transaction.js';
import { startAgent, tempDir, writeJob, type RunningAgent } from '../support/agent.js';
import { selfSignedCert } from '../support/avro/peer.js';

// ---- job text ----

/** Agent `agent` with an RPC source r1 of `type` on 127.0.0.1:`port` into memory channel c1; `extra` (whole lines) follows. */
export function rpcSourceJob(agent: string, type: string, port: number, extra = ''): string {
  return `${agent}.sources = r1
${agent}.channels = c1
${agent}.sources.r1.type = ${type}
${agent}.sources.r1.bind = 127.0.0.1
${agent}.sources.r1.port = ${port}
${agent}.sources.r1.channels = c1
${agent}.channels.c1.type = memory
${extra}`;
}

/** Agent `agent` with memory channel c1 drained by an RPC sink k1 of `type` to `host`:`port`; `extra` (whole lines) are more of k1's keys. */
export function rpcSinkJob(agent: string, type: string, port: number, extra = '', host = '127.0.0.1'): string {
  return `${agent}.channels = c1
${agent}.sinks = k1
${agent}.channels.c1.type = memory
${agent}.sinks.k1.type = ${type}
${agent}.sinks.k1.hostname = ${host}
${agent}.sinks.k1.port = ${port}
${extra}${agent}.sinks.k1.channel = c1
`;
}

/** A netcat source r1 on 127.0.0.1:`port` into c1, to add to an rpcSinkJob. */
export function netcatSource(agent: string, port: number): string {
  return `${agent}.sources = r1\n${agent}.sources.r1.type = netcat\n${agent}.sources.r1.bind = 127.0.0.1\n${agent}.sources.r1.port = ${port}\n${agent}.sources.r1.channels = c1\n`;
}

/** A file_roll sink k1 from c1 writing one file (no rolling) into `dir`, to add to an rpcSourceJob. */
export function fileRollSink(agent: string, dir: string): string {
  return `${agent}.sinks = k1\n${agent}.sinks.k1.type = file_roll\n${agent}.sinks.k1.sink.directory = ${dir}\n${agent}.sinks.k1.sink.rollInterval = 0\n${agent}.sinks.k1.channel = c1\n`;
}

/** What a file_roll sink wrote into `dir` so far (its files are named <millis>-<n>). */
export function rolledFiles(dir: string): Buffer {
  return Buffer.concat(
    fs
      .readdirSync(dir)
      .filter((n) => /^\d+-\d+$/.test(n))
      .sort()
      .map((n) => fs.readFileSync(path.join(dir, n))),
  );
}

/** The diagnostics of loading `job` as agent `name`, one `severity: message` a line ('' when clean). */
export function jobDiagnostics(dir: string, job: string, name: string): string {
  const file = writeJob(dir, job, `check-${Math.random().toString(36).slice(2)}.conf`);
  return loadJob([file], name, builtinRegistry())
    .diagnostics.map((d) => `${d.severity}: ${d.message}`)
    .join('\n');
}

/** What both Python peers' clients send: per round i, appendBatch(B events), then append(1 event). */
export function peerEvents(count: number, batch: number, bodySize: number): FlumeEvent[] {
  const out: FlumeEvent[] = [];
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < batch; j++) {
      const tail = Buffer.from(Array.from({ length: bodySize }, (_, k) => (i + j + k) % 256));
      out.push({ headers: { seq: String(i), idx: String(j), uni: 'h\u00e9llo \u2713' }, body: Buffer.concat([Buffer.from(`event-${i}-${j}`), tail]) });
    }
    out.push({ headers: { seq: String(i), single: '1' }, body: Buffer.from(`single-${i}`) });
  }
  return out;
}

// ---- agents in this process (so counters, channels and the log can be read) ----

export type MemoryLogger = Logger & { lines: string[] };

/** A logger that keeps every line, for checking what was logged. */
export function memoryLogger(lines: string[] = []): MemoryLogger {
  const l = {
    lines,
    isDebugEnabled: false,
    error: (m: string) => void lines.push(`ERROR ${m}`),
    warn: (m: string) => void lines.push(`WARN ${m}`),
    info: (m: string) => void lines.push(`INFO ${m}`),
    debug: () => {},
    child: () => l,
  };
  return l;
}

export interface InProcessAgent {
  agent: Agent;
  logger: MemoryLogger;
  /** Everything logged so far, one line each. */
  log(): string;
  /** The snapshot of the first counter group of `type` (or the one called `name`). */
  counter(type: CounterType, name?: string): Record<string, number | string>;
  /** Puts `events` into the channel in one transaction. */
  put(events: FlumeEvent[], channel?: string): Promise<void>;
  /** Everything in the channel, one transaction at a time. */
  take(channel?: string): Promise<FlumeEvent[]>;
  /** Stops the agent (`graceMs` as Agent.stop) and removes the directory made for its job file, if any. */
  stop(graceMs?: number): Promise<void>;
}

/** Quick stops and sink retries, so failures show within a test's time. */
const QUICK: AgentOptions = { drainGraceMs: 300, sinkFailureBackoffMs: 200 };

/**
 * Builds and starts agent `name` (default a1) from job text. The job file goes into
 * `dir` under a name of its own, or into a fresh temporary directory that stop() removes.
 */
export async function inProcessAgent(job: string, opts: { name?: string; dir?: string; options?: AgentOptions } = {}): Promise<InProcessAgent> {
  const name = opts.name ?? 'a1';
  let own: { dir: string; cleanup(): void } | undefined;
  let file: string;
  if (opts.dir === undefined) {
    own = tempDir();
    file = writeJob(own.dir, job);
  } else {
    file = writeJob(opts.dir, job, `${name}-${Math.random().toString(36).slice(2)}.conf`);
  }
  const registry = builtinRegistry();
  const { plan, diagnostics } = loadJob([file], name, registry);
  assert.ok(plan, diagnostics.map((d) => d.message).join('\n'));
  const logger = memoryLogger();
  const agent = new Agent(plan, registry, logger, opts.options ?? QUICK);
  await agent.start();
  return {
    agent,
    logger,
    log: () => logger.lines.join('\n'),
    counter: (type, n) => agent.counters.find((c) => c.Type === type && (n === undefined || c.name === n))!.snapshot(),
    put: (events, channel = 'c1') => withTransaction(agent.channels.get(channel)!, (tx) => tx.put(events)),
    async take(channel = 'c1') {
      const ch = agent.channels.get(channel)!;
      const out: FlumeEvent[] = [];
      for (;;) {
        const got = await withTransaction(ch, (tx) => tx.take(ch.transactionCapacity));
        if (got.length === 0) return out;
        out.push(...got);
      }
    },
    async stop(graceMs?: number) {
      await agent.stop(graceMs);
      own?.cleanup();
    },
  };
}

// ---- agents as processes (bin/flume-ng agent) ----

export interface AgentScope {
  /** The scope's temporary directory. */
  dir: string;
  /**
   * Starts agent `name` from `job` in a directory of its own under `dir` (so job files
   * do not overwrite each other). With `exitCode`, the scope checks the status it stops with.
   */
  start(name: string, job: string, opts?: { extraArgs?: string[]; exitCode?: number; env?: NodeJS.ProcessEnv }): Promise<RunningAgent>;
}

/**
 * Runs `body` with a fresh temporary directory; afterwards stops every agent started
 * in it, last started first (so senders usually stop before their receivers), and
 * removes the directory.
 */
export async function withAgents(body: (scope: AgentScope) => Promise<void>): Promise<void> {
  const t = tempDir();
  const started: Array<{ name: string; agent: RunningAgent; exitCode: number | undefined }> = [];
  try {
    await body({
      dir: t.dir,
      async start(name, job, opts = {}) {
        const dir = path.join(t.dir, `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`);
        fs.mkdirSync(dir);
        const agent = await startAgent(job, { name, dir, extraArgs: opts.extraArgs ?? [], ...(opts.env ? { env: opts.env } : {}) });
        started.push({ name, agent, exitCode: opts.exitCode });
        return agent;
      },
    });
  } finally {
    // Every agent is stopped before any exit status is checked, so none is left running.
    const codes: Array<[string, number | string, number]> = [];
    for (const s of started.reverse()) {
      const code = await s.agent.stop();
      if (s.exitCode !== undefined) codes.push([s.name, code, s.exitCode]);
    }
    t.cleanup();
    for (const [name, code, expected] of codes) assert.equal(code, expected, `agent ${name}'s exit status`);
  }
}

// ---- connections and certificates ----

/** Connects to 127.0.0.1:`port`, writes `bytes` (and ends our side when `end`), and resolves once the server has closed the connection. */
export async function sendUntilClosed(port: number, bytes: Buffer | string, end = false): Promise<void> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.resume();
  await new Promise<void>((r) => s.once('connect', () => r()));
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  if (end) s.end(bytes);
  else s.write(bytes);
  await closed;
}

/** Runs openssl, throwing with its stderr when it fails. */
export function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
}

/** Writes a new self-signed key.pem and cert.pem into `dir`, and server.p12 with both under `password`. */
export function writeServerCerts(dir: string, password: string): { key: Buffer; cert: Buffer } {
  const f = (n: string): string => path.join(dir, n);
  const { key, cert } = selfSignedCert();
  fs.writeFileSync(f('key.pem'), key);
  fs.writeFileSync(f('cert.pem'), cert);
  openssl(['pkcs12', '-export', '-inkey', f('key.pem'), '-in', f('cert.pem'), '-out', f('server.p12'), '-passout', `pass:${password}`]);
  return { key, cert };
}
