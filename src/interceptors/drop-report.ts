/**
 * Counts events a routing piece dropped or could not edit, and says so in the log
 * without flooding it: the first occurrence is logged at once, later ones are summed
 * into at most one line per interval, and `close()` logs the total. Each
 * line carries the running total, so the log alone tells how many were dropped.
 * Adding costs a few number operations; call it once per batch, not per event.
 */
export class DropReport {
  /** Events counted since start. */
  total = 0;
  private pending = 0;
  private lastLog = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: (message: string) => void,
    /** What happened, e.g. `interceptor i1 (regex_filter) dropped`. */
    private readonly what: string,
    private readonly intervalMs = 5000,
  ) {}

  add(n: number): void {
    if (n <= 0) return;
    this.total += n;
    this.pending += n;
    const now = Date.now();
    if (now - this.lastLog >= this.intervalMs) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.lastLog + this.intervalMs - now);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending === 0) return;
    this.log(`${this.what} ${this.pending} event(s) (${this.total} in total)`);
    this.pending = 0;
    this.lastLog = Date.now();
  }

  /** Logs the total since start (when there was anything); call when the component closes. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.total > 0) this.log(`${this.what} ${this.total} event(s) in total`);
    this.pending = 0;
  }
}
