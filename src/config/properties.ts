import { parseLines } from 'dot-properties';
import type { Diagnostic } from './diagnostics.js';
import { ErrorCodes } from '../core/errors.js';

/** One `key = value` of a job file, with where it was written. */
export interface Property {
  key: string;
  value: string;
  file: string;
  line: number;
  /** The value came from the environment or a config filter: never print it. */
  secret?: boolean;
}

/** ` # note` or ` // note` after a value: a comment in most formats, part of the value in a properties file. */
const TRAILING_COMMENT = /\s(#|\/\/)/;
/** Keys whose values are never printed, even in part. */
const SECRET_KEY = /pass|secret|jaas|credential|token|\.key$/i;

/**
 * Parses Java properties syntax (comments, `=`/`:`/space separators, line
 * continuations, backslash escapes) keeping the line of each key. Keys and values
 * are trimmed as Flume trims them; a later duplicate wins. The file is read as
 * UTF-8 (Flume 1.10+ reads ISO-8859-1, which garbles non-ASCII values).
 */
export function parseProperties(text: string, file: string): { props: Property[]; diagnostics: Diagnostic[] } {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };

  const byKey = new Map<string, Property>();
  const diagnostics: Diagnostic[] = [];
  for (const node of parseLines(text, true)) {
    if (node.type !== 'PAIR') continue;
    const pair = node as unknown as { key: string; value: string; range: number[] };
    const key = pair.key.trim();
    const value = pair.value.trim();
    const line = lineOf(pair.range[0] ?? 0);
    if (key === '') continue;
    if (value === '') {
      diagnostics.push({ severity: 'warning', code: ErrorCodes.CONFIG_SYNTAX, file, line, key, message: `${key} has an empty value and is ignored` });
      byKey.delete(key);
      continue;
    }
    const earlier = byKey.get(key);
    if (earlier) {
      diagnostics.push({
        severity: 'warning',
        code: ErrorCodes.CONFIG_SYNTAX,
        file,
        line,
        key,
        message: `${key} is set again (first at line ${earlier.line}); the later value, at line ${line}, is used`,
      });
    }
    const comment = TRAILING_COMMENT.exec(value);
    if (comment) {
      const shown = SECRET_KEY.test(key) ? '' : ` ("${value.slice(comment.index).trim()}")`;
      diagnostics.push({
        severity: 'warning',
        code: ErrorCodes.CONFIG_SYNTAX,
        file,
        line,
        key,
        message: `${key}: the value ends with what looks like a comment${shown}; properties files have no trailing comments, so it is part of the value (as in Flume). Put comments on a line of their own starting with #`,
      });
    }
    byKey.delete(key); // keep file order of the last occurrence
    byKey.set(key, { key, value, file, line });
  }
  return { props: [...byKey.values()], diagnostics };
}
