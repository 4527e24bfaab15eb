import path from 'node:path';
import { ErrorCodes, type Context, type OptionProblem } from '../../plugin-api/index.js';
import { compileJavaFullMatch, fullMatch } from '../../interceptors/java-regex.js';

/** One `filegroups.<name>`: a literal directory and a Java regex on the whole file name. */
export interface FileGroup {
  readonly name: string;
  readonly dir: string;
  /** The file-name regex as written. */
  readonly pattern: string;
  /** `headers.<name>.*`. */
  readonly headers: Readonly<Record<string, string>>;
  matches(fileName: string): boolean;
}

/**
 * Reads `filegroups`, `filegroups.<g>` and `headers.<g>.<key>` as Flume does: the
 * text after the last `/` is the regex, everything before it a directory taken
 * literally. Unlike Flume, a group listed without a path is an error rather than
 * silently left out.
 */
export function parseGroups(names: readonly string[], ctx: Context): { groups: FileGroup[]; problems: OptionProblem[] } {
  const problems: OptionProblem[] = [];
  const groups: FileGroup[] = [];
  if (names.length === 0) {
    problems.push({
      severity: 'error',
      code: ErrorCodes.CONFIG_REQUIRED,
      key: 'filegroups',
      message: `${ctx.fullKey('filegroups')} is required: the names of the file groups to tail (then filegroups.<name> = /dir/regex)`,
    });
    return { groups, problems };
  }
  const headers = new Map<string, Record<string, string>>();
  for (const key of ctx.keys()) {
    if (!key.startsWith('headers.')) continue;
    const rest = key.slice('headers.'.length);
    const dot = rest.indexOf('.');
    if (dot <= 0 || dot === rest.length - 1) {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key, message: `${ctx.fullKey(key)}: expected headers.<filegroup>.<header name>` });
      continue;
    }
    const g = rest.slice(0, dot);
    if (!names.includes(g)) {
      problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_UNKNOWN_KEY, key, message: `${ctx.fullKey(key)}: "${g}" is not one of filegroups (${names.join(' ')}); the header is not used` });
      continue;
    }
    const h = headers.get(g) ?? {};
    h[rest.slice(dot + 1)] = ctx.getString(key) ?? '';
    headers.set(g, h);
  }
  for (const name of names) {
    const key = `filegroups.${name}`;
    const spec = ctx.getString(key);
    if (spec === undefined || spec === '') {
      problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_REQUIRED,
        key,
        message: `${ctx.fullKey(key)} is required: the directory and file-name regex of file group ${name}, e.g. /var/log/app/.*\\.log`,
      });
      continue;
    }
    const slash = spec.lastIndexOf('/');
    const dir = path.resolve(slash < 0 ? '.' : spec.slice(0, slash) || '/');
    const pattern = spec.slice(slash + 1);
    let re: RegExp;
    try {
      re = compileJavaFullMatch(pattern);
    } catch (err) {
      problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_VALUE,
        key,
        message: `${ctx.fullKey(key)}: the file-name part "${pattern}" is not a usable regular expression: ${(err as Error).message}`,
      });
      continue;
    }
    groups.push({ name, dir, pattern, headers: headers.get(name) ?? {}, matches: (f) => fullMatch(re, f) });
  }
  return { groups, problems };
}
