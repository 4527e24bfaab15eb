import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/logger.js';
import type { MonitoredAgent } from '../core/health.js';
import { flumeMetrics } from './flume-json.js';
import type { PrometheusExporter } from './prometheus.js';
import { FLOW_PAGE } from './flow-page.js';
import type { FlowGraph } from './graph.js';

/**
 * The monitoring HTTP server. `/metrics` is Flume's JSON reporter byte for byte in
 * shape (or Prometheus text when the type is `prometheus`, as Flume's Prometheus
 * server serves it there); `/prometheus` always serves Prometheus text; `/health` says
 * whether every component runs; `/flow` draws the graph with live figures; `/` is a small page. TRACE and OPTIONS get 403, as
 * in Flume; anything else 404. Requests carry no body we read.
 */
export class MonitoringHttpServer {
  private readonly server: http.Server;
  /** Loaded on the first Prometheus scrape: prom-client weighs about 12 MB. */
  private prometheus: Promise<PrometheusExporter> | undefined;

  constructor(
    private readonly agent: MonitoredAgent,
    private readonly metricsFormat: 'json' | 'prometheus',
    private readonly logger: Logger,
    private readonly graph?: FlowGraph,
  ) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.warn(`monitoring: ${req.method} ${req.url} failed: ${(err as Error).message}`);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    // A scraper holds no connection open forever, and headers stay small.
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
    this.server.keepAliveTimeout = 5_000;
    this.server.maxHeadersCount = 50;
    this.server.maxConnections = 256;
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    if (method === 'TRACE' || method === 'OPTIONS') return send(res, 403, 'text/plain;charset=utf-8', 'Forbidden\n');
    const path = (req.url ?? '/').split('?')[0]!.toLowerCase();
    if (path === '/') {
      return send(
        res,
        200,
        'text/html;charset=utf-8',
        'For Flume metrics please click <a href = "./metrics"> here</a>. ' + 'Also: <a href="./prometheus">Prometheus</a>, <a href="./health">health</a>, <a href="./flow">the flow</a>.',
      );
    }
    if (path === '/metrics' && this.metricsFormat === 'json') {
      return send(res, 200, 'application/json;charset=utf-8', JSON.stringify(flumeMetrics(this.agent.counterGroups())));
    }
    if (path === '/metrics' || path === '/prometheus') {
      this.prometheus ??= import('./prometheus.js').then((m) => new m.PrometheusExporter(this.agent.name));
      const prometheus = await this.prometheus;
      return send(res, 200, prometheus.contentType, await prometheus.render(this.agent.counterGroups()));
    }
    if (path === '/flow' && this.graph) return send(res, 200, 'text/html;charset=utf-8', FLOW_PAGE);
    if (path === '/flow.json' && this.graph) {
      const body = { graph: this.graph, metrics: flumeMetrics(this.agent.counterGroups()), health: this.agent.health() };
      return send(res, 200, 'application/json;charset=utf-8', JSON.stringify(body));
    }
    if (path === '/health') {
      const h = this.agent.health();
      return send(res, h.status === 'UP' ? 200 : 503, 'application/json;charset=utf-8', JSON.stringify(h));
    }
    return send(res, 404, 'text/plain;charset=utf-8', 'Not Found\n');
  }
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
