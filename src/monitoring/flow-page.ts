/**
 * The `/flow` page: the running job's graph drawn as SVG, refreshed every second from
 * `/flow.json` with events/s on each edge, each channel's fill level and each sink's
 * failures. Self-contained (no CDN, works offline); the layout is columns by distance
 * from the sources, which is all a Flume graph needs, so no layout library is bundled.
 */
export const FLOW_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flume-ts flow</title>
<style>
body{font:13px system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
h1{font-size:16px;margin:0 0 8px} #status{color:#666;margin-bottom:8px}
.node rect{fill:#fff;stroke:#888;rx:6} .node.source rect{stroke:#2b6cb0} .node.channel rect{stroke:#2f855a}
.node.sink rect{stroke:#b7791f} .node.down rect{stroke:#c53030;stroke-width:3} .node text{font-size:11px}
.node .title{font-weight:600;font-size:12px} .fill{fill:#c6f6d5} .fill.high{fill:#fbd38d} .fill.full{fill:#feb2b2}
.edge{stroke:#999;stroke-width:1.5;fill:none;marker-end:url(#arrow)} .rate{font-size:11px;fill:#2b6cb0}
</style></head><body>
<h1 id="title">flume-ts</h1><div id="status">loading…</div>
<svg id="g" xmlns="http://www.w3.org/2000/svg" width="100%" height="600">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#999"/></marker></defs>
<g id="edges"></g><g id="nodes"></g></svg>
<script>
"use strict";
const W = 210, H = 92, GX = 80, GY = 24;
const svg = document.getElementById('g');
let layout = null, last = null;
function el(tag, attrs, parent, text) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function build(graph) {
  const depth = {};
  for (const n of graph.nodes) if (n.kind === 'source') depth[n.id] = 0;
  for (let pass = 0; pass < graph.nodes.length; pass++)
    for (const e of graph.edges) if (depth[e.from] !== undefined) depth[e.to] = Math.max(depth[e.to] ?? 0, depth[e.from] + 1);
  const cols = [];
  for (const n of graph.nodes) {
    if (n.kind === 'sinkgroup') continue;
    const d = depth[n.id] ?? 0;
    (cols[d] = cols[d] || []).push(n);
  }
  const pos = {};
  cols.forEach((col, c) => col.forEach((n, r) => { pos[n.id] = { x: 10 + c * (W + GX), y: 10 + r * (H + GY) }; }));
  const rows = Math.max(1, ...cols.map((c) => c.length));
  svg.setAttribute('height', String(20 + rows * (H + GY)));
  svg.setAttribute('width', String(20 + cols.length * (W + GX)));
  const edges = document.getElementById('edges'), nodes = document.getElementById('nodes');
  edges.textContent = ''; nodes.textContent = '';
  const view = { nodes: {}, edges: [] };
  for (const e of graph.edges) {
    const a = pos[e.from], b = pos[e.to];
    if (!a || !b) continue;
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
    el('path', { class: 'edge', d: 'M' + x1 + ',' + y1 + ' C' + (x1 + GX / 2) + ',' + y1 + ' ' + (x2 - GX / 2) + ',' + y2 + ' ' + x2 + ',' + y2 }, edges);
    const label = el('text', { class: 'rate', x: (x1 + x2) / 2 - 20, y: (y1 + y2) / 2 - 4 }, edges, '');
    view.edges.push({ edge: e, label });
  }
  for (const n of graph.nodes) {
    const p = pos[n.id];
    if (!p) continue;
    const g = el('g', { class: 'node ' + n.kind, transform: 'translate(' + p.x + ',' + p.y + ')', 'data-id': n.id }, nodes);
    el('rect', { width: W, height: H }, g);
    const fill = n.kind === 'channel' ? el('rect', { class: 'fill', x: 1, y: H - 9, width: 0, height: 8 }, g) : null;
    el('text', { class: 'title', x: 8, y: 16 }, g, n.name + ' (' + n.type + ')' + (n.group ? ' in ' + n.group : ''));
    const settings = Object.entries(n.settings).slice(0, 3);
    settings.forEach(([k, v], i) => el('text', { x: 8, y: 31 + i * 13 }, g, (k + ' = ' + v).slice(0, 34)));
    const figure = el('text', { class: 'figure', x: 8, y: H - 14 }, g, '');
    view.nodes[n.id] = { node: n, g, figure, fill };
  }
  return view;
}
function num(m, key) {
  const i = key.lastIndexOf('.');
  const group = m[key.slice(0, i)];
  return group ? Number(group[key.slice(i + 1)]) : NaN;
}
function render(data) {
  if (!layout) layout = build(data.graph);
  document.getElementById('title').textContent = 'flume-ts agent ' + data.graph.agent;
  const now = Date.now(), dt = last ? (now - last.at) / 1000 : 0;
  for (const v of layout.edges) {
    if (!v.edge.rate) continue;
    const cur = num(data.metrics, v.edge.rate), prev = last ? num(last.metrics, v.edge.rate) : NaN;
    v.label.textContent = dt > 0 && !isNaN(prev) ? Math.max(0, Math.round((cur - prev) / dt)) + ' ev/s' : '';
    v.label.setAttribute('data-total', String(cur));
  }
  for (const id in layout.nodes) {
    const v = layout.nodes[id], m = v.node.metrics ? data.metrics[v.node.metrics] : undefined;
    if (!m) continue;
    if (v.node.kind === 'channel') {
      const pct = Number(m.ChannelFillPercentage);
      v.figure.textContent = m.ChannelSize + ' / ' + m.ChannelCapacity + ' (' + pct.toFixed(1) + '%)';
      v.fill.setAttribute('width', String(Math.min(W - 2, (W - 2) * pct / 100)));
      v.fill.setAttribute('class', 'fill' + (pct >= 90 ? ' full' : pct >= 50 ? ' high' : ''));
    } else if (v.node.kind === 'sink') {
      const failed = Number(m.EventWriteFail || 0) + Number(m.ConnectionFailedCount || 0);
      const h = data.health.components['SINK_RUNNER.' + v.node.name] || data.health.components['SINK_RUNNER.' + v.node.group];
      v.figure.textContent = m.EventDrainSuccessCount + ' delivered, ' + failed + ' failed';
      v.g.classList.toggle('down', !!(h && h.status === 'DOWN'));
      v.g.setAttribute('title', h && h.error ? h.error : '');
    } else if (v.node.kind === 'source') {
      v.figure.textContent = m.EventAcceptedCount + ' accepted';
    }
  }
  document.getElementById('status').textContent = 'health ' + data.health.status + ' · updated ' + new Date(now).toLocaleTimeString();
  last = { at: now, metrics: data.metrics };
}
async function tick() {
  try {
    const r = await fetch('./flow.json', { cache: 'no-store' });
    render(await r.json());
  } catch (e) {
    document.getElementById('status').textContent = 'agent unreachable: ' + e.message;
  }
  setTimeout(tick, 1000);
}
tick();
</script></body></html>
`;
