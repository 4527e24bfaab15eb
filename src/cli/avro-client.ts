/**
 * `flume-ng avro-client`: sends the lines of a file, of standard input, or of the files
 * of a spooling directory to an avro source, as Flume's AvroCLIClient does: one event
 * per line (terminated by \n, \r or \r\n, the terminator removed), the headers of
 * `-R` on every event, appendBatch calls of 5 events. Unlike Flume it exits non-zero,
 * with one line saying why, when an event is not delivered (Flume logs and exits 0).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { parse as parseJavaProperties } from 'dot-properties';
import { readJobFile } from '../config/load.js';
import { Context } from '../core/context.js';
import type { FlumeEvent } from '../core/event.js';
import type { Logger } from '../core/logger.js';
import { resolveOptions, type OptionsSpec } from '../core/options.js';
import { AvroRpcClient, type AvroRpcClientOptions } from '../rpc/avro/client.js';
import { options as sinkOptions } from '../sinks/avro.js';
import { clientTlsOptions } from '../rpc/tls.js';
import { createLogger, loggingSettings } from './logging.js';

/** Flume's AvroCLIClient batch size. */
export const DEFAULT_BATCH_SIZE = 5;
/** Files at least this large get a progress bar (on a terminal). */
export const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;
const COMPLETED_SUFFIX = '.COMPLETED';

export interface AvroClientCliOptions {
  host?: string;
  port?: string;
  rpcProps?: string;
  filename?: string;
  dirname?: string;
  headerFile?: string;
  conf?: string;
  batchSize?: string;
}

class UsageError extends Error {}

/** Registers the command on the flume-ng program; `done` receives the exit code. */
export function addAvroClientCommand(program: Command, sysProps: Record<string, string>, done: (code: number) => void): void {
  program
    .command('avro-client')
    .description('send the lines of a file (or stdin, or a spooling directory) to an avro source')
    .option('-H, --host <host>', 'host of the avro source')
    .option('-p, --port <port>', 'port of the avro source')
    .option('-P, --rpcProps <file>', 'RPC client properties file (hosts, hosts.<h>, client.type, batch-size, timeouts, compression and TLS keys) instead of -H/-p')
    .option('-F, --filename <file>', 'file to send, one event per line (default: standard input)')
    .option('--dirname <dir>', 'spooling directory: send each file, then rename it to <name>.COMPLETED')
    .option('-R, --headerFile <file>', 'Java properties file; every key=value becomes a header of every event')
    .option('-c, --conf <dir>', 'configuration directory (logging settings: <dir>/log4j.properties)')
    .addOption(new Option('--batch-size <n>', `events per appendBatch call (Flume's client uses ${DEFAULT_BATCH_SIZE})`))
    .action(async (o: AvroClientCliOptions) => {
      done(await runAvroClient(o, sysProps));
    });
}

function fail(line: string): number {
  process.stderr.write(`flume-ng avro-client: ${line}\n`);
  return 1;
}

/** Runs the client; resolves with the exit code. */
export async function runAvroClient(o: AvroClientCliOptions, sysProps: Record<string, string>): Promise<number> {
  const root = createLogger(loggingSettings(o.conf, sysProps));
  const logger = root.child('org.apache.flume.client.avro.AvroCLIClient');
  try {
    let plan: ClientPlan;
    try {
      plan = makePlan(o);
    } catch (err) {
      if (err instanceof UsageError) return fail(err.message);
      throw err;
    }
    const sender = new Sender(plan.targets, plan.clientType, logger);
    const progress = new Progress(plan.totalBytes);
    let sent = 0;
    let bytes = 0;
    const send = async (events: FlumeEvent[]): Promise<void> => {
      for (const e of events) {
        e.headers = plan.headers;
        bytes += e.body.length;
      }
      await sender.send(events);
      sent += events.length;
    };
    try {
      if (plan.dirname !== undefined) {
        for (let file = nextSpoolFile(plan.dirname); file !== undefined; file = nextSpoolFile(plan.dirname)) {
          await sendLines(fs.createReadStream(file), plan.batchSize, send, progress);
          const done = file + COMPLETED_SUFFIX;
          if (fs.existsSync(done)) throw new Error(`cannot mark ${file} as sent: ${done} already exists`);
          fs.renameSync(file, done);
          logger.info(`Sent ${file}; renamed it to ${path.basename(done)}`);
        }
      } else {
        const input: Readable = plan.filename !== undefined ? fs.createReadStream(plan.filename) : process.stdin;
        await sendLines(input, plan.batchSize, send, progress);
      }
    } catch (err) {
      progress.stop();
      logger.error(`Unable to deliver events to Flume: ${(err as Error).message}`);
      return fail(`${(err as Error).message} (${sent} event${sent === 1 ? '' : 's'} delivered before the failure)`);
    } finally {
      await sender.close();
    }
    progress.stop();
    logger.info(`Sent ${sent} events (${bytes} bytes) to ${plan.targets.map((t) => `${t.host}:${t.port}`).join(', ')}`);
    return 0;
  } finally {
    await root.close();
  }
}

interface ClientPlan {
  targets: AvroRpcClientOptions[];
  clientType: 'default' | 'default_failover' | 'default_loadbalance';
  batchSize: number;
  headers: Record<string, string>;
  filename?: string;
  dirname?: string;
  /** Bytes to read, when known (for the progress bar). */
  totalBytes: number | undefined;
}

function makePlan(o: AvroClientCliOptions): ClientPlan {
  if (o.filename !== undefined && o.dirname !== undefined) throw new UsageError('--filename and --dirname options cannot be used simultaneously');
  if (o.rpcProps === undefined && (o.host === undefined || o.port === undefined)) {
    throw new UsageError('Either --rpcProps or both --host and --port must be specified.');
  }
  const headers = o.headerFile !== undefined ? readHeaders(o.headerFile) : {};
  let batchSize = o.batchSize !== undefined ? positiveInt('--batch-size', o.batchSize) : DEFAULT_BATCH_SIZE;
  let targets: AvroRpcClientOptions[];
  let clientType: ClientPlan['clientType'] = 'default';
  if (o.rpcProps !== undefined) {
    const r = readRpcProps(o.rpcProps);
    targets = r.targets;
    clientType = r.clientType;
    if (o.batchSize === undefined && r.batchSize !== undefined) batchSize = r.batchSize;
  } else {
    targets = [{ host: o.host!, port: positiveInt('--port', o.port!, 65535) }];
  }
  let totalBytes: number | undefined;
  if (o.filename !== undefined) {
    let st: fs.Stats;
    try {
      st = fs.statSync(o.filename);
    } catch (err) {
      throw new UsageError(`cannot read ${o.filename}: ${(err as Error).message}`);
    }
    if (!st.isFile()) throw new UsageError(`${o.filename} is not a file`);
    totalBytes = st.size;
  }
  if (o.dirname !== undefined) {
    let names: string[];
    try {
      names = fs.readdirSync(o.dirname);
    } catch (err) {
      throw new UsageError(`cannot read the spooling directory ${o.dirname}: ${(err as Error).message}`);
    }
    totalBytes = 0;
    for (const n of names) {
      if (!isSpoolCandidate(n)) continue;
      const st = fs.statSync(path.join(o.dirname, n));
      if (st.isFile()) totalBytes += st.size;
    }
  }
  return { targets, clientType, batchSize, headers, filename: o.filename, dirname: o.dirname, totalBytes };
}

function positiveInt(flag: string, raw: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || Number(raw) > max) throw new UsageError(`${flag} expects a number from 1 to ${max}, got "${raw}"`);
  return Number(raw);
}

/** `-R`: a Java properties file; each entry is a header (empty values included, as Java keeps them). */
function readHeaders(file: string): Record<string, string> {
  const read = readJobFile(file, 'header file');
  if ('error' in read) throw new UsageError(read.error);
  const text = read.text;
  const parsed = parseJavaProperties(text) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The sink keys an RPC properties file may use (the SDK client reads the same names). */
const RPC_KEYS: OptionsSpec = Object.fromEntries(Object.entries(sinkOptions).filter(([k]) => k !== 'hostname' && k !== 'port'));

/**
 * `-P`: Flume's RPC client properties. `hosts` names the hosts, `hosts.<h>` gives each
 * `host:port`; client.type default uses the first, default_failover tries them in
 * order, default_loadbalance rotates through them (both move on when one fails).
 */
function readRpcProps(file: string): { targets: AvroRpcClientOptions[]; clientType: ClientPlan['clientType']; batchSize: number | undefined } {
  const read = readJobFile(file, 'RPC client properties file');
  if ('error' in read) throw new UsageError(read.error);
  const text = read.text;
  const props = parseJavaProperties(text) as Record<string, string>;
  const ctx = new Context(props, new Map(), '');
  const type = (props['client.type'] ?? 'default').trim();
  if (type !== 'default' && type !== 'default_failover' && type !== 'default_loadbalance') {
    throw new UsageError(`${file}: client.type "${type}" is not supported (default, default_failover or default_loadbalance)`);
  }
  const names = (props.hosts ?? '').split(/\s+/).filter(Boolean);
  if (names.length === 0) throw new UsageError(`${file}: hosts is missing (e.g. hosts = h1 and hosts.h1 = host:port)`);
  const { options, problems } = resolveOptions(RPC_KEYS, ctx);
  const firstError = problems.find((p) => p.severity === 'error');
  if (firstError) throw new UsageError(`${file}: ${firstError.message}`);
  const o = options as Record<string, unknown>;
  const timeout = (v: unknown): number => (typeof v === 'number' && v >= 1000 ? v : 20_000);
  const tls = o.ssl === true ? clientTlsOptions(ctx, o as never) : undefined;
  const targets = names.map((h) => {
    const hp = props[`hosts.${h}`];
    const m = hp === undefined ? null : /^(.+):(\d+)$/.exec(hp.trim());
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new UsageError(`${file}: hosts.${h} must be host:port, got "${hp ?? ''}"`);
    return {
      host: m[1]!,
      port: Number(m[2]),
      connectTimeout: timeout(o['connect-timeout']),
      requestTimeout: timeout(o['request-timeout']),
      compression: o['compression-type'] as 'none' | 'deflate',
      compressionLevel: o['compression-level'] as number,
      ...(tls ? { tls } : {}),
    } satisfies AvroRpcClientOptions;
  });
  return { targets: type === 'default' ? targets.slice(0, 1) : targets, clientType: type, batchSize: ctx.containsKey('batch-size') ? (o['batch-size'] as number) : undefined };
}

/** Sends batches to one of the targets, moving on to the next when one fails (failover and load balancing). */
class Sender {
  private readonly clients: AvroRpcClient[];
  private current = 0;

  constructor(
    private readonly targets: AvroRpcClientOptions[],
    private readonly type: ClientPlan['clientType'],
    private readonly logger: Logger,
  ) {
    this.clients = targets.map((t) => new AvroRpcClient({ ...t, logger }));
  }

  async send(events: FlumeEvent[]): Promise<void> {
    if (events.length === 0) return;
    const n = this.clients.length;
    const start = this.type === 'default_loadbalance' ? this.current++ % n : this.current;
    let last: Error | undefined;
    for (let i = 0; i < n; i++) {
      const k = (start + i) % n;
      const client = this.clients[k]!;
      const t = this.targets[k]!;
      try {
        await client.connect();
        await client.appendBatch(events);
        if (this.type === 'default_failover') this.current = k;
        return;
      } catch (err) {
        last = err as Error;
        await client.close().catch(() => {});
        if (n > 1) this.logger.warn(`${t.host}:${t.port} failed (${last.message}); trying the next host`);
      }
    }
    const where = n === 1 ? `${this.targets[0]!.host}:${this.targets[0]!.port}` : `any of ${n} hosts`;
    throw new Error(`events not delivered to ${where}: ${last?.message}`);
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close().catch(() => {})));
  }
}

function isSpoolCandidate(name: string): boolean {
  return !name.startsWith('.') && !name.endsWith(COMPLETED_SUFFIX);
}

/** The oldest file of the spooling directory not sent yet (Flume's default consume order). */
function nextSpoolFile(dir: string): string | undefined {
  let best: { file: string; mtime: number } | undefined;
  for (const name of fs.readdirSync(dir)) {
    if (!isSpoolCandidate(name)) continue;
    const file = path.join(dir, name);
    const st = fs.statSync(file);
    if (!st.isFile()) continue;
    if (best === undefined || st.mtimeMs < best.mtime || (st.mtimeMs === best.mtime && file < best.file)) best = { file, mtime: st.mtimeMs };
  }
  return best?.file;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Reads `input` and sends its lines in batches of `batchSize`, waiting for each batch
 * to be acknowledged before reading on. Lines end at \n, \r or \r\n, as Java's
 * readLine; a last line without a terminator is sent too. Bodies are the bytes as
 * read (Flume decodes and re-encodes them, which changes only invalid UTF-8).
 */
export async function sendLines(input: Readable, batchSize: number, send: (events: FlumeEvent[]) => Promise<void>, progress?: { add(n: number): void }): Promise<void> {
  let batch: FlumeEvent[] = [];
  let carry: Buffer | undefined;
  let skipLF = false;
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : (raw as Buffer);
    progress?.add(chunk.length);
    let start = 0;
    if (skipLF && chunk.length > 0) {
      if (chunk[0] === LF) start = 1;
      skipLF = false;
    }
    for (let i = start; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b !== LF && b !== CR) continue;
      const piece = chunk.subarray(start, i);
      const body = carry ? Buffer.concat([carry, piece]) : Buffer.from(piece);
      carry = undefined;
      batch.push({ headers: {}, body });
      if (b === CR) {
        if (i + 1 < chunk.length) {
          if (chunk[i + 1] === LF) i++;
        } else {
          skipLF = true;
        }
      }
      start = i + 1;
      if (batch.length >= batchSize) {
        await send(batch);
        batch = [];
      }
    }
    if (start < chunk.length) carry = carry ? Buffer.concat([carry, chunk.subarray(start)]) : Buffer.from(chunk.subarray(start));
  }
  if (carry !== undefined && carry.length > 0) batch.push({ headers: {}, body: carry });
  if (batch.length > 0) await send(batch);
}

/** A progress bar on standard error for large inputs, only when it is a terminal. */
class Progress {
  private readonly bar: cliProgress.SingleBar | undefined;
  private done = 0;

  constructor(total: number | undefined) {
    if (total === undefined || total < PROGRESS_MIN_BYTES || !process.stderr.isTTY) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: 'avro-client [{bar}] {percentage}% | {mb}/{totalMb} MB | {eta_formatted} left',
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { mb: '0.0', totalMb: (total / 1048576).toFixed(1) });
  }

  add(n: number): void {
    if (!this.bar) return;
    this.done += n;
    this.bar.update(this.done, { mb: (this.done / 1048576).toFixed(1) });
  }

  stop(): void {
    this.bar?.stop();
  }
}
