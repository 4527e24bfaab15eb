import fs from 'node:fs';
import path from 'node:path';
import type { AgentPlan } from '../config/plan.js';
import { formatDiagnostic, sortDiagnostics } from '../config/diagnostics.js';
import { loadJobTexts, type JobText, type LoadedJob } from '../config/load.js';
import type { ConfigSource } from '../config/sources/types.js';
import { backupFile } from '../config/sources/uri.js';
import type { Logger } from '../core/logger.js';
import type { Registry } from '../registry/registry.js';

/** Changes that arrive together (an editor's write, rename and chmod) are applied once. */
const DEBOUNCE_MS = 300;

/**
 * Keeps a running agent in step with its configuration sources: on a change (a file
 * event, a znode watch, a poll, SIGHUP) it reads every source again, merges them,
 * validates the result and hands a valid plan to `apply`. An invalid or unreadable
 * configuration is logged with its file:line problems and the running graph stays.
 * One reload runs at a time; changes during one lead to one more afterwards.
 */
export class ConfigReloader {
  private lastApplied: string;
  private lastRejected: string | undefined;
  private unreadable: string | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stops: (() => Promise<void>)[] = [];

  constructor(
    private readonly sources: readonly ConfigSource[],
    private readonly agent: string,
    private readonly registry: Registry,
    private readonly logger: Logger,
    private readonly apply: (plan: AgentPlan, loaded: LoadedJob) => Promise<void>,
    initial: readonly JobText[],
    private readonly backupDir?: string,
  ) {
    this.lastApplied = key(initial);
  }

  /** Starts watching every source. */
  start(): void {
    for (const s of this.sources) this.stops.push(s.watch(() => this.schedule()));
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.stops) await s();
    this.stops = [];
    await this.running;
  }

  /** A reload soon (a change was noticed). */
  schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), DEBOUNCE_MS);
    this.timer.unref();
  }

  /** Reloads now (SIGHUP); resolves when this reload, and any it caused, is done. */
  reload(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.reloadOnce();
      } while (this.again);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async reloadOnce(): Promise<void> {
    let texts: JobText[];
    try {
      texts = (await Promise.all(this.sources.map((s) => s.read()))).flat();
    } catch (err) {
      const msg = (err as Error).message;
      // Once per outage, not per poll.
      if (this.unreadable !== msg) this.logger.warn(`Configuration not reloaded: ${msg}; the running configuration stays`);
      this.unreadable = msg;
      return;
    }
    if (this.unreadable) this.logger.info('The configuration can be read again');
    this.unreadable = undefined;
    const k = key(texts);
    if (k === this.lastApplied || k === this.lastRejected) return;
    const loaded = loadJobTexts(texts, this.agent, this.registry);
    if (!loaded.plan) {
      this.lastRejected = k;
      for (const d of sortDiagnostics(loaded.diagnostics)) if (d.severity === 'error') this.logger.error(formatDiagnostic(d));
      this.logger.error(`The new configuration of agent ${this.agent} has errors and was not applied; the running configuration stays`);
      return;
    }
    for (const d of sortDiagnostics(loaded.diagnostics)) this.logger.warn(formatDiagnostic(d));
    this.logger.info(`Configuration of agent ${this.agent} changed; applying it`);
    await this.apply(loaded.plan, loaded);
    this.lastApplied = k;
    this.lastRejected = undefined;
    this.backup(texts);
  }

  /** Keeps the last good configuration (Flume's --backup-directory), so a start can use it while the source is down. */
  backup(texts: readonly JobText[]): void {
    if (!this.backupDir) return;
    writeBackup(this.backupDir, this.agent, texts, this.logger);
  }
}

export function writeBackup(dir: string, agent: string, texts: readonly JobText[], logger: Logger): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    const file = backupFile(dir, agent);
    const body = texts.map((t) => `# from ${t.name}\n${t.text}${t.text.endsWith('\n') ? '' : '\n'}`).join('');
    fs.writeFileSync(`${file}.tmp`, `# Backup of agent ${agent}'s configuration, ${new Date().toISOString()}\n${body}`, { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  } catch (err) {
    logger.warn(`Unable to write the backup configuration in ${path.resolve(dir)}: ${(err as Error).message}`);
  }
}

function key(texts: readonly JobText[]): string {
  return JSON.stringify(texts.map((t) => [t.name, t.text]));
}
