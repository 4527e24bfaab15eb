import type { CounterGroup } from '../core/counters.js';

/**
 * Java's Double.toString, so ChannelFillPercentage reads as Java Flume prints it:
 * "0.0", "50.0", "33.333333333333336", "1.7976931348623157E308".
 */
export function javaDouble(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  const a = Math.abs(n);
  if (a === 0 || (a >= 1e-3 && a < 1e7)) {
    const s = String(n);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mant, exp] = n.toExponential().split('e') as [string, string];
  return `${mant.includes('.') ? mant : `${mant}.0`}E${exp.startsWith('+') ? exp.slice(1) : exp}`;
}

/** One component's attributes, every value a string, as Flume's JSON reporter writes them. */
export function attributesOf(group: CounterGroup): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(group.snapshot())) {
    out[k] = typeof v === 'string' ? v : k === 'ChannelFillPercentage' ? javaDouble(v) : String(v);
  }
  return out;
}

/** Flume's `/metrics` body: `{"SOURCE.r1": {...}, "CHANNEL.c1": {...}}`. */
export function flumeMetrics(groups: readonly CounterGroup[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const g of groups) out[`${g.Type}.${g.name}`] = attributesOf(g);
  return out;
}
