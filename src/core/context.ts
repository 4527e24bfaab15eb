import { ConfigError, ErrorCodes } from './errors.js';

/** Where a property came from, so a diagnostic can point at file:line. */
export interface PropertyOrigin {
  file: string;
  line: number;
  /** The full key as written in the file, e.g. `a1.channels.c1.capacity`. */
  key: string;
  /** The value came from the environment or a config filter: never print it. */
  secret?: boolean;
}

/**
 * The properties of one component with its `<agent>.<kind>.<name>.` prefix removed,
 * as Flume's Context. Getters take a default like Flume's, but a value of the wrong
 * kind is a ConfigError naming the full key and its file:line, not a bare
 * NumberFormatException.
 */
export class Context {
  private readonly props: ReadonlyMap<string, string>;
  private readonly origins: ReadonlyMap<string, PropertyOrigin>;
  /** The prefix of the full key, for keys without a recorded origin (e.g. `a1.sinks.k1.`). */
  readonly prefix: string;

  constructor(props: ReadonlyMap<string, string> | Record<string, string> = new Map(), origins: ReadonlyMap<string, PropertyOrigin> = new Map(), prefix = '') {
    this.props = props instanceof Map ? props : new Map(Object.entries(props));
    this.origins = origins;
    this.prefix = prefix;
  }

  keys(): string[] {
    return [...this.props.keys()];
  }

  containsKey(key: string): boolean {
    return this.props.has(key);
  }

  /** The raw string, trimmed, or the default when absent. */
  getString(key: string): string | undefined;
  getString(key: string, defaultValue: string): string;
  getString(key: string, defaultValue?: string): string | undefined {
    const v = this.props.get(key);
    return v === undefined ? defaultValue : v;
  }

  getInteger(key: string, defaultValue: number): number;
  getInteger(key: string): number | undefined;
  getInteger(key: string, defaultValue?: number): number | undefined {
    return this.numeric(key, defaultValue, /^[+-]?\d+$/, 'an integer');
  }

  getLong(key: string, defaultValue: number): number;
  getLong(key: string): number | undefined;
  getLong(key: string, defaultValue?: number): number | undefined {
    return this.numeric(key, defaultValue, /^[+-]?\d+$/, 'an integer');
  }

  getDouble(key: string, defaultValue: number): number;
  getDouble(key: string): number | undefined;
  getDouble(key: string, defaultValue?: number): number | undefined {
    return this.numeric(key, defaultValue, /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/, 'a number');
  }

  /** Flume's rule: "true" in any case is true, anything else is false. We refuse anything else. */
  getBoolean(key: string, defaultValue: boolean): boolean;
  getBoolean(key: string): boolean | undefined;
  getBoolean(key: string, defaultValue?: boolean): boolean | undefined {
    const v = this.props.get(key);
    if (v === undefined) return defaultValue;
    const lower = v.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    throw this.badValue(key, v, 'true or false');
  }

  /** Keys under `prefix` (which should end with '.') with the prefix removed, as a new Context. */
  subProperties(prefix: string): Context {
    const props = new Map<string, string>();
    const origins = new Map<string, PropertyOrigin>();
    for (const [k, v] of this.props) {
      if (k.startsWith(prefix) && k.length > prefix.length) {
        const sub = k.slice(prefix.length);
        props.set(sub, v);
        const o = this.origins.get(k);
        if (o) origins.set(sub, o);
      }
    }
    return new Context(props, origins, this.prefix + prefix);
  }

  /** The properties as a plain object (a copy). */
  toRecord(): Record<string, string> {
    return Object.fromEntries(this.props);
  }

  /** True when the value of `key` must never be printed (from the environment or a config filter). */
  isSecret(key: string): boolean {
    return this.origins.get(key)?.secret === true;
  }

  /** Where `key` was written, for diagnostics. */
  origin(key: string): PropertyOrigin | undefined {
    return this.origins.get(key);
  }

  /** The full key as the user wrote it. */
  fullKey(key: string): string {
    return this.origins.get(key)?.key ?? this.prefix + key;
  }

  /** A ConfigError for `key`, located at its file:line when known. */
  error(key: string, message: string, code: string = ErrorCodes.CONFIG_VALUE): ConfigError {
    const o = this.origins.get(key);
    const where = o ? `${o.file}:${o.line}: ` : '';
    return new ConfigError(code, `${where}${this.fullKey(key)}: ${message}`, this.fullKey(key));
  }

  private badValue(key: string, value: string, expected: string): ConfigError {
    return this.error(key, `expected ${expected}, got ${this.origins.get(key)?.secret ? 'a value not shown here (it is secret)' : `"${value}"`}`);
  }

  private numeric(key: string, def: number | undefined, re: RegExp, what: string): number | undefined {
    const v = this.props.get(key);
    if (v === undefined) return def;
    if (!re.test(v)) throw this.badValue(key, v, what);
    const n = Number(v);
    if (!Number.isFinite(n)) throw this.badValue(key, v, what);
    // 99999999999999999999 would silently become 1e20.
    if (what === 'an integer' && !Number.isSafeInteger(n)) throw this.badValue(key, v, `an integer no larger than ${Number.MAX_SAFE_INTEGER} in magnitude`);
    return n;
  }
}
