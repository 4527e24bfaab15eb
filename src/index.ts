/** flume-ts as a library: build and run agents from job files in your own process. */
export * from './plugin-api/index.js';
export { Agent, type AgentOptions } from './core/agent.js';
export { Registry, createRegistry } from './registry/registry.js';
export { builtins, builtinRegistry } from './builtins.js';
export { loadJob } from './config/load.js';
export type { Diagnostic } from './config/diagnostics.js';
export { formatDiagnostic } from './config/diagnostics.js';
export { silentLogger } from './core/logger.js';
