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
 * needs the bytes ({@link bodyLength}, {@link bodySlice}) never makes the views.
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
}

/** The body's length, without making a view of a sliced body. */
export function bodyLength(e: FlumeEvent): number {
  return e instanceof SlicedEvent ? e.end - e.start : e.body.length;
}
