import { formatDiagnostic, sortDiagnostics, type Diagnostic } from '../config/diagnostics.js';
import { loadJob, readJobFile } from '../config/load.js';
import { parseProperties } from '../config/properties.js';
import { silentLogger } from '../core/logger.js';
import { buildRegistry } from './setup.js';

/** `flume-ng validate`: every problem of every agent (or the named one); non-zero on errors. */
export async function runValidate(o: { confFile: string[]; name?: string; conf?: string; pluginsPath?: string }): Promise<number> {
  if (o.confFile.length === 0) {
    process.stderr.write('flume-ng: no job file given: use -f <file>\n');
    return 1;
  }
  const registry = await buildRegistry(o, silentLogger);
  let agents: string[];
  if (o.name) agents = [o.name];
  else {
    const names = new Set<string>();
    for (const f of o.confFile) {
      const read = readJobFile(f);
      if ('error' in read) continue; // loadJob reports it
      for (const p of parseProperties(read.text, f).props) {
        const m = /^([^.]+)\.(sources|channels|sinks|sinkgroups)$/.exec(p.key);
        if (m) names.add(m[1]!);
      }
    }
    agents = names.size > 0 ? [...names] : ['a1'];
  }
  let errors = 0;
  let warnings = 0;
  const seen = new Set<string>();
  for (const agent of agents) {
    const { diagnostics } = loadJob(o.confFile, agent, registry);
    for (const d of sortDiagnostics(diagnostics as Diagnostic[])) {
      const line = formatDiagnostic(d);
      if (seen.has(line)) continue;
      seen.add(line);
      process.stdout.write(line + '\n');
      if (d.severity === 'error') errors++;
      else warnings++;
    }
  }
  process.stdout.write(`${o.confFile.join(', ')}: agent${agents.length > 1 ? 's' : ''} ${agents.join(', ')}: ${errors} error(s), ${warnings} warning(s)\n`);
  return errors > 0 ? 1 : 0;
}
