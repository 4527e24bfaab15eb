/**
 * Syslog message parsing shared by syslogtcp, syslogudp and multiport_syslogtcp, and
 * the framing of a TCP stream into messages (newline or RFC 6587 octet counting).
 *
 * Written by hand rather than with a regular expression: the parser runs once per
 * message on the hot path, works on the received bytes without decoding them, reuses
 * the strings of repeated values (host, timestamp) and makes no closures. The rules
 * are those of Flume's SyslogUtils (syslogtcp, syslogudp) and SyslogParser
 * (multiport_syslogtcp), which differ in headers and strictness; see README "Syslog".
 */
import { SlicedEvent, type FlumeEvent } from '../../plugin-api/index.js';

export const STATUS_HEADER = 'flume.syslog.status';
export const INVALID = 'Invalid';
export const INCOMPLETE = 'Incomplete';

/** Which fields `keepFields` puts back in front of the body. */
export interface KeepFields {
  all: boolean;
  priority: boolean;
  version: boolean;
  timestamp: boolean;
  hostname: boolean;
}

/** Flume's reading of keepFields: none/false, all/true, or any of "priority version timestamp hostname". */
export function parseKeepFields(raw: string): KeepFields {
  const v = raw.trim().toLowerCase();
  const none = { all: false, priority: false, version: false, timestamp: false, hostname: false };
  if (v === 'false' || v === 'none') return none;
  if (v === 'true' || v === 'all') return { ...none, all: true };
  // Flume looks each field name up as a substring of the value.
  return { all: false, priority: v.includes('priority'), version: v.includes('version'), timestamp: v.includes('timestamp'), hostname: v.includes('hostname') };
}

const LT = 0x3c;
const GT = 0x3e;
const SP = 0x20;
const NL = 0x0a;
const DASH = 0x2d;

const SPACE = Buffer.from(' ');

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
/** Java's \s: space, \t, \n, \v, \f, \r. */
const isSpace = (b: number): boolean => b === SP || (b >= 0x09 && b <= 0x0d);
/** Java's \w (ASCII): letters, digits, underscore. */
const isWord = (b: number): boolean => (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || isDigit(b) || b === 0x5f;
const isHostChar = (b: number): boolean => isWord(b) || b === 0x2e || b === 0x40 || b === DASH;

/** "0".."1023", made once: Facility and Severity values. */
const NUMBERS: string[] = Array.from({ length: 1024 }, (_, i) => String(i));
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * The event of one syslogtcp/syslogudp message: a slice of the read, with the parsed
 * values kept as fields and the headers object made only when something reads it
 * (a text sink never does), so a message costs one small object.
 */
export class SyslogEvent extends SlicedEvent {
  private own: Record<string, string> | undefined = undefined;

  constructor(
    src: Buffer,
    from: number,
    to: number,
    private readonly facility: string,
    private readonly severity: string,
    private readonly priority: string | undefined,
    private readonly version: string | undefined,
    private readonly timestamp: string | undefined,
    private readonly host: string | undefined,
    private readonly status: string | undefined,
    /** Per-connection headers as [name, value, name, value, ...]. */
    private readonly extra: readonly string[] | undefined,
  ) {
    super(src, from, to);
  }

  override get headers(): Record<string, string> {
    if (this.own) return this.own;
    const h: Record<string, string> = { Facility: this.facility, Severity: this.severity };
    if (this.priority !== undefined) h.priority = this.priority;
    if (this.version !== undefined) h.version = this.version;
    if (this.timestamp !== undefined) h.timestamp = this.timestamp;
    if (this.host !== undefined) h.host = this.host;
    if (this.status !== undefined) h[STATUS_HEADER] = this.status;
    const x = this.extra;
    if (x) for (let i = 0; i + 1 < x.length; i += 2) h[x[i]!] = x[i + 1]!;
    return (this.own = h);
  }

  override set headers(h: Record<string, string>) {
    this.own = h;
  }

  override copyTo(target: Buffer, at: number): SlicedEvent {
    const e = super.copyTo(target, at);
    e.headers = this.headers;
    return e;
  }
}

function digits(buf: Buffer, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 10 + (buf[at + i]! - 0x30);
  return v;
}

/** Whether bytes [s, e) of buf equal `a` (a JS loop: short ranges compare faster than through Buffer.compare). */
function sameBytes(a: Buffer, buf: Buffer, s: number, e: number): boolean {
  if (a.length !== e - s) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[s + i]) return false;
  return true;
}

function allDigits(buf: Buffer, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (!isDigit(buf[at + i]!)) return false;
  return true;
}

/** The month (0-11) of a three-letter English name, matched as Java's MMM parsing does (any case), or -1. */
function month(buf: Buffer, at: number): number {
  const s = String.fromCharCode(buf[at]! | 0x20, buf[at + 1]! | 0x20, buf[at + 2]! | 0x20);
  return MONTHS.indexOf(s);
}

/** The RFC 3164 year guess of Flume: this year, moved back a year if over a month ahead, forward if over 11 months behind. */
function withYear(utc: boolean, mon: number, day: number, h: number, mi: number, s: number, now: number): number {
  const year = new Date(now).getUTCFullYear();
  const make = (y: number, m: number): number => (utc ? Date.UTC(y, m, day, h, mi, s) : new Date(y, m, day, h, mi, s).getTime());
  const t = make(year, mon);
  if (t > now && make(year, mon - 1) > now) return make(year - 1, mon);
  if (t < now && make(year, mon + 11) < now) return make(year + 1, mon);
  return t;
}

/** Where the fields of one message are: offsets into its buffer, -1 when absent. */
interface Fields {
  pri: number;
  priStart: number;
  priEnd: number;
  version: number; // offset of the version digit
  tsStart: number;
  tsEnd: number;
  hostStart: number;
  hostEnd: number;
  bodyStart: number;
}

/** Options both flavours share. */
export interface ParserOptions {
  keep: KeepFields;
  /** The clock, for RFC 3164 years and multiport's "-" timestamps. */
  now?: () => number;
}

/**
 * Flume's SyslogUtils rules (syslogtcp, syslogudp). A message must start with `<`,
 * 1-3 digits and `>`, else it is Invalid (Facility and Severity 0, the raw message as
 * body). Then RFC 5424 (`[version ]timestamp|- host|- rest`) and RFC 3164
 * (`Mmm dd hh:mm:ss host rest`) are tried; a match gives the timestamp (epoch ms),
 * host, priority and version headers and the rest as body. A message that matches
 * neither keeps Facility and Severity and its raw bytes as body.
 */
export class SyslogParser {
  private readonly keep: KeepFields;
  private readonly now: () => number;
  private readonly f: Fields = { pri: 0, priStart: 0, priEnd: 0, version: -1, tsStart: -1, tsEnd: -1, hostStart: -1, hostEnd: -1, bodyStart: -1 };
  // One-entry caches: a stream repeats its host and, within a second, its timestamp.
  private lastHost = Buffer.alloc(0);
  private lastHostString = '';
  private lastTs = Buffer.alloc(0);
  private lastTsValue = '';
  private lastTsNow = 0;

  constructor(o: ParserOptions) {
    this.keep = o.keep;
    this.now = o.now ?? Date.now;
  }

  /** Whether the last message parsed was Invalid. */
  invalid = false;

  /**
   * The event of message bytes [start, end) of `buf`; `incomplete` when eventSize cut
   * it; `extra` are headers to add, as [name, value, ...].
   */
  parse(buf: Buffer, start: number, end: number, incomplete: boolean, extra?: readonly string[]): FlumeEvent {
    const f = this.f;
    if (!this.priority(buf, start, end)) {
      this.invalid = true;
      return new SyslogEvent(buf, start, end, '0', '0', undefined, undefined, undefined, undefined, INVALID, extra);
    }
    this.invalid = false;
    const facility = NUMBERS[f.pri >> 3]!;
    const severity = NUMBERS[f.pri & 7]!;
    const status = incomplete ? INCOMPLETE : undefined;
    const matched = this.rfc5424(buf, f.priEnd, end) || this.rfc3164(buf, f.priEnd, end);
    if (!matched) return new SyslogEvent(buf, start, end, facility, severity, undefined, undefined, undefined, undefined, status, extra);
    const priority = f.priEnd - 1 - f.priStart === NUMBERS[f.pri]!.length ? NUMBERS[f.pri]! : buf.toString('latin1', f.priStart, f.priEnd - 1);
    const version = f.version >= 0 ? NUMBERS[buf[f.version]! - 0x30]! : undefined;
    const ts = this.timestamp(buf, matched === 3164);
    const host = f.hostStart >= 0 ? this.host(buf) : undefined;
    const keep = this.keep;
    if (keep.all || f.bodyStart >= end) return new SyslogEvent(buf, start, end, facility, severity, priority, version, ts, host, status, extra);
    if (keep.priority || keep.version || keep.timestamp || keep.hostname) {
      const body = this.keptBody(buf, end);
      return new SyslogEvent(body, 0, body.length, facility, severity, priority, version, ts, host, status, extra);
    }
    return new SyslogEvent(buf, f.bodyStart, end, facility, severity, priority, version, ts, host, status, extra);
  }

  /** `<` 1-3 digits `>`; sets pri, priStart, priEnd (after `>`). */
  private priority(buf: Buffer, start: number, end: number): boolean {
    if (start >= end || buf[start] !== LT) return false;
    let p = start + 1;
    let v = 0;
    while (p < end && isDigit(buf[p]!)) {
      v = v * 10 + buf[p]! - 0x30;
      if (++p - start > 4) return false;
    }
    if (p === start + 1 || p >= end || buf[p] !== GT) return false;
    const f = this.f;
    f.pri = v;
    f.priStart = start + 1;
    f.priEnd = p + 1;
    return true;
  }

  /** `[d][ ](timestamp|-) (host|-) body`: 5424, or 0. */
  private rfc5424(buf: Buffer, from: number, end: number): 5424 | 0 {
    const f = this.f;
    // The optional version digit and space: with the digit first, then without (as the regex backtracks).
    for (let attempt = isDigit(buf[from] ?? 0) ? 0 : 1; attempt < 2; attempt++) {
      const withVersion = attempt === 0;
      let p = from;
      f.version = -1;
      if (withVersion) f.version = p++;
      if (p < end && isSpace(buf[p]!)) p++;
      f.tsStart = p;
      if (buf[p] === DASH) {
        f.tsStart = f.tsEnd = -1;
        p++;
      } else {
        p = this.isoStamp(buf, p, end);
        if (p < 0) continue;
        f.tsEnd = p;
      }
      if (p >= end || !isSpace(buf[p]!)) continue;
      p++;
      f.hostStart = f.hostEnd = -1;
      if (p < end && isWord(buf[p]!)) {
        f.hostStart = p;
        while (p < end && isHostChar(buf[p]!)) p++;
        f.hostEnd = p;
      } else if (buf[p] === DASH) {
        p++;
      } else continue;
      if (p >= end || !isSpace(buf[p]!)) continue;
      f.bodyStart = p + 1;
      return 5424;
    }
    return 0;
  }

  /** yyyy-MM-ddTHH:mm:ss[.1-6 digits][Z|±hh:mm] at p: its end, or -1. */
  private isoStamp(buf: Buffer, p: number, end: number): number {
    if (p + 19 > end) return -1;
    if (!allDigits(buf, p, 4) || buf[p + 4] !== DASH || !allDigits(buf, p + 5, 2) || buf[p + 7] !== DASH || !allDigits(buf, p + 8, 2) || buf[p + 10] !== 0x54) return -1;
    if (!allDigits(buf, p + 11, 2) || buf[p + 13] !== 0x3a || !allDigits(buf, p + 14, 2) || buf[p + 16] !== 0x3a || !allDigits(buf, p + 17, 2)) return -1;
    p += 19;
    if (buf[p] === 0x2e && p + 1 < end && isDigit(buf[p + 1]!)) {
      let q = p + 1;
      while (q < end && isDigit(buf[q]!) && q - p <= 6) q++;
      p = q;
    }
    if (buf[p] === 0x5a) p++;
    else if ((buf[p] === 0x2b || buf[p] === DASH) && p + 6 <= end && allDigits(buf, p + 1, 2) && buf[p + 3] === 0x3a && allDigits(buf, p + 4, 2)) p += 6;
    return p;
  }

  /** `[d][ ]Mmm dd hh:mm:ss host body`: 3164, or 0. */
  private rfc3164(buf: Buffer, from: number, end: number): 3164 | 0 {
    const f = this.f;
    for (let attempt = isDigit(buf[from] ?? 0) ? 0 : 1; attempt < 2; attempt++) {
      const withVersion = attempt === 0;
      let p = from;
      f.version = -1;
      if (withVersion) f.version = p++;
      if (p < end && isSpace(buf[p]!)) p++;
      f.tsStart = p;
      const b0 = buf[p] ?? 0;
      const b1 = buf[p + 1] ?? 0;
      const b2 = buf[p + 2] ?? 0;
      if (!(b0 >= 0x41 && b0 <= 0x5a) || !(b1 >= 0x61 && b1 <= 0x7a) || !(b2 >= 0x61 && b2 <= 0x7a)) continue;
      p += 3;
      if (p < end && isSpace(buf[p]!)) p++;
      else continue;
      if (p < end && isSpace(buf[p]!)) p++;
      const d = p;
      while (p < end && isDigit(buf[p]!) && p - d < 2) p++;
      if (p === d || p + 9 > end || !isSpace(buf[p]!)) continue;
      p++;
      if (!allDigits(buf, p, 2) || buf[p + 2] !== 0x3a || !allDigits(buf, p + 3, 2) || buf[p + 5] !== 0x3a || !allDigits(buf, p + 6, 2)) continue;
      p += 8;
      f.tsEnd = p;
      if (p >= end || !isSpace(buf[p]!)) continue;
      p++;
      if (p >= end || !isWord(buf[p]!)) continue;
      f.hostStart = p;
      while (p < end && isHostChar(buf[p]!)) p++;
      f.hostEnd = p;
      if (p >= end || !isSpace(buf[p]!)) continue;
      f.bodyStart = p + 1;
      return 3164;
    }
    return 0;
  }

  private host(buf: Buffer): string {
    const f = this.f;
    const len = f.hostEnd - f.hostStart;
    if (!sameBytes(this.lastHost, buf, f.hostStart, f.hostEnd)) {
      this.lastHost = Buffer.from(buf.subarray(f.hostStart, f.hostEnd));
      this.lastHostString = this.lastHost.toString('latin1', 0, len);
    }
    return this.lastHostString;
  }

  /** The timestamp header (epoch ms) of the matched stamp, cached for repeats within a second. */
  private timestamp(buf: Buffer, is3164: boolean): string | undefined {
    const f = this.f;
    if (f.tsStart < 0) return undefined;
    // An RFC 3164 value depends on the clock (the year guess): reused for a minute only.
    if (sameBytes(this.lastTs, buf, f.tsStart, f.tsEnd) && (!is3164 || this.now() - this.lastTsNow < 60_000)) return this.lastTsValue;
    const now = this.now();
    const ms = is3164 ? this.time3164(buf, f.tsStart, f.tsEnd, now, false) : time5424(buf, f.tsStart, f.tsEnd);
    if (ms === undefined || Number.isNaN(ms)) return undefined;
    this.lastTs = Buffer.from(buf.subarray(f.tsStart, f.tsEnd));
    this.lastTsValue = String(ms);
    this.lastTsNow = now;
    return this.lastTsValue;
  }

  /** `Mmm d hh:mm:ss` (one or two spaces before the day) in local time (or UTC), with Flume's year guess. */
  time3164(buf: Buffer, s: number, e: number, now: number, utc: boolean): number | undefined {
    const mon = month(buf, s);
    if (mon < 0) return undefined;
    let p = s + 3;
    while (p < e && isSpace(buf[p]!)) p++;
    const d = p;
    while (p < e && isDigit(buf[p]!)) p++;
    const day = digits(buf, d, p - d);
    p++;
    return withYear(utc, mon, day, digits(buf, p, 2), digits(buf, p + 3, 2), digits(buf, p + 6, 2), now);
  }

  /** The body with the kept fields in front, as Flume writes them: `<pri>version timestamp hostname body`. */
  private keptBody(buf: Buffer, end: number): Buffer {
    const f = this.f;
    const k = this.keep;
    let head = '';
    if (k.priority) head += '<' + buf.toString('latin1', f.priStart, f.priEnd - 1) + '>';
    if (k.version && f.version >= 0) head += String.fromCharCode(buf[f.version]!) + ' ';
    if (k.timestamp) head += (f.tsStart >= 0 ? buf.toString('latin1', f.tsStart, f.tsEnd) : '-') + ' ';
    if (k.hostname) head += (f.hostStart >= 0 ? buf.toString('latin1', f.hostStart, f.hostEnd) : '-') + ' ';
    const h = Buffer.from(head, 'latin1');
    return Buffer.concat([h, buf.subarray(f.bodyStart, end)], h.length + end - f.bodyStart);
  }
}

/**
 * An RFC 5424 timestamp as epoch ms: the zone offset honoured (none: local time), the
 * fraction read as a fraction of a second, kept to milliseconds.
 */
export function time5424(buf: Buffer, s: number, e: number): number | undefined {
  const y = digits(buf, s, 4);
  const mo = digits(buf, s + 5, 2) - 1;
  const d = digits(buf, s + 8, 2);
  const h = digits(buf, s + 11, 2);
  const mi = digits(buf, s + 14, 2);
  const se = digits(buf, s + 17, 2);
  let p = s + 19;
  let ms = 0;
  if (p < e && buf[p] === 0x2e) {
    const q = ++p;
    while (p < e && isDigit(buf[p]!)) p++;
    const n = p - q;
    if (n === 0) return undefined;
    ms = n >= 3 ? digits(buf, q, 3) : digits(buf, q, n) * (n === 1 ? 100 : 10);
  }
  if (p >= e) return new Date(y, mo, d, h, mi, se, ms).getTime();
  if (buf[p] === 0x5a) return Date.UTC(y, mo, d, h, mi, se, ms);
  if ((buf[p] === 0x2b || buf[p] === DASH) && p + 6 <= e) {
    const off = (digits(buf, p + 1, 2) * 60 + digits(buf, p + 4, 2)) * 60_000;
    return Date.UTC(y, mo, d, h, mi, se, ms) - (buf[p] === 0x2b ? off : -off);
  }
  return undefined;
}

/**
 * Flume's multiport_syslogtcp rules (its SyslogParser): `<pri>` with `>` within the
 * first 6 characters, an optional `1 ` version, a timestamp (`-` is now; a capital
 * first letter is an RFC 3164 stamp read as UTC; else RFC 5424 up to the next space),
 * the host up to the next space, then the body. Anything else is Invalid: the whole
 * line is the body and only the status header is set. Headers are `Priority`,
 * `Facility`, `Severity`, `Version`, `timestamp` (always) and `host`.
 */
export class MultiportParser {
  private readonly keep: KeepFields;
  private readonly now: () => number;
  private readonly helper: SyslogParser;

  /** `decode` turns header bytes into text in the port's charset. */
  constructor(
    o: ParserOptions,
    private readonly decode: (buf: Buffer, start: number, end: number) => string,
  ) {
    this.keep = o.keep;
    this.now = o.now ?? Date.now;
    this.helper = new SyslogParser(o);
  }

  /** Whether the last message parsed was Invalid. */
  invalid = false;

  parse(buf: Buffer, start: number, end: number, incomplete: boolean, extra?: readonly string[]): FlumeEvent {
    let event = this.fields(buf, start, end);
    this.invalid = !event;
    if (!event) {
      event = new SlicedEvent(buf, start, end);
      event.headers = { [STATUS_HEADER]: INVALID };
    } else if (incomplete) event.headers[STATUS_HEADER] = INCOMPLETE;
    if (extra) for (let i = 0; i + 1 < extra.length; i += 2) event.headers[extra[i]!] = extra[i + 1]!;
    return event;
  }

  private fields(buf: Buffer, start: number, end: number): FlumeEvent | undefined {
    if (start >= end || buf[start] !== LT) return undefined;
    let gt = -1;
    for (let p = start + 1; p < end && p <= start + 6; p++) {
      if (buf[p] === GT) {
        gt = p;
        break;
      }
    }
    if (gt < 0 || gt === start + 1 || !allDigits(buf, start + 1, gt - start - 1)) return undefined;
    const pri = digits(buf, start + 1, gt - start - 1);
    if (pri >= 1024) return undefined;
    const priority = buf.toString('latin1', start + 1, gt);
    const headers: Record<string, string> = { Priority: priority, Facility: NUMBERS[pri >> 3]!, Severity: NUMBERS[pri & 7]! };
    let p = gt + 1;
    if (p >= end) return undefined;
    let version = -1;
    if (end > p + 2 && buf[p] === 0x31 && buf[p + 1] === SP) {
      version = p;
      headers.Version = '1';
      p += 2;
    }
    const tsStart = p;
    let tsEnd: number;
    let ts: number;
    const c = buf[p]!;
    if (c === DASH) {
      ts = this.now();
      if (end <= p + 2) return undefined;
      tsEnd = p + 1;
      p += 2;
    } else if (c >= 0x41 && c <= 0x5a) {
      if (end <= p + 15) return undefined;
      tsEnd = p + 15;
      ts = this.rfc3164Utc(buf, p) ?? 0;
      p += 16;
    } else {
      const sp = buf.indexOf(SP, p);
      if (sp < 0 || sp >= end) return undefined;
      tsEnd = sp;
      const v = this.rfc5424Strict(buf, p, sp);
      if (v === undefined) return undefined;
      ts = v;
      p = sp + 1;
    }
    headers.timestamp = String(ts);
    const sp = buf.indexOf(SP, p);
    if (sp < 0 || sp >= end) return undefined;
    headers.host = this.decode(buf, p, sp);
    const keep = this.keep;
    if (end <= sp + 1 || keep.all) return { headers, body: Buffer.from(buf.subarray(start, end)) };
    if (!(keep.priority || keep.version || keep.timestamp || keep.hostname)) {
      const e = new SlicedEvent(buf, sp + 1, end);
      e.headers = headers;
      return e;
    }
    // The kept fields are copied as received, so the body stays in the port's charset (as Flume encodes it).
    const parts: Buffer[] = [];
    if (keep.priority) parts.push(buf.subarray(start, gt + 1));
    if (keep.version && version >= 0) parts.push(buf.subarray(version, version + 2));
    if (keep.timestamp) parts.push(buf.subarray(tsStart, tsEnd), SPACE);
    if (keep.hostname) parts.push(buf.subarray(p, sp + 1));
    parts.push(buf.subarray(sp + 1, end));
    return { headers, body: Buffer.concat(parts) };
  }

  /** A 15-character RFC 3164 stamp read as UTC with the year guess; undefined when it does not parse (Flume then uses 0). */
  private rfc3164Utc(buf: Buffer, p: number): number | undefined {
    const ok =
      month(buf, p) >= 0 &&
      isSpace(buf[p + 3]!) &&
      (isDigit(buf[p + 4]!) || isSpace(buf[p + 4]!)) &&
      isDigit(buf[p + 5]!) &&
      isSpace(buf[p + 6]!) &&
      allDigits(buf, p + 7, 2) &&
      buf[p + 9] === 0x3a &&
      allDigits(buf, p + 10, 2) &&
      buf[p + 12] === 0x3a &&
      allDigits(buf, p + 13, 2);
    return ok ? this.helper.time3164(buf, p, p + 15, this.now(), true) : undefined;
  }

  /** SyslogParser's RFC 5424 reading: 19 characters in UTC, then an optional fraction and Z or ±hh:mm; nothing after the seconds is refused. */
  private rfc5424Strict(buf: Buffer, s: number, e: number): number | undefined {
    if (e - s <= 19) return undefined;
    if (!allDigits(buf, s, 4) || buf[s + 4] !== DASH || !allDigits(buf, s + 5, 2) || buf[s + 7] !== DASH || !allDigits(buf, s + 8, 2) || buf[s + 10] !== 0x54) return undefined;
    if (!allDigits(buf, s + 11, 2) || buf[s + 13] !== 0x3a || !allDigits(buf, s + 14, 2) || buf[s + 16] !== 0x3a || !allDigits(buf, s + 17, 2)) return undefined;
    let p = s + 19;
    let ms = 0;
    if (buf[p] === 0x2e) {
      const q = ++p;
      while (p < e && isDigit(buf[p]!)) p++;
      const n = p - q;
      if (n === 0 || p >= e) return undefined;
      ms = n >= 3 ? digits(buf, q, 3) : digits(buf, q, n) * (n === 1 ? 100 : 10);
    }
    const base = Date.UTC(digits(buf, s, 4), digits(buf, s + 5, 2) - 1, digits(buf, s + 8, 2), digits(buf, s + 11, 2), digits(buf, s + 14, 2), digits(buf, s + 17, 2), ms);
    if (Number.isNaN(base)) return undefined;
    const c = buf[p];
    if (c === 0x2b || c === DASH) {
      if (e - p < 6 || !allDigits(buf, p + 1, 2) || buf[p + 3] !== 0x3a || !allDigits(buf, p + 4, 2)) return undefined;
      const off = (digits(buf, p + 1, 2) * 60 + digits(buf, p + 4, 2)) * 60_000;
      return base - (c === 0x2b ? off : -off);
    }
    return base;
  }
}

/** What a framer hands its owner for each message: bytes [start, end) of buf. */
export interface MessageSink {
  message(buf: Buffer, start: number, end: number, incomplete: boolean): void;
}

/**
 * Cuts a TCP stream into syslog messages: each ends at `\n` (empty lines are
 * skipped) or, when it starts with a digit, is an RFC 6587 octet-counted frame
 * (`<length> <message>`). A message longer than `maxSize` bytes is cut there: the
 * first piece is marked incomplete, the rest is read as the messages that follow (as
 * Flume does). Complete messages are slices of the read they came in; only a message
 * split across reads is copied, and at most `maxSize` bytes are held per connection.
 */
export class SyslogFramer {
  /** The start of a message whose end has not arrived, at most maxSize (+ a frame header) bytes. */
  private pending: Buffer | undefined;
  /** Bytes left of the octet-counted frame being read (0: newline framing). */
  private frameLeft = 0;

  constructor(
    private readonly maxSize: number,
    private readonly octetCounting: boolean,
  ) {}

  /** Hands every message complete in `chunk` (with what was pending) to `sink`. */
  push(chunk: Buffer, sink: MessageSink): void {
    let from = 0;
    const pend = this.pending;
    if (pend) {
      this.pending = undefined;
      // The message begun in an earlier read is completed in a buffer of its own, so the
      // messages after it stay slices of this read (no copy of the whole read). A frame
      // header split across reads is rare: that read is joined whole.
      let need: number;
      if (this.frameLeft > 0) need = Math.min(this.frameLeft, this.maxSize) - pend.length;
      else if (this.octetCounting && pend[0]! >= 0x31 && pend[0]! <= 0x39) need = chunk.length;
      else {
        const nl = chunk.indexOf(NL);
        need = nl < 0 ? chunk.length : nl + 1;
      }
      need = Math.max(0, Math.min(need, chunk.length));
      const head = Buffer.concat([pend, chunk.subarray(0, need)]);
      const at = this.scan(head, 0, sink, false);
      if (at < head.length) {
        // Still unfinished (or more of a joined read left): keep its rest and go on from there.
        if (need === chunk.length) {
          this.pending = Buffer.from(head.subarray(at));
          return;
        }
        this.pending = Buffer.from(head.subarray(at));
        return this.push(chunk.subarray(need), sink);
      }
      from = need;
    }
    const at = this.scan(chunk, from, sink, false);
    // Copied: a partial message must not keep its whole read alive.
    if (at < chunk.length) this.pending = Buffer.from(chunk.subarray(at));
  }

  /** Every message of one self-contained buffer (a datagram), the unterminated last one included. */
  whole(data: Buffer, sink: MessageSink): void {
    this.scan(data, 0, sink, true);
  }

  /** At the end of the stream: the unterminated rest is a message too. */
  end(sink: MessageSink): void {
    const data = this.pending;
    this.pending = undefined;
    if (data) this.scan(data, 0, sink, true);
  }

  /** Bytes held for an unfinished message. */
  get pendingBytes(): number {
    return this.pending?.length ?? 0;
  }

  private scan(data: Buffer, from: number, sink: MessageSink, eof: boolean): number {
    const max = this.maxSize;
    let p = from;
    const n = data.length;
    while (p < n) {
      if (this.frameLeft > 0) {
        const take = Math.min(this.frameLeft, max);
        if (n - p < take) {
          if (!eof) return p;
          sink.message(data, p, n, false);
          this.frameLeft = 0;
          return n;
        }
        this.frameLeft -= take;
        const cut = take === max && this.frameLeft > 0;
        // A frame's own trailing newline (rsyslog's templates end with one) is framing, not message.
        const e = !cut && take > 0 && data[p + take - 1] === NL ? p + take - 1 : p + take;
        sink.message(data, p, e, cut);
        p += take;
        continue;
      }
      const b = data[p]!;
      if (b === NL) {
        p++;
        continue;
      }
      if (this.octetCounting && b >= 0x31 && b <= 0x39) {
        // RFC 6587: MSG-LEN SP SYSLOG-MSG. Up to 10 digits; anything else is a plain line.
        let q = p;
        let len = 0;
        while (q < n && q - p < 10 && isDigit(data[q]!)) len = len * 10 + data[q++]! - 0x30;
        if (q === n && !eof && q - p < 10) return p;
        if (q < n && data[q] === SP) {
          this.frameLeft = len;
          p = q + 1;
          continue;
        }
      }
      const nl = data.indexOf(NL, p);
      const lineEnd = nl < 0 ? n : nl;
      if (lineEnd - p > max) {
        sink.message(data, p, p + max, true);
        p += max;
        continue;
      }
      if (nl < 0) {
        if (!eof) return p;
        sink.message(data, p, n, false);
        return n;
      }
      sink.message(data, p, nl, false);
      p = nl + 1;
    }
    return p;
  }
}
