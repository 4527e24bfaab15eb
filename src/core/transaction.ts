import type { FlumeEvent } from './event.js';
import { FlumeError, ErrorCodes } from './errors.js';

/**
 * A channel transaction. Created OPEN by `channel.transaction()`; ends with exactly
 * one commit or rollback. Batch-first: one await per batch, never per event.
 */
export interface Transaction {
  /** Stage events; they become visible to takers only at commit. */
  put(events: readonly FlumeEvent[]): Promise<void>;
  /** Take up to `max` events; [] when the channel is empty. */
  take(max: number): Promise<FlumeEvent[]>;
  /** Make the puts visible and the takes final. Durable when it resolves, for durable channels. */
  commit(): Promise<void>;
  /** Drop the puts; return the takes to the head of the channel in their order. */
  rollback(): Promise<void>;
}

export type TransactionState = 'OPEN' | 'COMMITTED' | 'ROLLED_BACK';

/**
 * The state machine every channel's transactions share (Flume's
 * BasicTransactionSemantics, without threads): put/take only while OPEN, one
 * commit or rollback, and errors that name the state. Channels write only the do* methods.
 */
export abstract class BaseTransaction implements Transaction {
  protected state: TransactionState = 'OPEN';

  get currentState(): TransactionState {
    return this.state;
  }

  put(events: readonly FlumeEvent[]): Promise<void> {
    if (this.state !== 'OPEN') return Promise.reject(this.stateError('put'));
    return this.doPut(events);
  }

  take(max: number): Promise<FlumeEvent[]> {
    if (this.state !== 'OPEN') return Promise.reject(this.stateError('take'));
    return this.doTake(max);
  }

  async commit(): Promise<void> {
    this.assertOpen('commit');
    await this.doCommit();
    this.state = 'COMMITTED';
  }

  async rollback(): Promise<void> {
    if (this.state === 'ROLLED_BACK') return;
    this.assertOpen('rollback');
    this.state = 'ROLLED_BACK';
    await this.doRollback();
  }

  protected abstract doPut(events: readonly FlumeEvent[]): Promise<void>;
  protected abstract doTake(max: number): Promise<FlumeEvent[]>;
  protected abstract doCommit(): Promise<void>;
  protected abstract doRollback(): Promise<void>;

  private assertOpen(op: string): void {
    if (this.state !== 'OPEN') throw this.stateError(op);
  }

  private stateError(op: string): FlumeError {
    return new FlumeError(ErrorCodes.TXN_STATE, `cannot ${op}: transaction is ${this.state}`);
  }
}

/**
 * The one transaction idiom: commit when `fn` resolves, roll back when it throws.
 * A rollback failure is attached as the cause and never hides the original error.
 */
export async function withTransaction<T>(channel: { transaction(): Transaction }, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  const tx = channel.transaction();
  let result: T;
  try {
    result = await fn(tx);
  } catch (err) {
    try {
      await tx.rollback();
    } catch (rollbackErr) {
      if (err instanceof Error && err.cause === undefined) (err as { cause?: unknown }).cause = rollbackErr;
    }
    throw err;
  }
  try {
    await tx.commit();
  } catch (err) {
    try {
      await tx.rollback();
    } catch {
      // the commit error is the one that matters
    }
    throw err;
  }
  return result;
}
