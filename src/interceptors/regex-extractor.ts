import { ErrorCodes, defineInterceptor, opt, type Context, type FlumeEvent, type Logger, type OptionProblem } from '../plugin-api/index.js';
import { compileJavaRegex, regexOpt } from './java-regex.js';
import { compileJodaPattern } from './joda-time.js';
import { DropReport } from './drop-report.js';

export const options = {
  regex: regexOpt.requiredRegex('Java regex searched for in the body; its groups become headers.'),
  serializers: opt.list([], 'Names of the serializers, one per group in order; each has serializers.<name>.name and optionally .type.'),
};

const PASS_THROUGH = 'org.apache.flume.interceptor.RegexExtractorInterceptorPassThroughSerializer';
const MILLIS = 'org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer';

/** Turns the text of one group into a header value; throws when the text does not fit. */
type Serialize = (value: string) => string;

interface Serializer {
  header: string;
  serialize: Serialize | undefined;
}

/** Reads `serializers.<s>.*`; problems name the key. */
export function readSerializers(names: readonly string[], ctx: Context): { serializers: Serializer[]; problems: OptionProblem[] } {
  const problems: OptionProblem[] = [];
  const serializers: Serializer[] = [];
  const err = (key: string, message: string, severity: 'error' | 'warning' = 'error'): void => {
    problems.push({ severity, code: severity === 'error' ? ErrorCodes.CONFIG_VALUE : ErrorCodes.CONFIG_UNKNOWN_KEY, key, message: `${ctx.fullKey(key)}: ${message}` });
  };
  if (names.length === 0) {
    problems.push({ severity: 'error', code: ErrorCodes.CONFIG_REQUIRED, key: 'serializers', message: `${ctx.prefix}serializers is required: name one serializer per regex group` });
  }
  for (const s of names) {
    const p = `serializers.${s}.`;
    const header = ctx.getString(`${p}name`);
    if (!header) {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_REQUIRED, key: `${p}name`, message: `${ctx.prefix}${p}name is required: the header that receives the group` });
    }
    const type = ctx.getString(`${p}type`, 'DEFAULT');
    const known = [`${p}name`, `${p}type`];
    let serialize: Serialize | undefined;
    if (type.toUpperCase() === 'DEFAULT' || type === PASS_THROUGH) serialize = undefined;
    else if (type === MILLIS) {
      known.push(`${p}pattern`);
      const pattern = ctx.getString(`${p}pattern`);
      if (!pattern) {
        problems.push({
          severity: 'error',
          code: ErrorCodes.CONFIG_REQUIRED,
          key: `${p}pattern`,
          message: `${ctx.prefix}${p}pattern is required for the millis serializer (a Joda-Time pattern such as yyyy-MM-dd HH:mm)`,
        });
      } else {
        try {
          const parse = compileJodaPattern(pattern);
          serialize = (v) => String(parse(v));
        } catch (e) {
          err(`${p}pattern`, `${(e as Error).message}`);
        }
      }
    } else {
      err(`${p}type`, `unknown serializer type "${type}": use DEFAULT, ${PASS_THROUGH} or ${MILLIS}`);
    }
    for (const k of ctx.keys()) {
      if (k.startsWith(p) && !known.includes(k)) err(k, `unknown key for serializer ${s}, ignored`, 'warning');
    }
    serializers.push({ header: header ?? '', serialize });
  }
  for (const k of ctx.keys()) {
    const m = /^serializers\.([^.]+)\./.exec(k);
    if (m && !names.includes(m[1]!)) err(k, `serializer "${m[1]}" is not listed in ${ctx.prefix}serializers, so it is not used`, 'warning');
  }
  return { serializers, problems };
}

/**
 * Flume's RegexExtractorInterceptor: on the first match of `regex` in the body
 * (decoded as UTF-8), group i goes to the header of the i-th serializer; groups
 * beyond the serializers are skipped; no match leaves the event as it is. A group
 * that did not take part sets no header. A value the millis serializer cannot parse
 * sets no header; it is counted and logged (Flume would fail the whole batch).
 */
class RegexExtractor {
  private readonly failures: DropReport;
  constructor(
    private readonly re: RegExp,
    private readonly serializers: readonly Serializer[],
    name: string,
    private readonly logger: Logger,
  ) {
    this.failures = new DropReport((m) => logger.warn(m), `interceptor ${name} (regex_extractor) could not serialize a group of`);
  }

  intercept(events: FlumeEvent[]): FlumeEvent[] {
    const { re, serializers } = this;
    let failed = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const m = re.exec(e.body.toString('utf8'));
      if (m === null) continue;
      const n = Math.min(m.length - 1, serializers.length);
      for (let g = 0; g < n; g++) {
        const v = m[g + 1];
        if (v === undefined) continue;
        const s = serializers[g]!;
        if (s.serialize === undefined) e.headers[s.header] = v;
        else {
          try {
            e.headers[s.header] = s.serialize(v);
          } catch (err) {
            failed++;
            if (this.logger.isDebugEnabled) this.logger.debug(`${s.header}: ${(err as Error).message}`);
          }
        }
      }
    }
    this.failures.add(failed);
    return events;
  }

  close(): void {
    this.failures.close();
  }
}

export default defineInterceptor({
  type: 'regex_extractor',
  aliases: ['org.apache.flume.interceptor.RegexExtractorInterceptor', 'org.apache.flume.interceptor.RegexExtractorInterceptor$Builder'],
  description: 'Copies the groups of a regex match in the body into headers.',
  options,
  prefixes: ['serializers.'],
  validate: (o, ctx) => readSerializers(o.serializers, ctx).problems,
  create: ({ name, options: o, context, logger }) => new RegexExtractor(compileJavaRegex(o.regex), readSerializers(o.serializers, context).serializers, name, logger),
});
