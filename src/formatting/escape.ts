import os from 'node:os';
import type { FlumeEvent } from '../core/event.js';
import { FlumeError } from '../core/errors.js';

/**
 * Flume's BucketPath escapes (hdfs.path, hdfs.filePrefix, the Kafka sink's topic):
 * `%{header}`, `%[localhost|IP|FQDN]`, and strftime-like `%x` time tokens taken from
 * the `timestamp` header (or the local clock with useLocalTimeStamp). A pattern is
 * compiled once into parts, so formatting an event walks a short array.
 */
export interface EscapeOptions {
  useLocalTimeStamp?: boolean;
  /** IANA zone name (hdfs.timeZone); default: the process's local zone. */
  timeZone?: string;
  /** Round the timestamp down to a multiple of roundValue roundUnit. */
  round?: { value: number; unit: 'second' | 'minute' | 'hour' };
}

type Part = { kind: 'text'; text: string } | { kind: 'header'; name: string } | { kind: 'time'; letter: string } | { kind: 'host'; text: string };

const TOKEN = /%(\w|%)|%\{([\w.-]+)\}|%\[(\w+)\]/g;

export class EscapedString {
  private readonly parts: Part[] = [];
  /** True when the pattern has a time token: events then need a timestamp. */
  readonly needsTime: boolean;
  readonly hasEscapes: boolean;
  /** True when every escape is a time escape (no %{header}): the value depends on the time alone. */
  readonly onlyTimeEscapes: boolean;
  /** The shortest time span the pattern tells apart (1 s for %S, 1 h for %H ...), in ms. */
  readonly finestTimeUnitMs: number;

  constructor(
    readonly pattern: string,
    private readonly opts: EscapeOptions = {},
  ) {
    let last = 0;
    for (const m of pattern.matchAll(TOKEN)) {
      if (m.index! > last) this.parts.push({ kind: 'text', text: pattern.slice(last, m.index) });
      if (m[2] !== undefined) this.parts.push({ kind: 'header', name: m[2] });
      else if (m[3] !== undefined) this.parts.push({ kind: 'host', text: hostValue(m[3]) });
      else this.parts.push({ kind: 'time', letter: m[1]! });
      last = m.index! + m[0].length;
    }
    if (last < pattern.length) this.parts.push({ kind: 'text', text: pattern.slice(last) });
    this.needsTime = this.parts.some((p) => p.kind === 'time');
    this.hasEscapes = this.parts.some((p) => p.kind !== 'text');
    this.onlyTimeEscapes = this.hasEscapes && !this.parts.some((p) => p.kind === 'header');
    let finest = 86_400_000;
    for (const p of this.parts) if (p.kind === 'time') finest = Math.min(finest, UNIT_MS[p.letter] ?? 86_400_000);
    this.finestTimeUnitMs = finest;
  }

  format(event: FlumeEvent, now?: number): string {
    if (!this.hasEscapes) return this.pattern;
    let ts: number | undefined;
    let rawTs: string | undefined;
    let fields: TimeFields | undefined;
    let s = '';
    for (const p of this.parts) {
      switch (p.kind) {
        case 'text':
        case 'host':
          s += p.text;
          break;
        case 'header':
          s += event.headers[p.name] ?? '';
          break;
        case 'time': {
          if (ts === undefined) {
            if (this.opts.useLocalTimeStamp) {
              ts = now ?? Date.now();
              rawTs = String(ts);
            } else {
              rawTs = event.headers.timestamp;
              if (rawTs === undefined) {
                throw new FlumeError(
                  'FTS_ERR_ESCAPE_TIMESTAMP',
                  `Expected timestamp in the Flume event headers, but it was null (pattern "${this.pattern}"; add a timestamp interceptor or set useLocalTimeStamp)`,
                );
              }
              ts = Number(rawTs);
              if (!/^\d+$/.test(rawTs.trim())) throw new FlumeError('FTS_ERR_ESCAPE_TIMESTAMP', `timestamp header "${rawTs}" is not a number (pattern "${this.pattern}")`);
            }
            if (this.opts.round) ts = roundDown(ts, this.opts.round, this.opts.timeZone);
            fields = timeFields(ts, this.opts.timeZone);
          }
          s += p.letter === 't' ? rawTs! : formatLetter(p.letter, fields!, ts);
          break;
        }
      }
    }
    return s;
  }
}

const UNIT_MS: Record<string, number> = {
  s: 1000,
  S: 1000,
  c: 1000,
  t: 1,
  M: 60_000,
  H: 3_600_000,
  k: 3_600_000,
  I: 3_600_000,
  l: 3_600_000,
  p: 3_600_000,
};

function hostValue(name: string): string {
  const n = name.toLowerCase();
  if (n === 'localhost') return os.hostname();
  if (n === 'fqdn') return os.hostname();
  if (n === 'ip') {
    for (const list of Object.values(os.networkInterfaces())) {
      for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
    }
    return '127.0.0.1';
  }
  throw new FlumeError('FTS_ERR_ESCAPE_HOST', `unknown escape %[${name}] (localhost, IP or FQDN)`);
}

interface TimeFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
  dayOfYear: number;
  offsetMinutes: number;
}

const dtfCache = new Map<string, Intl.DateTimeFormat>();
function timeFields(ms: number, timeZone?: string): TimeFields {
  if (!timeZone) {
    const d = new Date(ms);
    const start = new Date(d.getFullYear(), 0, 1);
    return {
      year: d.getFullYear(),
      month: d.getMonth() + 1,
      day: d.getDate(),
      hour: d.getHours(),
      minute: d.getMinutes(),
      second: d.getSeconds(),
      weekday: d.getDay(),
      dayOfYear: Math.floor((d.getTime() - start.getTime()) / 86400000) + 1,
      offsetMinutes: -d.getTimezoneOffset(),
    };
  }
  let dtf = dtfCache.get(timeZone);
  if (!dtf) {
    dtf = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    dtfCache.set(timeZone, dtf);
  }
  const get: Record<string, number> = {};
  for (const p of dtf.formatToParts(new Date(ms))) if (p.type !== 'literal') get[p.type] = Number(p.value);
  const asUtc = Date.UTC(get.year!, get.month! - 1, get.day!, get.hour!, get.minute!, get.second!);
  const offsetMinutes = Math.round((asUtc - (ms - (ms % 1000))) / 60000);
  const local = new Date(asUtc);
  return {
    year: get.year!,
    month: get.month!,
    day: get.day!,
    hour: get.hour!,
    minute: get.minute!,
    second: get.second!,
    weekday: local.getUTCDay(),
    dayOfYear: Math.floor((asUtc - Date.UTC(get.year!, 0, 1)) / 86400000) + 1,
    offsetMinutes,
  };
}

function roundDown(ms: number, r: NonNullable<EscapeOptions['round']>, timeZone?: string): number {
  const f = timeFields(ms, timeZone);
  const secondsIntoHour = f.minute * 60 + f.second;
  let drop: number; // seconds to subtract, beyond the milliseconds
  if (r.unit === 'second') drop = f.second % r.value;
  else if (r.unit === 'minute') drop = (f.minute % r.value) * 60 + f.second;
  else drop = (f.hour % r.value) * 3600 + secondsIntoHour;
  return ms - (ms % 1000) - drop * 1000;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const p2 = (n: number): string => String(n).padStart(2, '0');

function formatLetter(letter: string, f: TimeFields, ts: number): string {
  switch (letter) {
    case 's':
      return String(Math.floor(ts / 1000));
    case 'a':
      return DAYS[f.weekday]!.slice(0, 3);
    case 'A':
      return DAYS[f.weekday]!;
    case 'b':
      return MONTHS[f.month - 1]!.slice(0, 3);
    case 'B':
      return MONTHS[f.month - 1]!;
    case 'c':
      return `${DAYS[f.weekday]!.slice(0, 3)} ${MONTHS[f.month - 1]!.slice(0, 3)} ${f.day} ${p2(f.hour)}:${p2(f.minute)}:${p2(f.second)} ${f.year}`;
    case 'd':
      return p2(f.day);
    case 'e':
      return String(f.day);
    case 'D':
      return `${p2(f.month)}/${p2(f.day)}/${p2(f.year % 100)}`;
    case 'H':
      return p2(f.hour);
    case 'I':
      return p2(((f.hour + 11) % 12) + 1);
    case 'j':
      return String(f.dayOfYear).padStart(3, '0');
    case 'k':
      return String(f.hour);
    case 'l':
      return String(((f.hour + 11) % 12) + 1);
    case 'm':
      return p2(f.month);
    case 'n':
      return String(f.month);
    case 'M':
      return p2(f.minute);
    case 'p':
      return f.hour < 12 ? 'AM' : 'PM';
    case 'S':
      return p2(f.second);
    case 'y':
      return p2(f.year % 100);
    case 'Y':
      return String(f.year);
    case 'z': {
      const o = f.offsetMinutes;
      const a = Math.abs(o);
      return `${o < 0 ? '-' : '+'}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
    }
    case '%':
      return '%';
    default:
      return '';
  }
}
