import type { CounterGroup } from './counters.js';

/** One component's state, as `/health` reports it. */
export interface ComponentHealth {
  status: 'UP' | 'DOWN';
  /** Why it is down (the last delivery error of a sink, a start failure). */
  error?: string;
}

export interface HealthReport {
  /** UP when the agent runs and no component is down. */
  status: 'UP' | 'DOWN';
  agent: string;
  components: Record<string, ComponentHealth>;
}

/** What a reporter needs of a running agent. */
export interface MonitoredAgent {
  readonly name: string;
  counterGroups(): readonly CounterGroup[];
  health(): HealthReport;
  /** The component graph, for pictures of the flow. */
  readonly graph?: FlowGraph;
}

/** One box of the flow picture. */
export interface FlowNode {
  /** Unique within the graph: `source:r1`, `channel:c1`, `sink:k1`, `interceptor:r1:i1`, `selector:r1`, `group:g1`. */
  id: string;
  kind: 'source' | 'interceptor' | 'selector' | 'channel' | 'sink' | 'sinkgroup';
  name: string;
  type: string;
  /** The keys the job file sets (secrets shown as ***), for the label. */
  settings: Record<string, string>;
  /** The counter group the node's figures come from (`CHANNEL.c1`), when it has one. */
  metrics?: string;
  /** The sink group a sink belongs to. */
  group?: string;
}

export interface FlowEdge {
  from: string;
  to: string;
  /** The counter whose rate is drawn on the edge: `<group>.<attribute>`. */
  rate?: string;
}

export interface FlowGraph {
  agent: string;
  nodes: FlowNode[];
  edges: FlowEdge[];
}
