import { defineInterceptor, opt, type FlumeEvent } from '../plugin-api/index.js';
import { compileJavaRegex, regexOpt } from './java-regex.js';
import { DropReport } from './drop-report.js';

export const options = {
  regex: regexOpt.regex('.*', 'Java regex searched for in the body (a match anywhere counts).'),
  excludeEvents: opt.boolean(false, 'Drop the events that match instead of keeping them.'),
};

/**
 * Flume's RegexFilteringInterceptor: keeps the events whose body (decoded as UTF-8)
 * contains a match, or with excludeEvents drops them. The input batch is never
 * changed; a new array is made only when something is dropped. Drops are counted and
 * logged (first at once, then at most one line per 5 s, and a total when the source stops).
 */
export default defineInterceptor({
  type: 'regex_filter',
  aliases: ['org.apache.flume.interceptor.RegexFilteringInterceptor', 'org.apache.flume.interceptor.RegexFilteringInterceptor$Builder'],
  description: 'Keeps (or with excludeEvents drops) the events whose body matches a regex.',
  options,
  create: ({ name, options: { regex, excludeEvents }, logger }) => {
    logger.info(`Creating RegexFilteringInterceptor: regex=${regex},excludeEvents=${excludeEvents}`);
    const re = compileJavaRegex(regex);
    const drops = new DropReport((m) => logger.info(m), `interceptor ${name} (regex_filter) dropped`);
    // `.*` finds a (possibly empty) match in every body: keeping everything needs no decoding.
    const matchesAll = regex === '.*';
    // A pattern that is only literal text (`ERROR`, `DEBUG|TRACE`) is searched for in the
    // body's UTF-8 bytes: the same answer as decoding and matching, without the decode,
    // which is most of this interceptor's cost.
    const literals = literalAlternatives(regex);
    return {
      intercept(events: FlumeEvent[]): FlumeEvent[] {
        if (matchesAll) {
          if (!excludeEvents) return events;
          drops.add(events.length);
          return [];
        }
        let out: FlumeEvent[] | undefined;
        for (let i = 0; i < events.length; i++) {
          const e = events[i]!;
          const found = literals ? containsAny(e.body, literals) : re.test(e.body.toString('utf8'));
          const keep = found !== excludeEvents;
          if (out) {
            if (keep) out.push(e);
          } else if (!keep) out = events.slice(0, i);
        }
        if (!out) return events;
        drops.add(events.length - out.length);
        return out;
      },
      close: () => drops.close(),
    };
  },
});

/** The alternatives of a pattern made only of literal text joined by `|`, as UTF-8; undefined otherwise. */
export function literalAlternatives(regex: string): Buffer[] | undefined {
  const parts = regex.split('|');
  // Any regex syntax (or an empty alternative, which matches everywhere) takes the regex path.
  if (parts.some((p) => p === '' || /[\\^$.*+?()[\]{}]/.test(p))) return undefined;
  return parts.map((p) => Buffer.from(p, 'utf8'));
}

/** Short bodies are scanned here: a native indexOf call costs more than the scan. */
const SCAN_IN_JS = 64;

function containsAny(body: Buffer, literals: readonly Buffer[]): boolean {
  if (body.length > SCAN_IN_JS) {
    for (const l of literals) if (body.indexOf(l) >= 0) return true;
    return false;
  }
  for (const l of literals) {
    const n = l.length;
    const first = l[0]!;
    outer: for (let i = 0; i + n <= body.length; i++) {
      if (body[i] !== first) continue;
      for (let j = 1; j < n; j++) if (body[i + j] !== l[j]) continue outer;
      return true;
    }
  }
  return false;
}
