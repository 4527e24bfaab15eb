import { defineInterceptor, opt, type FlumeEvent } from '../plugin-api/index.js';
import { compileJavaFullMatch, compileJavaRegex, fullMatch, javaSplit, regexOpt } from './java-regex.js';

export const options = {
  withName: opt.optionalString('Name of one header to remove.'),
  fromList: opt.optionalString('Names of headers to remove, separated by fromListSeparator.'),
  fromListSeparator: regexOpt.regex('\\s*,\\s*', 'Java regex that separates the names of fromList.'),
  matching: regexOpt.optionalRegex('Java regex: headers whose whole name matches it are removed.'),
};

/**
 * Flume's RemoveHeaderInterceptor: removes `withName`, every header named in
 * `fromList`, and every header whose whole name matches `matching`. With none of
 * them set it changes nothing.
 */
export default defineInterceptor({
  type: 'remove_header',
  aliases: ['org.apache.flume.interceptor.RemoveHeaderInterceptor', 'org.apache.flume.interceptor.RemoveHeaderInterceptor$Builder'],
  description: 'Removes headers by name, by list, or by a regex on the name.',
  options,
  create: ({ options: o }) => {
    const withName = o.withName;
    const fromList = o.fromList === undefined ? undefined : new Set(javaSplit(o.fromList, compileJavaRegex(o.fromListSeparator)));
    const matching = o.matching === undefined ? undefined : compileJavaFullMatch(o.matching);
    const scan = fromList !== undefined || matching !== undefined;
    return {
      intercept(events: FlumeEvent[]): FlumeEvent[] {
        for (let i = 0; i < events.length; i++) {
          const h = events[i]!.headers;
          if (withName !== undefined && Object.hasOwn(h, withName)) delete h[withName];
          if (!scan) continue;
          for (const name in h) {
            if (fromList?.has(name) || (matching !== undefined && fullMatch(matching, name))) delete h[name];
          }
        }
        return events;
      },
    };
  },
});
