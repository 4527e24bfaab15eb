import type { Logger } from './logger.js';

/**
 * Repeated warnings, rate-limited: the first of a kind is logged at once; the ones
 * that follow within `intervalMs` are only counted, and one line says how many there
 * were when the interval ends. A burst of bad datagrams or a full channel then costs
 * a few log lines, not one per event.
 */
export class RateLimitedLog {
  private readonly kinds = new Map<string, { suppressed: number; last: string; timer: NodeJS.Timeout | undefined }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  warn(kind: string, message: string): void {
    this.log('warn', kind, message);
  }

  error(kind: string, message: string): void {
    this.log('error', kind, message);
  }

  /** Log the pending counts now and stop the timers (on component stop). */
  flush(): void {
    for (const [kind, k] of this.kinds) {
      if (k.timer) clearTimeout(k.timer);
      if (k.suppressed > 0) this.logger.warn(`${k.last} (${k.suppressed} more like this)`);
      this.kinds.delete(kind);
    }
  }

  private log(level: 'warn' | 'error', kind: string, message: string): void {
    const k = this.kinds.get(kind);
    if (k) {
      k.suppressed++;
      k.last = message;
      return;
    }
    this.logger[level](message);
    const entry = { suppressed: 0, last: message, timer: undefined as NodeJS.Timeout | undefined };
    const tick = (): void => {
      if (entry.suppressed === 0) {
        this.kinds.delete(kind);
        return;
      }
      this.logger[level](`${entry.last} (${entry.suppressed} more like this in the last ${Math.round(this.intervalMs / 1000)} s)`);
      entry.suppressed = 0;
      entry.timer = setTimeout(tick, this.intervalMs);
      entry.timer.unref();
    };
    entry.timer = setTimeout(tick, this.intervalMs);
    entry.timer.unref();
    this.kinds.set(kind, entry);
  }
}
