import { defineReporter, opt } from '../plugin-api/index.js';
import { MonitoringHttpServer } from './http-server.js';

const options = {
  port: opt.integer(41414, 'Port of the monitoring HTTP server.', { min: 0, max: 65535 }),
  bind: opt.string('0.0.0.0', 'Address to listen on (Flume listens on every interface; 127.0.0.1 keeps it local).'),
};

function define(type: 'http' | 'prometheus', klass: string, format: 'json' | 'prometheus', description: string) {
  return defineReporter({
    type,
    aliases: [klass],
    description,
    options,
    async create({ options: o, agent, logger }) {
      const server = new MonitoringHttpServer(agent, format, logger, agent.graph);
      try {
        await server.listen(o.port, o.bind);
      } catch (err) {
        throw new Error(`flume.monitoring.port: cannot listen on ${o.bind}:${o.port}: ${(err as Error).message}`);
      }
      return { description: `${type}: /metrics, /prometheus, /health and /flow on ${o.bind}:${server.port}`, stop: () => server.close() };
    },
  });
}

export const http = define('http', 'org.apache.flume.instrumentation.http.HTTPMetricsServer', 'json', "Flume's JSON metrics at /metrics, plus /prometheus, /health and /flow.");
export const prometheus = define(
  'prometheus',
  'org.apache.flume.instrumentation.http.PrometheusHTTPMetricsServer',
  'prometheus',
  'Prometheus text at /metrics (and /prometheus), plus /health and /flow.',
);
