import type { AgentPlan, Planned } from '../config/plan.js';
import type { OptionsSpec } from '../core/options.js';
import type { FlowEdge, FlowGraph, FlowNode } from '../core/health.js';

export type { FlowEdge, FlowGraph, FlowNode } from '../core/health.js';

const HIDDEN = new Set(['type', 'channels', 'channel', 'interceptors']);

function settingsOf(p: Planned<{ options: OptionsSpec }>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of p.context.keys()) {
    if (HIDDEN.has(k) || k.startsWith('interceptors.') || k.startsWith('selector.')) continue;
    const spec = p.def.options[k];
    out[k] = spec?.secret || p.context.isSecret(k) || /password|secret|jaas/i.test(k) ? '***' : (p.context.getString(k) ?? '');
  }
  return out;
}

/** The component graph of a planned agent: sources, their interceptors and selector, channels, sink groups, sinks. */
export function flowGraph(plan: AgentPlan): FlowGraph {
  const nodes: FlowNode[] = [];
  const edges: FlowEdge[] = [];
  for (const c of plan.channels) nodes.push({ id: `channel:${c.name}`, kind: 'channel', name: c.name, type: c.def.type, settings: settingsOf(c), metrics: `CHANNEL.${c.name}` });
  for (const s of plan.sources) {
    const src = `source:${s.name}`;
    nodes.push({ id: src, kind: 'source', name: s.name, type: s.def.type, settings: settingsOf(s), metrics: `SOURCE.${s.name}` });
    let prev = src;
    for (const i of s.interceptors) {
      const id = `interceptor:${s.name}:${i.name}`;
      nodes.push({ id, kind: 'interceptor', name: i.name, type: i.def.type, settings: settingsOf(i) });
      edges.push({ from: prev, to: id });
      prev = id;
    }
    const hasSelector = s.selector.def.type !== 'replicating' || s.selector.context.keys().length > 1;
    if (hasSelector) {
      const id = `selector:${s.name}`;
      nodes.push({ id, kind: 'selector', name: s.name, type: s.selector.def.type, settings: settingsOf(s.selector) });
      edges.push({ from: prev, to: id });
      prev = id;
    }
    for (const ch of s.channels) edges.push({ from: prev, to: `channel:${ch}`, rate: `SOURCE.${s.name}.EventAcceptedCount` });
  }
  const groupOf = new Map<string, string>();
  for (const g of plan.sinkgroups) {
    nodes.push({ id: `group:${g.name}`, kind: 'sinkgroup', name: g.name, type: g.processor.def.type, settings: settingsOf(g.processor) });
    for (const k of g.sinks) groupOf.set(k, g.name);
  }
  for (const k of plan.sinks) {
    const group = groupOf.get(k.name);
    nodes.push({ id: `sink:${k.name}`, kind: 'sink', name: k.name, type: k.def.type, settings: settingsOf(k), metrics: `SINK.${k.name}`, ...(group ? { group } : {}) });
    edges.push({ from: `channel:${k.channel}`, to: `sink:${k.name}`, rate: `SINK.${k.name}.EventDrainSuccessCount` });
  }
  return { agent: plan.name, nodes, edges };
}

function label(n: FlowNode): string {
  const head = `${n.name} (${n.type})`;
  const lines = Object.entries(n.settings)
    .slice(0, 6)
    .map(([k, v]) => `${k} = ${v.length > 40 ? v.slice(0, 37) + '...' : v}`);
  return [head, ...lines].join('\n');
}

const mermaidId = (id: string): string => id.replace(/[^A-Za-z0-9_]/g, '_');
const mermaidText = (s: string): string => s.replace(/"/g, '#quot;').replace(/\n/g, '<br/>');

/** The graph in Mermaid's flowchart syntax (renders on GitHub and in most wikis). */
export function toMermaid(g: FlowGraph): string {
  const shape: Record<FlowNode['kind'], [string, string]> = {
    source: ['([', '])'],
    interceptor: ['[/', '/]'],
    selector: ['{{', '}}'],
    channel: ['[(', ')]'],
    sink: ['[', ']'],
    sinkgroup: ['[', ']'],
  };
  const out = [`flowchart LR`, `  %% agent ${g.agent}`];
  const grouped = new Map<string, FlowNode[]>();
  for (const n of g.nodes) {
    if (n.kind === 'sinkgroup') continue;
    if (n.group) {
      const l = grouped.get(n.group) ?? [];
      l.push(n);
      grouped.set(n.group, l);
      continue;
    }
    const [a, b] = shape[n.kind];
    out.push(`  ${mermaidId(n.id)}${a}"${mermaidText(label(n))}"${b}`);
  }
  for (const n of g.nodes) {
    if (n.kind !== 'sinkgroup') continue;
    out.push(`  subgraph ${mermaidId(n.id)}["${mermaidText(label(n))}"]`);
    for (const k of grouped.get(n.name) ?? []) out.push(`    ${mermaidId(k.id)}["${mermaidText(label(k))}"]`);
    out.push('  end');
  }
  for (const e of g.edges) out.push(`  ${mermaidId(e.from)} --> ${mermaidId(e.to)}`);
  return out.join('\n') + '\n';
}

const dotText = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The graph in Graphviz dot (`dot -Tsvg`). */
export function toDot(g: FlowGraph): string {
  const shape: Record<FlowNode['kind'], string> = {
    source: 'ellipse',
    interceptor: 'parallelogram',
    selector: 'hexagon',
    channel: 'cylinder',
    sink: 'box',
    sinkgroup: 'box',
  };
  const out = [`digraph "${dotText(g.agent)}" {`, '  rankdir=LR;', '  node [fontname="sans-serif", fontsize=10];'];
  for (const n of g.nodes) {
    if (n.kind === 'sinkgroup' || n.group) continue;
    out.push(`  "${dotText(n.id)}" [shape=${shape[n.kind]}, label="${dotText(label(n))}"];`);
  }
  for (const n of g.nodes) {
    if (n.kind !== 'sinkgroup') continue;
    out.push(`  subgraph "cluster_${dotText(n.name)}" {`, `    label="${dotText(label(n))}";`);
    for (const k of g.nodes) if (k.group === n.name) out.push(`    "${dotText(k.id)}" [shape=box, label="${dotText(label(k))}"];`);
    out.push('  }');
  }
  for (const e of g.edges) out.push(`  "${dotText(e.from)}" -> "${dotText(e.to)}";`);
  out.push('}');
  return out.join('\n') + '\n';
}
