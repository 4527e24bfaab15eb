import { builtinRegistry } from '../builtins.js';
import { silentLogger } from '../core/logger.js';
import { loadEntries, pluginEntries } from '../registry/plugins.js';
import { findPlugins, pluginSearch, type PluginSearchOptions } from './setup.js';

/**
 * `flume-ng plugins`: every component the plugin packages found provide, its kind, the
 * names a job can give it and where it comes from. Each module is imported, so a plugin
 * that fails to load is shown with its error (and the exit status is 1).
 */
export async function runPlugins(o: PluginSearchOptions): Promise<number> {
  const plugins = findPlugins(o);
  const out: string[] = [];
  let failed = 0;
  if (plugins.length === 0) out.push('no plugins found');
  for (const p of plugins) {
    out.push(`${p.name} (${p.origin}: ${p.dir})${p.manifest.replaces?.length ? ` replaces ${p.manifest.replaces.join(', ')}` : ''}`);
    for (const e of pluginEntries([p])) {
      const registry = builtinRegistry();
      try {
        await loadEntries(registry, [e], silentLogger);
        const def = registry.lookup(e.kind, e.name)!;
        const names = [...new Set([def.type, ...e.names])];
        out.push(`  ${e.kind} ${names.join(', ')}: ${def.description}`);
      } catch (err) {
        failed++;
        out.push(`  ${e.kind} ${e.names.join(', ')}: NOT LOADABLE: ${(err as Error).message}`);
      }
    }
  }
  out.push(pluginSearch(o).where);
  process.stdout.write(out.join('\n') + '\n');
  return failed > 0 ? 1 : 0;
}
