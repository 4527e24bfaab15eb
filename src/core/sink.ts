import type { Channel } from './channel.js';
import type { Lifecycle, Status } from './lifecycle.js';
import { sleep, yieldToLoop } from './lifecycle.js';
import type { Logger } from './logger.js';
import { RateLimitedLog } from './rate-limit.js';

/**
 * A sink takes a batch from its one channel inside a transaction, writes it, and
 * commits only after the destination acknowledged. It returns BACKOFF when there
 * was nothing to do and throws when delivery failed (its transaction rolled back).
 */
export interface Sink extends Lifecycle {
  /**
   * Also called while a process() call is still running, when the shutdown grace
   * period ended: it must make that call settle promptly (close the connection, so
   * the delivery fails and its transaction rolls back).
   */
  stop(): Promise<void>;
  readonly name: string;
  readonly channel: Channel;
  process(): Promise<Status>;
}

/** Runs one or more sinks as one unit (default, failover, load_balance). */
export interface SinkProcessor extends Lifecycle {
  readonly sinks: readonly Sink[];
  process(): Promise<Status>;
}

/**
 * The order in which a load_balance sink group tries its sinks (Flume's
 * LoadBalancingSinkProcessor.SinkSelector). Each process() call asks for an order,
 * tries the sinks in it until one does not throw, and reports each one that threw.
 */
export interface SinkSelector {
  /** The sinks to try for one call, in order; may leave out sinks that are backing off. */
  order(): readonly Sink[];
  informSinkFailed(sink: Sink): void;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}

/** The processor of an ungrouped sink: it delegates to the sink. */
export class DefaultSinkProcessor implements SinkProcessor {
  readonly sinks: readonly Sink[];
  constructor(private readonly sink: Sink) {
    this.sinks = [sink];
  }
  start(): Promise<void> {
    return this.sink.start();
  }
  stop(): Promise<void> {
    return this.sink.stop();
  }
  process(): Promise<Status> {
    return this.sink.process();
  }
}

/** Flume's SinkRunner waits 5 s after a failed delivery before trying again. */
export const SINK_FAILURE_BACKOFF_MS = 5000;
const MAX_IDLE_WAIT_MS = 5000;

/**
 * Drives a SinkProcessor. When the channels are empty it waits on their
 * "available" signal (no busy loop, no added latency); after a failure it waits
 * Flume's 5 s. `stop()` keeps delivering until the channels are empty or the grace
 * period ends, so a clean stop writes everything committed.
 */
export class SinkRunner {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly channels: readonly Channel[];
  private draining = false;
  /** The last delivery error, until a batch is delivered again (for health reports). */
  lastError: Error | undefined;
  /** A sink failing on every try would log a line per back-off: one line per kind of failure, then a count. */
  private readonly failures: RateLimitedLog;

  constructor(
    private readonly processor: SinkProcessor,
    readonly name: string,
    private readonly logger: Logger,
    private readonly failureBackoffMs = SINK_FAILURE_BACKOFF_MS,
  ) {
    this.channels = [...new Set(processor.sinks.map((s) => s.channel))];
    this.failures = new RateLimitedLog(logger);
  }

  async start(): Promise<void> {
    await this.processor.start();
    this.loop = this.run();
  }

  /**
   * Drains the channels until they are empty or `signal` aborts (the grace period
   * ended), then stops the sinks. On abort the sinks are stopped at once, while a
   * delivery may still be running: their stop() makes it fail (closed connection),
   * so its transaction rolls back and the events stay in the channel. With `drain`
   * false the runner stops after the batch in flight, leaving the rest in the channel.
   */
  async stop(signal: AbortSignal, drain = true): Promise<void> {
    this.draining = true;
    // Handing the channel over (a reload): the batch in flight finishes, then the loop ends.
    if (!drain) this.abort.abort();
    let stopped: Promise<void> | undefined;
    const stopSinks = (): Promise<void> => (stopped ??= this.processor.stop());
    const abandon = (): void => {
      this.abort.abort();
      this.wake?.();
      stopSinks().catch((err) => this.logger.error(`stopping ${this.name}: ${(err as Error).message}`));
    };
    if (signal.aborted) abandon();
    else signal.addEventListener('abort', abandon, { once: true });
    // Wake the loop if it is waiting on an empty channel.
    this.wake?.();
    await this.loop;
    signal.removeEventListener('abort', abandon);
    this.abort.abort();
    await stopSinks();
    this.failures.flush();
  }

  private wake: (() => void) | undefined;

  private empty(): boolean {
    for (const c of this.channels) if (c.size > 0) return false;
    return true;
  }

  private async waitForEvents(timeoutMs: number): Promise<void> {
    const waits = this.channels.map((c) => c.waitAvailable(timeoutMs));
    waits.push(new Promise<void>((resolve) => (this.wake = resolve)));
    await Promise.race(waits);
    this.wake = undefined;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let backoffs = 0;
    while (!signal.aborted) {
      if (this.draining && this.empty()) break;
      try {
        const status = await this.processor.process();
        if (status === 'READY') {
          backoffs = 0;
          this.lastError = undefined;
          await yieldToLoop();
        } else if (this.empty()) {
          if (this.draining) break;
          backoffs++;
          await this.waitForEvents(Math.min(backoffs * 1000, MAX_IDLE_WAIT_MS));
        } else {
          await yieldToLoop();
        }
      } catch (err) {
        this.lastError = err as Error;
        this.failures.error(`deliver:${(err as { code?: string }).code ?? ''}`, `Unable to deliver event from ${this.name}: ${(err as Error).message}`);
        if (this.logger.isDebugEnabled) this.logger.debug((err as Error).stack ?? String(err));
        await sleep(this.failureBackoffMs, signal);
      }
    }
  }
}
