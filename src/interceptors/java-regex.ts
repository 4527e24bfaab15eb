import { type OptionSpec } from '../plugin-api/index.js';

/**
 * Flume users write Java regular expressions (java.util.regex.Pattern). This module
 * rewrites one into an equivalent JavaScript RegExp (always with the `u` flag) where
 * the two languages differ in spelling, and refuses, with a reason, what JavaScript
 * cannot express. Translated:
 *
 * - leading inline flags `(?i)`, `(?s)`, `(?m)` (and `(?u)`, `(?d)`, accepted and ignored);
 * - `\Q...\E` quoting, `\A`, `\z`, `\Z`, `\h`, `\H`, `\v` (Java 8 meaning), `\V`, `\R`,
 *   `\a`, `\e`, `\0ooo`, `\x{h...h}`, escaped punctuation (`\-`, `\"`, `\:`), a lone `]` or `}`;
 * - `$` without MULTILINE, which in Java also matches before a final line terminator;
 * - `\p{Alpha}` and the other POSIX classes (ASCII), `\p{IsLatin}`, `\p{IsL}`, `\pL`.
 *
 * Refused: possessive quantifiers (`a*+`), atomic groups `(?>...)`, inline flags
 * after the start or scoped (`(?i:...)`), comments mode `(?x)`, `\G`, `\X`, `\p{javaX}`,
 * `\p{InBlock}`, nested classes `[a[b]]` and intersections `[a&&b]`.
 *
 * Not reproduced: Java's `.` also excludes U+0085; Java's `\s`, `\w` and `\b` are
 * ASCII-only while JavaScript's `\s` also matches Unicode spaces; case-insensitive
 * matching follows Unicode case folding.
 */
export interface TranslatedRegex {
  readonly source: string;
  readonly flags: string;
}

const LINE_END = '(?:\\r\\n|[\\n\\r\\u0085\\u2028\\u2029])';
const END_OF_INPUT = '(?![\\s\\S])';
const H_SPACE = ' \\t\\xA0\\u1680\\u180E\\u2000-\\u200A\\u202F\\u205F\\u3000';
const V_SPACE = '\\n\\x0B\\f\\r\\x85\\u2028\\u2029';

/** Java's POSIX classes (US-ASCII by default), as members of a JS class. */
const POSIX: Record<string, string> = {
  Lower: 'a-z',
  Upper: 'A-Z',
  ASCII: '\\x00-\\x7F',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~',
  Graph: '!-~',
  Print: ' -~',
  Blank: ' \\t',
  Cntrl: '\\x00-\\x1F\\x7F',
  XDigit: '0-9a-fA-F',
  Space: ' \\t\\n\\x0B\\f\\r',
};

/** Characters JS (u mode) lets us escape outside a class. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/');

class Translator {
  private i = 0;
  private out = '';
  private flags = new Set<string>(['u']);

  constructor(private readonly p: string) {}

  run(): TranslatedRegex {
    this.leadingFlags();
    while (this.i < this.p.length) this.atom();
    return { source: this.out, flags: [...this.flags].sort().join('') };
  }

  private fail(why: string): never {
    throw new Error(why);
  }

  private leadingFlags(): void {
    const m = /^\(\?([a-zA-Z]+)\)/.exec(this.p);
    if (!m) return;
    for (const f of m[1]!) {
      if (f === 'i' || f === 's' || f === 'm') this.flags.add(f);
      else if (f === 'u' || f === 'd') continue;
      else if (f === 'x') this.fail('comments mode (?x) is not supported');
      else this.fail(`inline flag "${f}" is not supported`);
    }
    this.i = m[0].length;
  }

  private atom(): void {
    const c = this.p[this.i]!;
    switch (c) {
      case '\\':
        this.escape();
        return;
      case '[':
        this.charClass();
        return;
      case '(':
        this.group();
        return;
      case ']':
      case '}':
        this.out += '\\' + c;
        this.i++;
        return;
      case '$':
        this.out += this.flags.has('m') ? '$' : `(?=${LINE_END}?${END_OF_INPUT})`;
        this.i++;
        return;
      case '*':
      case '+':
      case '?':
        this.out += c;
        this.i++;
        this.quantifierSuffix();
        return;
      case '{': {
        const m = /^\{\d+(,\d*)?\}/.exec(this.p.slice(this.i));
        if (!m) this.fail(`"{" at ${this.i} does not start a repetition like {2} or {1,3}`);
        this.out += m[0];
        this.i += m[0].length;
        this.quantifierSuffix();
        return;
      }
      default:
        this.out += c;
        this.i++;
    }
  }

  private quantifierSuffix(): void {
    const n = this.p[this.i];
    if (n === '+') this.fail('possessive quantifiers (*+, ++, ?+, {n}+) are not supported');
    if (n === '?') {
      this.out += '?';
      this.i++;
    }
  }

  private group(): void {
    const rest = this.p.slice(this.i);
    const plain = /^\((?:\?:|\?=|\?!|\?<=|\?<!|\?<[A-Za-z][A-Za-z0-9]*>)?/.exec(rest)!;
    if (rest.startsWith('(?') && plain[0] === '(') {
      if (rest.startsWith('(?>')) this.fail('atomic groups (?>...) are not supported');
      if (/^\(\?[a-zA-Z-]+[:)]/.test(rest)) this.fail('inline flags are supported only at the very start of the pattern, e.g. (?i)abc');
      this.fail(`unsupported group syntax at ${this.i}`);
    }
    this.out += plain[0];
    this.i += plain[0].length;
  }

  private escape(): void {
    const p = this.p;
    const c = p[this.i + 1];
    if (c === undefined) this.fail('the pattern ends with a lone backslash');
    this.i += 2;
    if (c === 'Q') {
      const end = p.indexOf('\\E', this.i);
      const lit = end < 0 ? p.slice(this.i) : p.slice(this.i, end);
      for (const ch of lit) this.out += literal(ch);
      this.i = end < 0 ? p.length : end + 2;
      return;
    }
    if (c === 'E') return; // a stray \E is ignored by Java
    if (/[1-9]/.test(c)) {
      this.out += '\\' + c;
      return;
    }
    switch (c) {
      case '0':
        this.out += codePoint(this.octal());
        return;
      case 'x':
        this.out += this.hex();
        return;
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(p.slice(this.i));
        if (!m) this.fail('\\u must be followed by four hex digits');
        this.out += '\\u' + m[0];
        this.i += 4;
        return;
      }
      case 'c': {
        const x = p[this.i];
        if (x === undefined || !/[A-Za-z]/.test(x)) this.fail('\\c must be followed by a letter');
        this.out += '\\c' + x;
        this.i++;
        return;
      }
      case 't':
      case 'n':
      case 'r':
      case 'f':
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 's':
      case 'S':
      case 'b':
      case 'B':
        this.out += '\\' + c;
        return;
      case 'k': {
        const m = /^<[A-Za-z][A-Za-z0-9]*>/.exec(p.slice(this.i));
        if (!m) this.fail('\\k must be followed by <name>');
        this.out += '\\k' + m[0];
        this.i += m[0].length;
        return;
      }
      case 'a':
        this.out += '\\x07';
        return;
      case 'e':
        this.out += '\\x1B';
        return;
      case 'A':
        this.out += '(?<![\\s\\S])';
        return;
      case 'z':
        this.out += END_OF_INPUT;
        return;
      case 'Z':
        this.out += `(?=${LINE_END}?${END_OF_INPUT})`;
        return;
      case 'h':
        this.out += `[${H_SPACE}]`;
        return;
      case 'H':
        this.out += `[^${H_SPACE}]`;
        return;
      case 'v':
        this.out += `[${V_SPACE}]`;
        return;
      case 'V':
        this.out += `[^${V_SPACE}]`;
        return;
      case 'R':
        this.out += `(?:\\r\\n|[${V_SPACE}])`;
        return;
      case 'p':
      case 'P':
        this.out += this.property(c === 'P', false);
        return;
      default:
        if (/[A-Za-z]/.test(c)) this.fail(`\\${c} is not supported`);
        this.out += literal(c);
    }
  }

  private octal(): number {
    const m = /^(?:[0-3][0-7]{2}|[0-7]{1,2})/.exec(this.p.slice(this.i));
    if (!m) this.fail('\\0 must be followed by octal digits');
    this.i += m[0].length;
    return parseInt(m[0], 8);
  }

  private hex(): string {
    const rest = this.p.slice(this.i);
    let m = /^\{([0-9a-fA-F]+)\}/.exec(rest);
    if (m) {
      this.i += m[0].length;
      return `\\u{${m[1]}}`;
    }
    m = /^[0-9a-fA-F]{2}/.exec(rest);
    if (!m) this.fail('\\x must be followed by two hex digits or {h...h}');
    this.i += 2;
    return '\\x' + m[0];
  }

  /** `\p{Name}` / `\pL` after the `p`/`P`; inside a class returns members without brackets. */
  private property(negated: boolean, inClass: boolean): string {
    let name: string;
    if (this.p[this.i] === '{') {
      const end = this.p.indexOf('}', this.i);
      if (end < 0) this.fail('unclosed \\p{...}');
      name = this.p.slice(this.i + 1, end);
      this.i = end + 1;
    } else {
      name = this.p[this.i] ?? '';
      if (!/[A-Za-z]/.test(name)) this.fail('\\p must be followed by a property name');
      this.i++;
    }
    const posix = POSIX[name] ?? POSIX[name.replace(/^Is/, '')];
    if (posix !== undefined) {
      if (inClass) {
        if (negated) this.fail(`\\P{${name}} inside a character class is not supported`);
        return posix;
      }
      return negated ? `[^${posix}]` : `[${posix}]`;
    }
    if (name.startsWith('java')) this.fail(`\\p{${name}} (a java.lang.Character property) is not supported`);
    if (name.startsWith('In') || /^(blk|block)=/i.test(name)) this.fail(`Unicode blocks (\\p{${name}}) are not supported`);
    const base = name
      .replace(/^Is/, '')
      .replace(/^(sc|script)=/i, 'Script=')
      .replace(/^(gc|general_category)=/i, 'General_Category=');
    const esc = negated ? '\\P' : '\\p';
    for (const candidate of [base, `Script=${base}`]) {
      try {
        new RegExp(`${esc}{${candidate}}`, 'u');
        return `${esc}{${candidate}}`;
      } catch {
        // try the next spelling
      }
    }
    this.fail(`unknown Unicode property \\p{${name}}`);
  }

  private charClass(): void {
    const p = this.p;
    this.i++;
    let s = '[';
    if (p[this.i] === '^') {
      s += '^';
      this.i++;
    }
    let first = true;
    for (;;) {
      const c = p[this.i];
      if (c === undefined) this.fail('unclosed character class');
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === '[') this.fail('nested character classes ([a[b]]) are not supported');
      if (c === '&' && p[this.i + 1] === '&') this.fail('character class intersection (&&) is not supported');
      if (c === ']') {
        s += '\\]';
        this.i++;
        continue;
      }
      if (c !== '\\') {
        s += c;
        this.i++;
        continue;
      }
      const e = p[this.i + 1];
      if (e === undefined) this.fail('the pattern ends with a lone backslash');
      this.i += 2;
      if (e === 'Q') {
        const end = p.indexOf('\\E', this.i);
        const lit = end < 0 ? p.slice(this.i) : p.slice(this.i, end);
        for (const ch of lit) s += classLiteral(ch);
        this.i = end < 0 ? p.length : end + 2;
      } else if ('tnrfdDwWsS'.includes(e)) s += '\\' + e;
      else if (e === '0') s += codePoint(this.octal());
      else if (e === 'x') s += this.hex();
      else if (e === 'u' || e === 'c') {
        const m = e === 'u' ? /^[0-9a-fA-F]{4}/.exec(p.slice(this.i)) : /^[A-Za-z]/.exec(p.slice(this.i));
        if (!m) this.fail(`bad \\${e} escape in a character class`);
        s += '\\' + e + m[0];
        this.i += m[0].length;
      } else if (e === 'a') s += '\\x07';
      else if (e === 'e') s += '\\x1B';
      else if (e === 'h') s += H_SPACE;
      else if (e === 'v') s += V_SPACE;
      else if (e === 'p' || e === 'P') s += this.property(e === 'P', true);
      else if (/[A-Za-z0-9]/.test(e)) this.fail(`\\${e} is not supported in a character class`);
      else s += classLiteral(e);
    }
    this.out += s + ']';
  }
}

function literal(ch: string): string {
  return JS_SYNTAX.has(ch) ? '\\' + ch : ch;
}

function classLiteral(ch: string): string {
  return ch === '\\' || ch === ']' || ch === '[' || ch === '^' || ch === '-' ? '\\' + ch : ch;
}

function codePoint(n: number): string {
  return `\\u{${n.toString(16)}}`;
}

/** Rewrites a Java regex for JavaScript; throws an Error saying why when it cannot. */
export function translateJavaRegex(java: string): TranslatedRegex {
  const t = new Translator(java).run();
  try {
    new RegExp(t.source, t.flags);
  } catch (err) {
    throw new Error((err as Error).message.replace(/^Invalid regular expression: /, ''));
  }
  return t;
}

/** Compiles a Java regex as JavaScript; `extraFlags` adds e.g. `g` or `y`. */
export function compileJavaRegex(java: string, extraFlags = ''): RegExp {
  const t = translateJavaRegex(java);
  return new RegExp(t.source, t.flags + extraFlags);
}

/** Matches the whole of the input, as Java's Matcher.matches(). */
export function compileJavaFullMatch(java: string): RegExp {
  const t = translateJavaRegex(java);
  return new RegExp(`(?:${t.source})${END_OF_INPUT}`, t.flags + 'y');
}

export function fullMatch(re: RegExp, s: string): boolean {
  re.lastIndex = 0;
  return re.test(s);
}

/** Java's String.split(regex): groups are not part of the result, trailing empty strings are removed. */
export function javaSplit(s: string, re: RegExp): string[] {
  const g = new RegExp(re.source, re.flags.replace(/[gy]/g, '') + 'g');
  const out: string[] = [];
  let index = 0;
  for (const m of s.matchAll(g)) {
    const start = m.index;
    // Java 8+: a zero-width match at the start never yields a leading empty string.
    if (index === 0 && start === 0 && m[0].length === 0) continue;
    out.push(s.slice(index, start));
    index = start + m[0].length;
  }
  if (index === 0) return [s];
  out.push(s.slice(index));
  let n = out.length;
  while (n > 0 && out[n - 1] === '') n--;
  return out.slice(0, n);
}

/** The number of capturing groups and the group names of a compiled regex. */
export function groupsOf(re: RegExp): { count: number; names: readonly string[] } {
  const m = new RegExp(`${re.source}|`, re.flags.replace(/[gy]/g, '')).exec('')!;
  return { count: m.length - 1, names: Object.keys(m.groups ?? {}) };
}

function regexSpec(def: string, description: string, required: boolean): OptionSpec<string> {
  return {
    kind: 'string',
    description,
    default: def,
    ...(required ? { required: true } : {}),
    parse(raw) {
      try {
        translateJavaRegex(raw);
      } catch (err) {
        throw new Error(`a Java regular expression that JavaScript can run (${(err as Error).message})`);
      }
      return raw;
    },
  };
}

/** Option builders for Java-regex keys: the value is checked (and the key named) while the job file is read. */
export const regexOpt = {
  regex: (def: string, description: string): OptionSpec<string> => regexSpec(def, description, false),
  requiredRegex: (description: string): OptionSpec<string> => regexSpec('', description, true),
  optionalRegex(description: string): OptionSpec<string | undefined> {
    return { ...regexSpec('', description, false), default: undefined } as OptionSpec<string | undefined>;
  },
};
