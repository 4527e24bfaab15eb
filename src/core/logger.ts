/**
 * The logging surface components see. The CLI backs it with winston; tests and
 * embedders may pass anything with these methods. Levels below the threshold are
 * no-ops bound once, so a disabled debug line costs a call, not a format.
 */
export interface Logger {
  error(message: string, meta?: unknown): void;
  warn(message: string, meta?: unknown): void;
  info(message: string, meta?: unknown): void;
  debug(message: string, meta?: unknown): void;
  readonly isDebugEnabled: boolean;
  /** A logger for a named component, e.g. `org.apache.flume.sink.LoggerSink` or `sink.k1`. */
  child(name: string): Logger;
}

const noop = (): void => {};

/** A logger that drops everything (default for tests and library use). */
export const silentLogger: Logger = {
  error: noop,
  warn: noop,
  info: noop,
  debug: noop,
  isDebugEnabled: false,
  child: () => silentLogger,
};
