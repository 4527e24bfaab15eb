/**
 * AvroSource's `ipFilterRules`: `allow|deny:ip|name:<pattern>`, comma separated. The
 * first rule that matches decides; a connection no rule matches is accepted.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import { AvroErrorCodes, avroError } from './errors.js';

export interface IpFilterRule {
  allow: boolean;
  kind: 'ip' | 'name';
  pattern: string;
  /** Whole-string match of the pattern. */
  regex: RegExp;
}

/**
 * Parses the rule list as Flume does: split on ',', trim, everything after the
 * second ':' is the pattern (so IPv6 patterns keep their colons). Keywords are
 * case-sensitive. Throws FTS_ERR_AVRO_IP_FILTER_RULE naming the bad rule.
 */
export function parseIpFilterRules(text: string): IpFilterRule[] {
  const rules: IpFilterRule[] = [];
  for (const raw of text.split(',')) {
    const rule = raw.trim();
    if (rule === '') continue;
    const first = rule.indexOf(':');
    const second = first < 0 ? -1 : rule.indexOf(':', first + 1);
    if (second < 0) throw ruleError(rule, 'expected allow|deny:ip|name:<pattern>');
    const action = rule.slice(0, first);
    const kind = rule.slice(first + 1, second);
    const pattern = rule.slice(second + 1);
    if (action !== 'allow' && action !== 'deny') throw ruleError(rule, `"${action}" is neither allow nor deny`);
    if (kind !== 'ip' && kind !== 'name') throw ruleError(rule, `"${kind}" is neither ip nor name`);
    if (kind === 'ip') {
      const never = ipPatternNeverMatches(pattern);
      if (never) throw ruleError(rule, never);
    }
    rules.push({ allow: action === 'allow', kind, pattern, regex: patternRegex(pattern) });
  }
  if (rules.length === 0) throw ruleError(text, 'no rules');
  return rules;
}

/**
 * Why an `ip` pattern can never match, or undefined. Addresses are compared in Java's
 * form (see javaHostAddress): IPv6 uncompressed and in lower case, IPv4-mapped as IPv4.
 * So `deny:ip:::1` denies nobody, silently, in Flume as here; refuse it instead.
 */
export function ipPatternNeverMatches(pattern: string): string | undefined {
  const java = net.isIPv6(pattern) ? javaHostAddress(pattern) : undefined;
  const instead = java && java !== pattern ? `; write "${java}"` : '';
  if (pattern.includes('::')) {
    return `ip patterns are matched against the full form of an address (::1 is 0:0:0:0:0:0:0:1), so "${pattern}" never matches${instead}`;
  }
  if (/[A-F]/.test(pattern)) {
    return `IPv6 addresses are matched in lower case, so "${pattern}" never matches${instead || `; write "${pattern.toLowerCase()}"`}`;
  }
  if (/(^|:)0[0-9a-f]/i.test(pattern) && pattern.includes(':')) {
    return `IPv6 groups are matched without leading zeros, so "${pattern}" never matches${instead}`;
  }
  return undefined;
}

function ruleError(rule: string, why: string): Error {
  return avroError(AvroErrorCodes.IP_FILTER_RULE, `bad ipFilterRules entry "${rule}": ${why}`);
}

/**
 * Flume's PatternRule: `*` any run, `?` one character, `.` literal; every other
 * character goes to the regex engine as written (so a stray `(` is a config error).
 */
function patternRegex(pattern: string): RegExp {
  let src = '';
  for (const ch of pattern) src += ch === '*' ? '.*' : ch === '?' ? '.' : ch === '.' ? '\\.' : ch;
  try {
    return new RegExp(`^(?:${src})$`);
  } catch (err) {
    throw ruleError(pattern, `pattern is not a valid expression: ${(err as Error).message}`);
  }
}

/**
 * The remote address in Java's `getHostAddress()` form, which is what `ip` patterns
 * were written against: IPv4-mapped IPv6 as plain IPv4, IPv6 as eight uncompressed
 * hex groups without leading zeros (`0:0:0:0:0:0:0:1`).
 */
export function javaHostAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (net.isIPv6(address)) {
    const [addr, zone] = address.split('%') as [string, string | undefined];
    const groups = expandIPv6(addr);
    return groups.map((g) => g.toString(16)).join(':') + (zone === undefined ? '' : `%${zone}`);
  }
  return address;
}

function expandIPv6(addr: string): number[] {
  // An embedded IPv4 tail (::1.2.3.4) becomes its two hex groups first.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addr);
  if (v4) {
    const hi = (Number(v4[1]) << 8) | Number(v4[2]);
    const lo = (Number(v4[3]) << 8) | Number(v4[4]);
    addr = `${addr.slice(0, v4.index)}${hi.toString(16)}:${lo.toString(16)}`;
  }
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const dbl = addr.indexOf('::');
  if (dbl < 0) return parse(addr);
  const head = parse(addr.slice(0, dbl));
  const rest = parse(addr.slice(dbl + 2));
  return [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '0:0:0:0:0:0:0:1']);

/** `name:localhost` is special in Flume: it matches the loopback and this host's own addresses, without DNS. */
function isLocalhost(address: string): boolean {
  if (LOOPBACK.has(address)) return true;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) if (javaHostAddress(i.address) === address) return true;
  }
  return false;
}

/**
 * Decides a connection. Name rules need the reverse-DNS name, looked up only when
 * such a rule is reached (a failed lookup yields the address, as Java's
 * getHostName does). Resolves true to accept.
 */
export async function ipFilterAccepts(rules: readonly IpFilterRule[], remoteAddress: string): Promise<boolean> {
  const address = javaHostAddress(remoteAddress);
  let hostName: string | undefined;
  for (const rule of rules) {
    let matched: boolean;
    if (rule.kind === 'ip') {
      matched = rule.regex.test(address);
    } else if (rule.pattern === 'localhost') {
      matched = isLocalhost(address);
    } else {
      hostName ??= await reverseName(remoteAddress, address);
      matched = rule.regex.test(hostName);
    }
    if (matched) return rule.allow;
  }
  return true;
}

async function reverseName(remote: string, fallback: string): Promise<string> {
  try {
    const names = await dns.reverse(remote.replace(/^::ffff:(?=\d+\.)/i, ''));
    return names[0] ?? fallback;
  } catch {
    return fallback;
  }
}
