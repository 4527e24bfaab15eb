/**
 * A Flume event: string headers and an opaque body. The body stays a Buffer from
 * the wire to the sink; nothing on the hot path decodes it.
 */
export interface FlumeEvent {
  headers: Record<string, string>;
  body: Buffer;
}

/** Builds an event; headers are owned by the event (interceptors may edit them). */
export function createEvent(body: Buffer | string, headers: Record<string, string> = {}): FlumeEvent {
  return { headers, body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body };
}

/**
 * An event whose body is bytes `start`..`end` of a buffer shared with other events,
 * such as the lines of one socket read. It is one small object: the body view and the
 * headers object are made only when something reads them, so a source that cuts a
 * read into thousands of lines allocates nothing else per line, and a sink that only
 * needs the bytes ({@link bodyLength}, `source`, `start`, `end`) never makes the views.
 * It behaves as any FlumeEvent: reading `body` gives the slice, assigning `body` or
 * `headers` replaces them. The shared buffer must not change while events use it.
 */
export class SlicedEvent implements FlumeEvent {
  private h: Record<string, string> | undefined = undefined;
  private b: Buffer | undefined = undefined;

  constructor(
    private src: Buffer,
    private from: number,
    private to: number,
  ) {}

  /** The buffer the body is a slice of (the body itself once it was replaced). */
  get source(): Buffer {
    return this.src;
  }

  /** Where the body starts in `source`. */
  get start(): number {
    return this.from;
  }

  /** Where the body ends in `source` (exclusive). */
  get end(): number {
    return this.to;
  }

  get headers(): Record<string, string> {
    return (this.h ??= {});
  }

  set headers(h: Record<string, string>) {
    this.h = h;
  }

  get body(): Buffer {
    return (this.b ??= this.src.subarray(this.from, this.to));
  }

  set body(b: Buffer) {
    this.b = this.src = b;
    this.from = 0;
    this.to = b.length;
  }

  /** The same event with its body copied to `target` at `at`; the headers go along (not copied). */
  copyTo(target: Buffer, at: number): SlicedEvent {
    const len = this.to - this.from;
    this.src.copy(target, at, this.from, this.to);
    const e = new SlicedEvent(target, at, at + len);
    e.h = this.h;
    return e;
  }
}

/**
 * The events, with the bodies of the sliced ones copied into one buffer of their own.
 * A sliced event keeps its whole source buffer alive, which is right while its
 * neighbours travel with it; when only some of them go on (an interceptor dropped
 * the others, a selector sent them elsewhere), the few that remain would pin many
 * times their size in a channel. This is one copy and one allocation per call.
 */
export function compactSlices(events: readonly FlumeEvent[]): FlumeEvent[] {
  let bytes = 0;
  let sliced = 0;
  for (const e of events) {
    if (e instanceof SlicedEvent) {
      bytes += e.end - e.start;
      sliced++;
    }
  }
  if (sliced === 0) return events as FlumeEvent[];
  const target = Buffer.allocUnsafe(bytes);
  const out = new Array<FlumeEvent>(events.length);
  let at = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e instanceof SlicedEvent) {
      out[i] = e.copyTo(target, at);
      at += e.end - e.start;
    } else out[i] = e;
  }
  return out;
}

/** The body's length, without making a view of a sliced body. */
export function bodyLength(e: FlumeEvent): number {
  return e instanceof SlicedEvent ? e.end - e.start : e.body.length;
}
