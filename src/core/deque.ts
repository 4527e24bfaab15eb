/**
 * A growable ring buffer of items: O(1) at both ends, batch moves without
 * re-indexing the whole array (Array#shift is O(n) and would dominate a busy channel).
 */
export class Deque<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private len = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity) cap <<= 1;
    this.buf = new Array(cap);
  }

  get length(): number {
    return this.len;
  }

  /** Append items at the tail, in order. */
  pushAll(items: readonly T[]): void {
    this.ensure(this.len + items.length);
    const mask = this.buf.length - 1;
    let i = (this.head + this.len) & mask;
    for (const it of items) {
      this.buf[i] = it;
      i = (i + 1) & mask;
    }
    this.len += items.length;
  }

  /** Remove up to `max` items from the head. */
  shiftMany(max: number): T[] {
    const n = Math.min(max, this.len);
    const out = new Array<T>(n);
    const mask = this.buf.length - 1;
    let i = this.head;
    for (let k = 0; k < n; k++) {
      out[k] = this.buf[i] as T;
      this.buf[i] = undefined;
      i = (i + 1) & mask;
    }
    this.head = i;
    this.len -= n;
    return out;
  }

  /** Put items back at the head so that items[0] is the next one out. */
  unshiftAll(items: readonly T[]): void {
    this.ensure(this.len + items.length);
    const mask = this.buf.length - 1;
    for (let k = items.length - 1; k >= 0; k--) {
      this.head = (this.head - 1) & mask;
      this.buf[this.head] = items[k];
    }
    this.len += items.length;
  }

  private ensure(n: number): void {
    if (n <= this.buf.length) return;
    let cap = this.buf.length;
    while (cap < n) cap <<= 1;
    const next = new Array<T | undefined>(cap);
    const mask = this.buf.length - 1;
    for (let k = 0; k < this.len; k++) next[k] = this.buf[(this.head + k) & mask];
    this.buf = next;
    this.head = 0;
  }
}
