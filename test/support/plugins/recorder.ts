import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../agent.js';

/** The test plugin package: pass `--plugins-path PLUGIN_DIR` to the agent. */
export const PLUGIN_DIR = path.join(ROOT, 'test', 'support', 'plugins', 'failing-sink');

/** Command-line arguments that load the test plugin. */
export const PLUGIN_ARGS = ['--plugins-path', PLUGIN_DIR];

/** One event the test sink delivered. */
export interface Delivered {
  sink: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Job lines that turn sink `name` of agent `agent` into the recording test sink
 * (appended after a job file, they override its sink type; the old sink's other keys
 * are left over and only warned about).
 */
export function recordingSink(name: string, outFile: string, opts: { failFile?: string; batchSize?: number; agent?: string } = {}): string {
  const p = `${opts.agent ?? 'a1'}.sinks.${name}`;
  return (
    [`${p}.type = com.example.FailingSink`, `${p}.outFile = ${outFile}`, opts.failFile ? `${p}.failFile = ${opts.failFile}` : '', opts.batchSize ? `${p}.batchSize = ${opts.batchSize}` : '']
      .filter(Boolean)
      .join('\n') + '\n'
  );
}

/** Everything the test sink wrote to `outFile` so far ([] when nothing yet). */
export function delivered(outFile: string): Delivered[] {
  let text: string;
  try {
    text = fs.readFileSync(outFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Delivered);
}

export function bodies(outFile: string): string[] {
  return delivered(outFile).map((d) => d.body);
}

/** A job file of jobs/, with its netcat port replaced. */
export function jobFile(name: string, port: number): string {
  return fs.readFileSync(path.join(ROOT, 'jobs', name), 'utf8').replace(/^(a1\.sources\.r1\.port\s*=\s*)\d+$/m, `$1${port}`);
}
