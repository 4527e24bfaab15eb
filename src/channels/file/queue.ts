import type { FlumeEvent } from '../../plugin-api/index.js';

/**
 * The channel's queue: event pointers in a ring of float64s (no object per entry, so
 * a million queued events cost 8 MB), beside the event itself while it is cached
 * (recent puts, taken soon after, are never read back from disk).
 */
export class PointerQueue {
  private ptr: Float64Array;
  private ev: (FlumeEvent | undefined)[];
  private head = 0;
  private len = 0;

  constructor(initial = 1024) {
    let cap = 16;
    while (cap < initial) cap <<= 1;
    this.ptr = new Float64Array(cap);
    this.ev = new Array(cap);
  }

  get length(): number {
    return this.len;
  }

  push(p: number, e: FlumeEvent | undefined): void {
    this.ensure(this.len + 1);
    const i = (this.head + this.len) & (this.ptr.length - 1);
    this.ptr[i] = p;
    this.ev[i] = e;
    this.len++;
  }

  /** Moves up to `max` entries from the head into the given arrays. */
  shiftInto(max: number, ptrs: number[], events: (FlumeEvent | undefined)[]): number {
    const n = Math.min(max, this.len);
    const mask = this.ptr.length - 1;
    let i = this.head;
    for (let k = 0; k < n; k++) {
      ptrs.push(this.ptr[i]!);
      events.push(this.ev[i]);
      this.ev[i] = undefined;
      i = (i + 1) & mask;
    }
    this.head = i;
    this.len -= n;
    return n;
  }

  /** Puts entries back at the head, ptrs[0] first out. */
  unshiftAll(ptrs: readonly number[], events: readonly (FlumeEvent | undefined)[]): void {
    this.ensure(this.len + ptrs.length);
    const mask = this.ptr.length - 1;
    for (let k = ptrs.length - 1; k >= 0; k--) {
      this.head = (this.head - 1) & mask;
      this.ptr[this.head] = ptrs[k]!;
      this.ev[this.head] = events[k];
    }
    this.len += ptrs.length;
  }

  /** Every pointer, head first (for checkpoints). */
  copyTo(out: Float64Array, at: number): void {
    const mask = this.ptr.length - 1;
    for (let k = 0; k < this.len; k++) out[at + k] = this.ptr[(this.head + k) & mask]!;
  }

  private ensure(n: number): void {
    if (n <= this.ptr.length) return;
    let cap = this.ptr.length;
    while (cap < n) cap <<= 1;
    const p = new Float64Array(cap);
    const e = new Array<FlumeEvent | undefined>(cap);
    const mask = this.ptr.length - 1;
    for (let k = 0; k < this.len; k++) {
      p[k] = this.ptr[(this.head + k) & mask]!;
      e[k] = this.ev[(this.head + k) & mask];
    }
    this.ptr = p;
    this.ev = e;
    this.head = 0;
  }
}
