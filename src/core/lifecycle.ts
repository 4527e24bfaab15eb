import { setLongTimeout } from './timers.js';

/** Every component: started once before use, stopped once at the end. */
export interface Lifecycle {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What a pollable source or a sink reports after one unit of work. */
export type Status = 'READY' | 'BACKOFF';

/** A promise that resolves after `ms` (any length), or at once when `signal` aborts. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      timer.clear();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setLongTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Yields to the event loop so that I/O and timers run between batches of a busy loop. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves when `p` settles or `signal` aborts, whichever comes first. */
export function raceAbort(p: Promise<unknown> | undefined, signal?: AbortSignal): Promise<void> {
  if (!p) return Promise.resolve();
  const settled = p.then(
    () => undefined,
    () => undefined,
  );
  if (!signal) return settled;
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void settled.then(done);
  });
}
