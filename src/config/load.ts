import fs from 'node:fs';
import { ErrorCodes } from '../core/errors.js';
import type { Registry } from '../registry/registry.js';
import type { Diagnostic } from './diagnostics.js';
import { buildAgentConfig } from './model.js';
import { planAgent, type AgentPlan } from './plan.js';
import { parseProperties, type Property } from './properties.js';
import { resolveValues } from './resolve.js';

/** The text of one job file, named as diagnostics should name it (a path, a znode, a URI). */
export interface JobText {
  name: string;
  text: string;
}

export interface LoadedJob {
  plan?: AgentPlan;
  diagnostics: Diagnostic[];
  settings?: Record<string, string>;
}

/**
 * Reads the job file(s), picks the named agent and resolves it against the registry.
 * Returns every problem found; `plan` is set only when none of them is an error.
 */
export function loadJob(files: readonly string[], agent: string, registry: Registry): LoadedJob {
  const diagnostics: Diagnostic[] = [];
  const texts: JobText[] = [];
  for (const file of files) {
    const read = readJobFile(file);
    if ('error' in read) diagnostics.push({ severity: 'error', code: ErrorCodes.CONFIG_FILE, file, message: read.error });
    else texts.push({ name: file, text: read.text });
  }
  if (diagnostics.length > 0) return { diagnostics };
  return loadJobTexts(texts, agent, registry);
}

/** As loadJob, from texts already read (files, a znode, a URI), merged in order: later ones win, as Flume 1.10+ merges. */
export function loadJobTexts(texts: readonly JobText[], agent: string, registry: Registry): LoadedJob {
  const diagnostics: Diagnostic[] = [];
  const merged = new Map<string, Property>();
  for (const { name, text } of texts) {
    const parsed = parseProperties(text, name);
    // Syntax notes about other agents' keys are theirs: validate reports them when it checks those agents.
    diagnostics.push(...parsed.diagnostics.filter((d) => d.key === undefined || d.key.startsWith(agent + '.')));
    for (const p of parsed.props) merged.set(p.key, p);
  }
  const resolved = resolveValues([...merged.values()], agent);
  diagnostics.push(...resolved.diagnostics);
  const { config, diagnostics: modelDiags } = buildAgentConfig(resolved.props, agent);
  diagnostics.push(...modelDiags);
  if (!config) return { diagnostics };
  const { plan, diagnostics: planDiags } = planAgent(config, registry);
  diagnostics.push(...planDiags);
  // Process-wide `flume.*` settings (monitoring) may be written in the job file too.
  const settings: Record<string, string> = {};
  for (const p of resolved.props) if (p.key.startsWith('flume.')) settings[p.key] = p.value;
  return diagnostics.some((d) => d.severity === 'error') ? { diagnostics } : { plan, diagnostics, settings };
}

/** Job files larger than this are refused: a real one is a few kilobytes. */
export const MAX_JOB_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Reads a job file as UTF-8, refusing what is not one: a directory, a device
 * (`/dev/zero` never ends), a fifo (opened without blocking, so it cannot hang), a
 * file above MAX_JOB_FILE_BYTES (counted while reading: /proc files report size 0).
 * The error is one line naming the file.
 */
export function readJobFile(file: string, what = 'configuration file'): { text: string } | { error: string } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { error: `${what} ${file} does not exist` };
    return { error: `cannot read ${what} ${file}: ${describeError(err)}` };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { error: `${what} ${file} is ${kindOf(st)}, not a regular file` };
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > MAX_JOB_FILE_BYTES) return { error: `${what} ${file} is larger than ${MAX_JOB_FILE_BYTES / 1024 / 1024} MiB; a job file is expected to be a few kilobytes` };
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return { text: Buffer.concat(chunks, total).toString('utf8') };
  } catch (err) {
    return { error: `cannot read ${what} ${file}: ${describeError(err)}` };
  } finally {
    fs.closeSync(fd);
  }
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a fifo';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}

function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  // Node's message repeats the syscall and path; the code and its meaning are enough here.
  return e.code ? `${e.code}${e.message.includes(':') ? ` (${e.message.split(':')[1]!.split(',')[0]!.trim()})` : ''}` : String(e.message ?? err);
}
