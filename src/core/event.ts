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
