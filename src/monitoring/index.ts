import type { Logger } from '../core/logger.js';
import { ConfigError, ErrorCodes } from '../core/errors.js';
import { GangliaReporter } from './ganglia.js';
import { MonitoringHttpServer } from './http-server.js';
import type { MonitoredAgent } from '../core/health.js';
import type { FlowGraph } from './graph.js';

export type { MonitoredAgent, HealthReport, ComponentHealth } from '../core/health.js';

/** What runs until the agent stops. */
export interface Monitor {
  readonly description: string;
  stop(): Promise<void>;
}

const CLASS_NAMES: Record<string, string> = {
  'org.apache.flume.instrumentation.http.httpmetricsserver': 'http',
  'org.apache.flume.instrumentation.http.prometheushttpmetricsserver': 'prometheus',
  'org.apache.flume.instrumentation.gangliaserver': 'ganglia',
};

/**
 * Starts the reporter `flume.monitoring.type` names, configured by the other
 * `flume.monitoring.*` settings (from -D flags, or from the job file for users who
 * cannot pass flags; the flags win). Returns undefined when no type is set.
 */
export async function startMonitoring(
  settings: Readonly<Record<string, string>>,
  agent: MonitoredAgent,
  logger: Logger,
  graph?: FlowGraph,
): Promise<Monitor | undefined> {
  const raw = settings['flume.monitoring.type']?.trim();
  if (!raw) return undefined;
  const type = CLASS_NAMES[raw.toLowerCase()] ?? raw.toLowerCase();
  const get = (k: string): string | undefined => settings[`flume.monitoring.${k}`]?.trim();
  if (type === 'http' || type === 'prometheus') {
    const port = intSetting('port', get('port'), 41414, 0, 65535);
    // Flume's server listens on every interface; flume.monitoring.bind narrows it.
    const host = get('bind') ?? '0.0.0.0';
    const server = new MonitoringHttpServer(agent, type === 'http' ? 'json' : 'prometheus', logger, graph);
    try {
      await server.listen(port, host);
    } catch (err) {
      throw new ConfigError(ErrorCodes.COMPONENT_START, `flume.monitoring.port: cannot listen on ${host}:${port}: ${(err as Error).message}`, 'flume.monitoring.port');
    }
    logger.info(`Monitoring (${type}) serving /metrics, /prometheus, /health and /flow on ${host}:${server.port}`);
    return { description: `${type} on ${host}:${server.port}`, stop: () => server.close() };
  }
  if (type === 'ganglia') {
    const hostsRaw = get('hosts');
    if (!hostsRaw) throw new ConfigError(ErrorCodes.CONFIG_REQUIRED, 'flume.monitoring.hosts is required for ganglia (host:port,host:port)', 'flume.monitoring.hosts');
    const hosts = hostsRaw.split(',').map((h) => h.trim()).filter(Boolean).map((h) => {
      const m = /^(.+):(\d+)$/.exec(h);
      const port = m ? Number(m[2]) : NaN;
      if (!m || port < 1 || port > 65535) throw new ConfigError(ErrorCodes.CONFIG_VALUE, `flume.monitoring.hosts: "${h}" is not host:port`, 'flume.monitoring.hosts');
      return { host: m[1]!, port };
    });
    const poll = intSetting('pollFrequency', get('pollFrequency'), 60, 1, 86_400);
    const g3 = (get('isGanglia3') ?? 'false').toLowerCase() === 'true';
    const reporter = new GangliaReporter(hosts, poll, g3, () => agent.counterGroups(), logger);
    reporter.start();
    logger.info(`Monitoring (ganglia ${g3 ? '3.0' : '3.1'}) reporting to ${hostsRaw} every ${poll} s`);
    return { description: `ganglia to ${hostsRaw}`, stop: async () => reporter.stop() };
  }
  throw new ConfigError(ErrorCodes.CONFIG_VALUE, `flume.monitoring.type: unknown type "${raw}"; known: http, prometheus, ganglia`, 'flume.monitoring.type');
}

function intSetting(key: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(ErrorCodes.CONFIG_VALUE, `flume.monitoring.${key}: expected an integer from ${min} to ${max}, got "${raw}"`, `flume.monitoring.${key}`);
  }
  return Number(raw);
}
