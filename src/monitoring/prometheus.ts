import { Counter, Gauge, Registry } from 'prom-client';
import type { CounterGroup } from '../core/counters.js';

/**
 * The counters in Prometheus' text format, through prom-client. Names follow
 * Prometheus' conventions: `flume_` + the attribute in snake case, `_total` for
 * counters (`EventReceivedCount` → `flume_event_received_total`), Kafka timers as
 * `_milliseconds_total`, sizes and times as gauges (`flume_channel_size`,
 * `flume_start_time_seconds`); labels `agent`, `type` (SOURCE, CHANNEL, ...) and
 * `component`. Values are read from the counter groups at each scrape.
 */
export class PrometheusExporter {
  private readonly registry = new Registry();
  private readonly metrics = new Map<string, Counter | Gauge>();

  constructor(private readonly agent: string) {}

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(groups: readonly CounterGroup[]): Promise<string> {
    for (const m of this.metrics.values()) m.reset();
    for (const g of groups) {
      const labels = { agent: this.agent, type: g.Type, component: g.name };
      for (const [attr, value] of Object.entries(g.snapshot())) {
        if (typeof value !== 'number' || !Number.isFinite(value)) continue;
        const { name, kind, scale } = promName(attr);
        const metric = this.metric(name, kind, attr);
        if (metric instanceof Counter) metric.inc(labels, Math.max(0, value * scale));
        else metric.set(labels, value * scale);
      }
    }
    return this.registry.metrics();
  }

  private metric(name: string, kind: 'counter' | 'gauge', attr: string): Counter | Gauge {
    let m = this.metrics.get(name);
    if (!m) {
      const spec = { name, help: `Flume attribute ${attr}`, labelNames: ['agent', 'type', 'component'], registers: [this.registry] };
      m = kind === 'counter' ? new Counter(spec) : new Gauge(spec);
      this.metrics.set(name, m);
    }
    return m;
  }
}

const GAUGES: Record<string, string> = {
  ChannelSize: 'flume_channel_size',
  ChannelCapacity: 'flume_channel_capacity',
  ChannelFillPercentage: 'flume_channel_fill_percentage',
  OpenConnectionCount: 'flume_open_connections',
};

/** The Prometheus name of a Flume attribute, whether it counts up, and its unit scale. */
export function promName(attr: string): { name: string; kind: 'counter' | 'gauge'; scale: number } {
  const g = GAUGES[attr];
  if (g) return { name: g, kind: 'gauge', scale: 1 };
  if (attr === 'StartTime' || attr === 'StopTime') return { name: `flume_${snake(attr)}_seconds`, kind: 'gauge', scale: 1 / 1000 };
  if (attr.endsWith('Timer')) return { name: `flume_${snake(attr.slice(0, -5))}_milliseconds_total`, kind: 'counter', scale: 1 };
  if (attr.endsWith('Count')) return { name: `flume_${snake(attr.slice(0, -5))}_total`, kind: 'counter', scale: 1 };
  if (attr.endsWith('Fail')) return { name: `flume_${snake(attr)}_total`, kind: 'counter', scale: 1 };
  // Open, Closed, Unhealthy (file channel state flags) and anything else a plugin adds.
  return { name: `flume_${snake(attr)}`, kind: 'gauge', scale: 1 };
}

function snake(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}
