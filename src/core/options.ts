import type { Context } from './context.js';
import { ConfigError, ErrorCodes } from './errors.js';

/**
 * A component declares its keys once, beside its behaviour: kind, default and a
 * description. From that one declaration come the typed options the component
 * receives, value checking with the key named, and the "did you mean" of unknown keys.
 */
export interface OptionSpec<T> {
  readonly kind: 'string' | 'integer' | 'number' | 'boolean' | 'enum' | 'list' | 'duration';
  readonly description: string;
  readonly default: T;
  readonly required?: boolean;
  /** A password, key or JAAS line: its value is never printed (errors, dry runs, logs). */
  readonly secret?: boolean;
  /** For durations: the unit the value is written in. */
  readonly unit?: 'ms' | 's';
  /** Bounds of numeric values, for checks and docs. */
  readonly min?: number;
  readonly max?: number;
  /** For enums: the values accepted, for docs. */
  readonly values?: readonly string[];
  /** Other spellings read for this option (older Flume keys); the first listed key wins. */
  readonly aliases?: readonly string[];
  /** Aliases that are deprecated: using one logs a warning naming the current key. */
  readonly deprecatedAliases?: readonly string[];
  /** Turn the trimmed string into the value, or throw a message naming what was expected. */
  parse(raw: string): T;
}

export type OptionsSpec = Readonly<Record<string, OptionSpec<unknown>>>;

/** The typed options object a component receives for a spec. */
export type Options<S extends OptionsSpec> = { readonly [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

interface Common {
  aliases?: readonly string[];
  deprecatedAliases?: readonly string[];
  secret?: boolean;
}
interface NumberBounds extends Common {
  min?: number;
  max?: number;
}

interface DurationBounds extends NumberBounds {
  /** The unit the value is written in; the option's value stays in that unit. */
  unit: 'ms' | 's';
}

/** Durations longer than this are refused unless the option declares its own max: a year. */
export const DEFAULT_MAX_DURATION_MS = 365 * 24 * 3600 * 1000;

type UnitText = (n: number) => string;
const NO_UNIT: UnitText = () => '';

function bounded(n: number, b: NumberBounds | undefined, unit: UnitText = NO_UNIT): number {
  if (b?.min !== undefined && n < b.min) throw new Error(`a value of at least ${b.min}${unit(b.min)}`);
  if (b?.max !== undefined && n > b.max) throw new Error(`a value of at most ${b.max}${unit(b.max)}`);
  return n;
}

/**
 * An integer written in the file: digits that fit a JavaScript number exactly.
 * `99999999999999999999` parses as 1e20 and would otherwise slip past every bound.
 */
function integer(raw: string, what: string, b: NumberBounds | undefined, unit: UnitText = NO_UNIT): number {
  if (!INT_RE.test(raw)) throw new Error(what);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) {
    if (n > 0 && b?.max !== undefined) throw new Error(`a value of at most ${b.max}${unit(b.max)}`);
    if (n < 0 && b?.min !== undefined) throw new Error(`a value of at least ${b.min}${unit(b.min)}`);
    throw new Error(`${what} no larger than ${Number.MAX_SAFE_INTEGER} in magnitude`);
  }
  return bounded(n, b, unit);
}

/** `31536000 s (365 days)`: the unit, and the maximum in words a person can check. */
function durationUnit(unit: 'ms' | 's'): UnitText {
  return (n) => {
    const ms = unit === 's' ? n * 1000 : n;
    const count = (n: number, unit: string): string => `${+n.toFixed(2)} ${unit}${+n.toFixed(2) === 1 ? '' : 's'}`;
    const human = ms >= 86_400_000 ? count(ms / 86_400_000, 'day') : ms >= 3_600_000 ? count(ms / 3_600_000, 'hour') : ms >= 60_000 ? count(ms / 60_000, 'minute') : undefined;
    return ` ${unit}${human ? ` (${human})` : ''}`;
  };
}

/**
 * The label Node's TextDecoder accepts for a Java charset name, or undefined.
 * Java writes `ISO_8859_1` or `Shift_JIS`; WHATWG labels use dashes, so both are tried.
 */
export function charsetLabel(name: string): string | undefined {
  for (const label of [name, name.replace(/_/g, '-')]) {
    try {
      new TextDecoder(label);
      return label;
    } catch {
      // not a label; try the next spelling
    }
  }
  return undefined;
}

const INT_RE = /^[+-]?\d+$/;
const NUM_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Option builders: `opt.integer(100, 'Maximum events stored', { min: 1 })`. */
export const opt = {
  string(def: string, description: string, c?: Common): OptionSpec<string> {
    return { kind: 'string', description, default: def, ...c, parse: (raw) => raw };
  },
  optionalString(description: string, c?: Common): OptionSpec<string | undefined> {
    return { kind: 'string', description, default: undefined, ...c, parse: (raw) => raw };
  },
  requiredString(description: string, c?: Common): OptionSpec<string> {
    return { kind: 'string', description, default: '', required: true, ...c, parse: (raw) => raw };
  },
  integer(def: number, description: string, b?: NumberBounds): OptionSpec<number> {
    return {
      kind: 'integer',
      description,
      default: def,
      ...b,
      parse: (raw) => integer(raw, 'an integer', b),
    };
  },
  optionalInteger(description: string, b?: NumberBounds): OptionSpec<number | undefined> {
    return {
      kind: 'integer',
      description,
      default: undefined,
      ...b,
      parse: (raw) => integer(raw, 'an integer', b),
    };
  },
  requiredInteger(description: string, b?: NumberBounds): OptionSpec<number> {
    return {
      kind: 'integer',
      description,
      default: 0,
      required: true,
      ...b,
      parse: (raw) => integer(raw, 'an integer', b),
    };
  },
  number(def: number, description: string, b?: NumberBounds): OptionSpec<number> {
    return {
      kind: 'number',
      description,
      default: def,
      ...b,
      parse(raw) {
        if (!NUM_RE.test(raw) || !Number.isFinite(Number(raw))) throw new Error('a number');
        return bounded(Number(raw), b);
      },
    };
  },
  /**
   * A length of time written as an integer in `unit` (Flume's keys mix seconds and
   * milliseconds). Bounded by `max` (default: a year), so a value that passes
   * validation always makes a sane timer; waits go through core/timers.ts.
   */
  duration(def: number, description: string, b: DurationBounds): OptionSpec<number> {
    const max = b.max ?? DEFAULT_MAX_DURATION_MS / (b.unit === 's' ? 1000 : 1);
    const min = b.min ?? 0;
    const bounds = { ...b, min, max };
    const unitText = durationUnit(b.unit);
    return {
      kind: 'duration',
      description,
      default: def,
      ...bounds,
      parse(raw) {
        return integer(raw, `an integer number of ${b.unit === 's' ? 'seconds' : 'milliseconds'}`, bounds, unitText);
      },
    };
  },
  /** An optional length of time (no default): as `duration`, undefined when the key is absent. */
  optionalDuration(description: string, b: DurationBounds): OptionSpec<number | undefined> {
    const d = opt.duration(0, description, b);
    return { ...d, default: undefined, parse: d.parse };
  },
  /**
   * A character set name (Java's `UTF-8`, `ISO-8859-1`, `GBK`, `Shift_JIS`...), checked
   * against what Node's TextDecoder can decode, so `encoding = nosuch` is a validation
   * error naming the key instead of a crash at start. The value is the spelling
   * TextDecoder accepts.
   */
  charset(def: string, description: string, c?: Common): OptionSpec<string> {
    return {
      kind: 'string',
      description,
      default: def,
      ...c,
      parse(raw) {
        const label = charsetLabel(raw);
        if (label === undefined) throw new Error('a character set Node.js can decode (e.g. UTF-8, ISO-8859-1, UTF-16LE, GBK, Shift_JIS)');
        return label;
      },
    };
  },
  /** A password or key: like optionalString, but never printed. */
  secret(description: string, c?: Common): OptionSpec<string | undefined> {
    return { kind: 'string', description, default: undefined, ...c, secret: true, parse: (raw) => raw };
  },
  boolean(def: boolean, description: string, c?: Common): OptionSpec<boolean> {
    return {
      kind: 'boolean',
      description,
      default: def,
      ...c,
      parse(raw) {
        const l = raw.toLowerCase();
        if (l === 'true') return true;
        if (l === 'false') return false;
        throw new Error('true or false');
      },
    };
  },
  /** One of `values`, matched case-insensitively as Flume does; the value is returned as declared. */
  enum<V extends string>(values: readonly V[], def: V, description: string, c?: Common): OptionSpec<V> {
    return {
      kind: 'enum',
      description,
      default: def,
      values,
      ...c,
      parse(raw) {
        const l = raw.toLowerCase();
        const hit = values.find((v) => v.toLowerCase() === l);
        if (hit === undefined) throw new Error(`one of ${values.join(', ')}`);
        return hit;
      },
    };
  },
  /** A whitespace-separated list. */
  list(def: readonly string[], description: string, c?: Common): OptionSpec<readonly string[]> {
    return { kind: 'list', description, default: def, ...c, parse: (raw) => raw.split(/\s+/).filter(Boolean) };
  },
};

/** A problem found while reading a component's options. */
export interface OptionProblem {
  severity: 'error' | 'warning';
  code: string;
  /** The key as written in the component's context (prefix removed). */
  key: string;
  message: string;
}

/**
 * Reads `spec` from `ctx`. Values of the wrong kind and missing required keys are
 * errors; a deprecated spelling is a warning. All problems are returned together.
 */
export function resolveOptions<S extends OptionsSpec>(spec: S, ctx: Context): { options: Options<S>; problems: OptionProblem[] } {
  const out: Record<string, unknown> = {};
  const problems: OptionProblem[] = [];
  for (const [name, o] of Object.entries(spec)) {
    let key: string | undefined;
    for (const k of [name, ...(o.aliases ?? []), ...(o.deprecatedAliases ?? [])]) {
      if (ctx.containsKey(k)) {
        key = k;
        break;
      }
    }
    if (key === undefined) {
      if (o.required) {
        problems.push({ severity: 'error', code: ErrorCodes.CONFIG_REQUIRED, key: name, message: `${ctx.prefix}${name} is required (${o.description})` });
      }
      out[name] = o.default;
      continue;
    }
    if (o.deprecatedAliases?.includes(key)) {
      problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_UNKNOWN_KEY, key, message: `${ctx.fullKey(key)} is deprecated; use ${ctx.prefix}${name}` });
    }
    const raw = ctx.getString(key) ?? '';
    try {
      out[name] = o.parse(raw);
    } catch (e) {
      const shown = o.secret || ctx.isSecret(key) ? 'a value not shown here (it is secret)' : `"${raw}"`;
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key, message: `${ctx.fullKey(key)}: expected ${(e as Error).message}, got ${shown}` });
      out[name] = o.default;
    }
  }
  return { options: Object.freeze(out) as Options<S>, problems };
}

/** Every key the spec reads, including aliases. */
export function specKeys(spec: OptionsSpec): string[] {
  const keys: string[] = [];
  for (const [name, o] of Object.entries(spec)) keys.push(name, ...(o.aliases ?? []), ...(o.deprecatedAliases ?? []));
  return keys;
}

/** Throws the first error of `problems` (used where a component is built outside the validator). */
export function throwOnErrors(ctx: Context, problems: readonly OptionProblem[]): void {
  const first = problems.find((p) => p.severity === 'error');
  if (first) {
    const o = ctx.origin(first.key);
    throw new ConfigError(first.code, (o ? `${o.file}:${o.line}: ` : '') + first.message, ctx.fullKey(first.key));
  }
}
