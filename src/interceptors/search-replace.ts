import { ErrorCodes, defineInterceptor, opt, type FlumeEvent, type OptionProblem, type OptionSpec } from '../plugin-api/index.js';
import { compileJavaRegex, groupsOf, regexOpt } from './java-regex.js';

/** Java charset names the body may be decoded with, and Node's encoding for each. */
const CHARSETS: Record<string, BufferEncoding> = {
  'utf-8': 'utf8',
  utf8: 'utf8',
  'iso-8859-1': 'latin1',
  iso8859_1: 'latin1',
  iso_8859_1: 'latin1',
  latin1: 'latin1',
  'us-ascii': 'ascii',
  ascii: 'ascii',
  'utf-16le': 'utf16le',
  utf_16le: 'utf16le',
};

const charset: OptionSpec<string> = {
  ...opt.string('UTF-8', 'Charset of the body: UTF-8, ISO-8859-1, US-ASCII or UTF-16LE.'),
  parse(raw) {
    if (CHARSETS[raw.toLowerCase()] === undefined) throw new Error('one of UTF-8, ISO-8859-1, US-ASCII, UTF-16LE');
    return raw;
  },
};

export const options = {
  searchPattern: regexOpt.requiredRegex('Java regex searched for in the body.'),
  replaceString: opt.string('', 'Replacement, in Java syntax: $1 or ${name} insert a group, \\$ and \\\\ are literal.'),
  charset,
};

/** One piece of a compiled Java replacement: literal text, or a group by number or name. */
type Part = string | { group: number | string };

/**
 * Compiles a replacement string as java.util.regex.Matcher.appendReplacement reads
 * it: `\x` is x, `$n` is group n (more digits are taken while such a group exists),
 * `${name}` a named group. What Java rejects at run time is rejected here, at start.
 */
export function compileReplacement(repl: string, groups: { count: number; names: readonly string[] }): Part[] {
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i]!;
    if (c === '\\') {
      if (++i >= repl.length) throw new Error('character to be escaped is missing at the end');
      lit += repl[i];
    } else if (c === '$') {
      if (++i >= repl.length) throw new Error('illegal group reference: group index is missing');
      if (repl[i] === '{') {
        const end = repl.indexOf('}', i);
        const name = end < 0 ? '' : repl.slice(i + 1, end);
        if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error('named capturing group is missing a trailing "}" or has a bad name');
        if (!groups.names.includes(name)) throw new Error(`no group with name {${name}}`);
        if (lit) parts.push(lit);
        lit = '';
        parts.push({ group: name });
        i = end;
      } else {
        let n = repl.charCodeAt(i) - 48;
        if (n < 0 || n > 9) throw new Error('illegal group reference');
        if (n > groups.count) throw new Error(`no group ${n}`);
        while (i + 1 < repl.length) {
          const d = repl.charCodeAt(i + 1) - 48;
          if (d < 0 || d > 9 || n * 10 + d > groups.count) break;
          n = n * 10 + d;
          i++;
        }
        if (lit) parts.push(lit);
        lit = '';
        parts.push({ group: n });
      }
    } else lit += c;
  }
  if (lit) parts.push(lit);
  return parts;
}

/** A replacer for String.prototype.replace; a group that did not take part inserts nothing. */
function replacer(parts: Part[]): string | ((...args: unknown[]) => string) {
  if (parts.every((p) => typeof p === 'string')) return (parts as string[]).join('').replace(/\$/g, '$$$$');
  return (...args: unknown[]) => {
    let named: Record<string, string | undefined> | undefined;
    const last = args[args.length - 1];
    if (typeof last === 'object' && last !== null) named = last as Record<string, string | undefined>;
    let s = '';
    for (const p of parts) {
      if (typeof p === 'string') s += p;
      else if (typeof p.group === 'number') s += (args[p.group] as string | undefined) ?? '';
      else s += named?.[p.group] ?? '';
    }
    return s;
  };
}

/**
 * Flume's SearchAndReplaceInterceptor: decodes the body with `charset`, replaces
 * every match of `searchPattern`, and encodes the result. A body with no match keeps
 * its bytes untouched.
 */
export default defineInterceptor({
  type: 'search_replace',
  aliases: ['org.apache.flume.interceptor.SearchAndReplaceInterceptor', 'org.apache.flume.interceptor.SearchAndReplaceInterceptor$Builder'],
  description: 'Replaces every match of a regex in the body.',
  options,
  validate(o, context): OptionProblem[] {
    try {
      compileReplacement(o.replaceString, groupsOf(compileJavaRegex(o.searchPattern)));
      return [];
    } catch (err) {
      return [
        {
          severity: 'error',
          code: ErrorCodes.CONFIG_VALUE,
          key: 'replaceString',
          message: `${context.fullKey('replaceString')}: ${(err as Error).message} in "${o.replaceString}" (searchPattern "${o.searchPattern}")`,
        },
      ];
    }
  },
  create: ({ options: o }) => {
    const re = compileJavaRegex(o.searchPattern, 'g');
    const replace = replacer(compileReplacement(o.replaceString, groupsOf(re)));
    const enc = CHARSETS[o.charset.toLowerCase()]!;
    return {
      intercept(events: FlumeEvent[]): FlumeEvent[] {
        for (let i = 0; i < events.length; i++) {
          const e = events[i]!;
          const body = e.body.toString(enc);
          const out = typeof replace === 'string' ? body.replace(re, replace) : body.replace(re, replace);
          if (out !== body) e.body = Buffer.from(out, enc);
        }
        return events;
      },
    };
  },
});
