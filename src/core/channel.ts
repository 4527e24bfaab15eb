import type { Lifecycle } from './lifecycle.js';
import type { ChannelCounter } from './counters.js';
import type { Transaction } from './transaction.js';
import { setLongTimeout, type LongTimer } from './timers.js';

/** A buffer between sources and sinks; all access goes through transactions. */
export interface Channel extends Lifecycle {
  readonly name: string;
  /** Events stored and not yet taken. */
  readonly size: number;
  /** Maximum events stored (0 when unbounded). */
  readonly capacity: number;
  /** The largest batch one transaction may put or take. */
  readonly transactionCapacity: number;
  readonly counter: ChannelCounter;
  /**
   * Events taken by transactions that neither committed nor rolled back yet: not
   * delivered, and counted with `size` in what a stop leaves behind.
   */
  readonly takesInFlight?: number;
  /** True when committed events survive a crash (file, jdbc): what a stop leaves behind is not lost. */
  readonly durable?: boolean;
  /** A new OPEN transaction. */
  transaction(): Transaction;
  /**
   * Resolves when events may have become available to take (a commit with puts, a
   * rollback of takes), when `timeoutMs` passes, or when the channel stops. Sink
   * runners wait on this instead of sleeping a fixed back-off.
   */
  waitAvailable(timeoutMs: number): Promise<void>;
}

/**
 * The "events available" signal shared by channels: one pending promise for all
 * waiters, replaced after it fires, so an idle sink costs nothing per event.
 */
export class AvailabilitySignal {
  private pending: Promise<void> | undefined;
  private fire: (() => void) | undefined;

  notify(): void {
    const f = this.fire;
    if (f) {
      this.pending = undefined;
      this.fire = undefined;
      f();
    }
  }

  wait(timeoutMs: number): Promise<void> {
    if (!this.pending) {
      this.pending = new Promise<void>((resolve) => {
        this.fire = resolve;
      });
    }
    if (timeoutMs <= 0 || !Number.isFinite(timeoutMs)) return this.pending;
    let timer: LongTimer | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setLongTimeout(resolve, timeoutMs);
    });
    return Promise.race([this.pending, timeout]).finally(() => timer?.clear());
  }
}
