import { formatDiagnostic, sortDiagnostics } from '../config/diagnostics.js';
import { loadJob } from '../config/load.js';
import { silentLogger } from '../core/logger.js';
import { flowGraph, toDot, toMermaid } from '../monitoring/graph.js';
import { buildRegistry } from './setup.js';

/** `flume-ng graph`: the component graph of one agent, as Mermaid, Graphviz dot or JSON. */
export async function runGraph(o: { name: string; confFile: string[]; conf?: string; pluginsPath?: string; format: string }): Promise<number> {
  if (o.confFile.length === 0) {
    process.stderr.write('flume-ng: no job file given: use -f <file>\n');
    return 1;
  }
  const format = o.format.toLowerCase();
  if (!['mermaid', 'dot', 'json'].includes(format)) {
    process.stderr.write(`flume-ng: --format must be mermaid, dot or json, not "${o.format}"\n`);
    return 1;
  }
  const registry = await buildRegistry(o, silentLogger);
  const { plan, diagnostics } = loadJob(o.confFile, o.name, registry);
  if (!plan) {
    for (const d of sortDiagnostics(diagnostics)) process.stderr.write(formatDiagnostic(d) + '\n');
    process.stderr.write(`flume-ng: no graph: the job file has errors\n`);
    return 1;
  }
  const g = flowGraph(plan);
  process.stdout.write(format === 'dot' ? toDot(g) : format === 'json' ? JSON.stringify(g, null, 2) + '\n' : toMermaid(g));
  return 0;
}
