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
}
