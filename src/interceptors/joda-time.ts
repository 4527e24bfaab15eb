/**
 * A parser for the Joda-Time patterns Flume's RegexExtractorInterceptorMillisSerializer
 * takes (DateTimeFormat.forPattern), turning text into epoch milliseconds in the
 * local time zone (the TZ environment variable, as the JVM's default zone).
 *
 * Supported letters: y (yyyy: up to 9 digits, or exactly as many as written when
 * another number follows directly; yy: two digits, pivoting into the 80 years before
 * and 19 after the current year), M (1-2 digits; MMM short and MMMM full English month
 * names), d, H (0-23), k (1-24), h (1-12), K (0-11), a (AM/PM), m, s (1-2 digits each,
 * or as written before another number), S (fraction of a second, up to 9 digits), Z
 * and ZZ (offset: Z, +0800, -08:00), quoted text ('T', '' for a quote) and any other
 * non-letter character as literal text (matched ignoring case, as Joda does).
 * Not supported (a config error naming the pattern): era, century, week-based
 * fields, day of week and day of year, zone names (z, ZZZ). The whole value must be
 * consumed. Unlike Joda, a local time inside a daylight-saving gap is moved forward
 * instead of being refused.
 */

type Field = 'year' | 'year2' | 'month' | 'monthText' | 'day' | 'hour' | 'clockhour' | 'hour12' | 'hour11' | 'ampm' | 'minute' | 'second' | 'fraction' | 'offset';

type Token = { literal: string } | { field: Field; min: number; max: number };

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

const NUMERIC = new Set('yMdHkhKmsS');

/** Compiles a Joda pattern; throws an Error naming what is not supported. */
export function compileJodaPattern(pattern: string): (text: string) => number {
  const tokens = tokenize(pattern);
  return (text) => parse(tokens, text);
}

function tokenize(pattern: string): Token[] {
  const raw: Array<{ letter: string; count: number } | { literal: string }> = [];
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i]!;
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        raw.push({ literal: "'" });
        i += 2;
        continue;
      }
      let lit = '';
      let j = i + 1;
      for (; j < pattern.length; j++) {
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            lit += "'";
            j++;
          } else break;
        } else lit += pattern[j];
      }
      if (j >= pattern.length) throw new Error(`unterminated quote in "${pattern}"`);
      raw.push({ literal: lit });
      i = j + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      raw.push({ letter: c, count: j - i });
      i = j;
    } else {
      raw.push({ literal: c });
      i++;
    }
  }
  if (raw.length === 0) throw new Error('the pattern is empty');
  const tokens: Token[] = [];
  for (let k = 0; k < raw.length; k++) {
    const t = raw[k]!;
    if ('literal' in t) {
      const prev = tokens[tokens.length - 1];
      if (prev && 'literal' in prev) prev.literal += t.literal;
      else tokens.push({ literal: t.literal });
      continue;
    }
    const next = raw[k + 1];
    const nextNumeric = next !== undefined && 'letter' in next && NUMERIC.has(next.letter) && !(next.letter === 'M' && next.count >= 3);
    const n = t.count;
    const two = nextNumeric ? n : 2;
    switch (t.letter) {
      case 'y':
        tokens.push(n === 2 ? { field: 'year2', min: 2, max: 2 } : { field: 'year', min: 1, max: nextNumeric ? n : 9 });
        break;
      case 'M':
        tokens.push(n >= 3 ? { field: 'monthText', min: 0, max: 0 } : { field: 'month', min: 1, max: two });
        break;
      case 'd':
        tokens.push({ field: 'day', min: 1, max: two });
        break;
      case 'H':
        tokens.push({ field: 'hour', min: 1, max: two });
        break;
      case 'k':
        tokens.push({ field: 'clockhour', min: 1, max: two });
        break;
      case 'h':
        tokens.push({ field: 'hour12', min: 1, max: two });
        break;
      case 'K':
        tokens.push({ field: 'hour11', min: 1, max: two });
        break;
      case 'm':
        tokens.push({ field: 'minute', min: 1, max: two });
        break;
      case 's':
        tokens.push({ field: 'second', min: 1, max: two });
        break;
      case 'S':
        tokens.push({ field: 'fraction', min: 1, max: nextNumeric ? n : 9 });
        break;
      case 'a':
        tokens.push({ field: 'ampm', min: 0, max: 0 });
        break;
      case 'Z':
        if (n > 2) throw new Error(`time zone ids (${'Z'.repeat(n)}) are not supported in "${pattern}"`);
        tokens.push({ field: 'offset', min: 0, max: 0 });
        break;
      default:
        throw new Error(`pattern letter "${t.letter}" is not supported in "${pattern}" (supported: y M d H k h K m s S a Z and quoted text)`);
    }
  }
  return tokens;
}

function parse(tokens: Token[], text: string): number {
  let pos = 0;
  let year = 1970;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let millis = 0;
  let pm: boolean | undefined;
  let hour12: number | undefined;
  let offsetMin: number | undefined;
  const bad = (why: string): Error => new Error(`invalid format: "${text}" ${why} at position ${pos}`);
  const digits = (min: number, max: number): string => {
    let j = pos;
    while (j < text.length && j - pos < max && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
    if (j - pos < min) throw bad('expects a number');
    const s = text.slice(pos, j);
    pos = j;
    return s;
  };
  const range = (v: number, lo: number, hi: number, what: string): number => {
    if (v < lo || v > hi) throw new Error(`invalid format: "${text}": ${what} ${v} must be in [${lo},${hi}]`);
    return v;
  };
  for (const t of tokens) {
    if ('literal' in t) {
      if (text.slice(pos, pos + t.literal.length).toLowerCase() !== t.literal.toLowerCase()) throw bad(`does not have "${t.literal}"`);
      pos += t.literal.length;
      continue;
    }
    switch (t.field) {
      case 'year':
        year = Number(digits(t.min, t.max));
        break;
      case 'year2': {
        const yy = Number(digits(2, 2));
        const low = new Date().getFullYear() - 80;
        year = low + ((((yy - low) % 100) + 100) % 100);
        break;
      }
      case 'month':
        month = range(Number(digits(t.min, t.max)), 1, 12, 'month');
        break;
      case 'monthText': {
        const rest = text.slice(pos).toLowerCase();
        let hit = -1;
        let len = 0;
        for (let m = 0; m < 12; m++) {
          for (const name of [MONTHS[m]!, MONTHS[m]!.slice(0, 3)]) {
            if (rest.startsWith(name) && name.length > len) {
              hit = m;
              len = name.length;
            }
          }
        }
        if (hit < 0) throw bad('expects a month name');
        month = hit + 1;
        pos += len;
        break;
      }
      case 'day':
        day = range(Number(digits(t.min, t.max)), 1, 31, 'day of month');
        break;
      case 'hour':
        hour = range(Number(digits(t.min, t.max)), 0, 23, 'hour of day');
        break;
      case 'clockhour':
        hour = range(Number(digits(t.min, t.max)), 1, 24, 'clock hour of day') % 24;
        break;
      case 'hour12':
        hour12 = range(Number(digits(t.min, t.max)), 1, 12, 'clock hour of half day') % 12;
        break;
      case 'hour11':
        hour12 = range(Number(digits(t.min, t.max)), 0, 11, 'hour of half day');
        break;
      case 'ampm': {
        const s = text.slice(pos, pos + 2).toLowerCase();
        if (s !== 'am' && s !== 'pm') throw bad('expects AM or PM');
        pm = s === 'pm';
        pos += 2;
        break;
      }
      case 'minute':
        minute = range(Number(digits(t.min, t.max)), 0, 59, 'minute of hour');
        break;
      case 'second':
        second = range(Number(digits(t.min, t.max)), 0, 59, 'second of minute');
        break;
      case 'fraction': {
        const f = digits(t.min, t.max);
        millis = Math.floor(Number(`0.${f}`) * 1000 + 1e-9);
        break;
      }
      case 'offset': {
        if (text[pos] === 'Z' || text[pos] === 'z') {
          offsetMin = 0;
          pos++;
          break;
        }
        const m = /^([+-])(\d{2}):?(\d{2})/.exec(text.slice(pos));
        if (!m) throw bad('expects an offset like +0800 or -08:00');
        offsetMin = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
        pos += m[0].length;
        break;
      }
    }
  }
  if (pos !== text.length) throw bad('is malformed');
  if (hour12 !== undefined) hour = hour12 + (pm ? 12 : 0);
  else if (pm !== undefined && hour < 12 && pm) hour += 12;
  const d = new Date(0);
  if (offsetMin === undefined) {
    d.setFullYear(year, month - 1, day);
    d.setHours(hour, minute, second, millis);
    if (d.getDate() !== day) throw new Error(`invalid format: "${text}": day ${day} does not exist in month ${month}`);
    return d.getTime();
  }
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, millis);
  if (d.getUTCDate() !== day) throw new Error(`invalid format: "${text}": day ${day} does not exist in month ${month}`);
  return d.getTime() - offsetMin * 60000;
}
