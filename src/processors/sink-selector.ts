import { type ComponentLookup, type Sink, type SinkSelector, type SinkSelectorDefinition } from '../plugin-api/index.js';

export type { SinkSelector, SinkSelectorDefinition, SinkSelectorInit } from '../plugin-api/index.js';
export { defineSinkSelector } from '../plugin-api/index.js';

/** Looks a custom sink selector up in the registry (kind `sinkSelector`). */
export function lookupSinkSelector(registry: ComponentLookup, type: string): SinkSelectorDefinition | undefined {
  return registry.lookup('sinkSelector', type);
}

interface FailureState {
  lastFail: number;
  restoreTime: number;
  sequentialFails: number;
}

const EXP_BACKOFF_COUNTER_LIMIT = 16;
const CONSIDER_SEQUENTIAL_RANGE_MS = 3_600_000;
export const DEFAULT_MAX_TIMEOUT_MS = 30_000;

/**
 * Flume's OrderSelector: with back-off on, a sink that failed is left out until its
 * restore time, which grows 2 s, 4 s, 8 s ... up to maxTimeOut while the failures
 * keep coming within an hour (plus the last back-off) of each other.
 */
export abstract class OrderSelector implements SinkSelector {
  private readonly states: Map<Sink, FailureState>;

  constructor(
    protected readonly sinks: readonly Sink[],
    private readonly backoff: boolean,
    private readonly maxTimeout: number,
    protected readonly now: () => number = Date.now,
  ) {
    this.states = new Map(sinks.map((s) => [s, { lastFail: 0, restoreTime: 0, sequentialFails: 0 }]));
  }

  abstract order(): readonly Sink[];

  informSinkFailed(sink: Sink): void {
    if (!this.backoff) return;
    const st = this.states.get(sink);
    if (!st) return;
    const now = this.now();
    const lastBackoff = Math.min(this.maxTimeout, 1000 * 2 ** st.sequentialFails);
    if (now - st.lastFail < lastBackoff + CONSIDER_SEQUENTIAL_RANGE_MS) {
      if (st.sequentialFails < EXP_BACKOFF_COUNTER_LIMIT) st.sequentialFails++;
    } else {
      st.sequentialFails = 1;
    }
    st.lastFail = now;
    st.restoreTime = now + Math.min(this.maxTimeout, 1000 * 2 ** st.sequentialFails);
  }

  /** The sinks not backing off, in configuration order. */
  protected active(): Sink[] {
    if (!this.backoff) return this.sinks as Sink[];
    const now = this.now();
    return this.sinks.filter((s) => this.states.get(s)!.restoreTime < now);
  }

  /** When the sink may be tried again (ms since the epoch; 0 when it never failed). */
  restoreTime(sink: Sink): number {
    return this.states.get(sink)?.restoreTime ?? 0;
  }
}

/** Starts each call one sink further along the active list. */
export class RoundRobinSelector extends OrderSelector {
  private nextHead = 0;

  order(): readonly Sink[] {
    const active = this.active();
    const size = active.length;
    if (this.nextHead >= size) this.nextHead = 0;
    const begin = this.nextHead++;
    if (this.nextHead === size) this.nextHead = 0;
    if (begin === 0) return active;
    const out = new Array<Sink>(size);
    for (let i = 0; i < size; i++) out[i] = active[(begin + i) % size]!;
    return out;
  }
}

/** A uniformly random order of the active sinks for each call. */
export class RandomSelector extends OrderSelector {
  constructor(
    sinks: readonly Sink[],
    backoff: boolean,
    maxTimeout: number,
    now?: () => number,
    private readonly random: () => number = Math.random,
  ) {
    super(sinks, backoff, maxTimeout, now);
  }

  order(): readonly Sink[] {
    const out = this.active().slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
}
