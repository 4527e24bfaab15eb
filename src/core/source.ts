import type { Lifecycle, Status } from './lifecycle.js';
import { raceAbort, sleep, yieldToLoop } from './lifecycle.js';
import type { Logger } from './logger.js';
import { RateLimitedLog } from './rate-limit.js';
import { ChannelError } from './errors.js';

/**
 * A source that pushes on its own once started (sockets, timers): it calls its
 * ChannelProcessor and acknowledges its client only after that call resolved.
 */
export interface EventDrivenSource extends Lifecycle {
  readonly kind: 'event-driven';
  /**
   * Stop accepting input; store what was already read, unless `signal` aborts (the
   * shutdown grace period ended): then stop storing at once and drop the rest, not
   * acknowledged.
   */
  stop(signal?: AbortSignal): Promise<void>;
}

/** A source the runtime polls: `process()` does one unit of work. */
export interface PollableSource extends Lifecycle {
  readonly kind: 'pollable';
  process(): Promise<Status>;
  /** As EventDrivenSource.stop: `signal` aborts when the grace period ended. */
  stop(signal?: AbortSignal): Promise<void>;
  /** Back-off grows by this much per consecutive BACKOFF (ms). */
  readonly backoffSleepIncrement: number;
  /** ...up to this cap (ms). */
  readonly maxBackoffSleep: number;
}

export type Source = EventDrivenSource | PollableSource;

/**
 * Polls a PollableSource with Flume's back-off: after BACKOFF sleep
 * min(n × increment, max); a ChannelError retries at once (the channel's own
 * keep-alive already waited); any other error sleeps the maximum.
 */
export class PollableSourceRunner {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly source: PollableSource,
    private readonly name: string,
    private readonly logger: Logger,
  ) {
    this.failures = new RateLimitedLog(logger);
  }

  /** process() failing on every poll would log a line per back-off: one per kind, then a count. */
  private readonly failures: RateLimitedLog;

  start(): void {
    this.loop = this.run();
  }

  /** Ends the polling; a process() call under way may finish until `signal` aborts. */
  async stop(signal?: AbortSignal): Promise<void> {
    this.abort.abort();
    await raceAbort(this.loop, signal);
    this.failures.flush();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let backoffs = 0;
    while (!signal.aborted) {
      try {
        const status = await this.source.process();
        if (status === 'BACKOFF') {
          backoffs++;
          await sleep(Math.min(backoffs * this.source.backoffSleepIncrement, this.source.maxBackoffSleep), signal);
        } else {
          backoffs = 0;
          await yieldToLoop();
        }
      } catch (err) {
        if (err instanceof ChannelError) {
          this.logger.debug(`source ${this.name}: ${(err as Error).message}`);
          await yieldToLoop();
        } else {
          this.failures.error(`process:${(err as { code?: string }).code ?? ''}`, `source ${this.name}: unhandled error in process(): ${(err as Error).stack ?? err}`);
          await sleep(this.source.maxBackoffSleep, signal);
        }
      }
    }
  }
}
