import path from 'node:path';
import { builtinRegistry } from '../builtins.js';
import type { Logger } from '../core/logger.js';
import { readJobFile } from '../config/load.js';
import { parseProperties } from '../config/properties.js';
import { discoverPlugins, entriesNamed, loadEntries, pluginEntries, type FoundPlugin, type PluginDir } from '../registry/plugins.js';
import type { Registry } from '../registry/registry.js';
import { PACKAGE_ROOT } from './paths.js';

export interface PluginSearchOptions {
  conf?: string;
  pluginsPath?: string;
}

/** The directories plugins are looked for in, in order, and a sentence saying so. */
export function pluginSearch(opts: PluginSearchOptions): { pluginDirs: PluginDir[]; nodeModules: string[]; where: string } {
  const pluginDirs: PluginDir[] = [];
  if (opts.conf) pluginDirs.push({ dir: path.resolve(opts.conf, '..', 'plugins.d'), origin: 'plugins.d' });
  pluginDirs.push({ dir: path.resolve(PACKAGE_ROOT, 'plugins.d'), origin: 'plugins.d' });
  for (const d of (opts.pluginsPath ?? '').split(':').filter(Boolean)) pluginDirs.push({ dir: path.resolve(d), origin: '--plugins-path' });
  const seen = new Set<string>();
  const dirs = pluginDirs.filter((d) => !seen.has(d.dir) && seen.add(d.dir));
  const nodeModules = [...new Set([path.resolve('node_modules'), path.join(PACKAGE_ROOT, 'node_modules')])];
  const where =
    `plugins are packages with a "flume" field in package.json, looked for in ${dirs.map((d) => d.dir).join(', ')} ` +
    `(plugins.d beside -c <conf>; add directories with --plugins-path) and in ${nodeModules.join(', ')}`;
  return { pluginDirs: dirs, nodeModules, where };
}

export function findPlugins(opts: PluginSearchOptions): FoundPlugin[] {
  const { pluginDirs, nodeModules } = pluginSearch(opts);
  return discoverPlugins({ nodeModules, pluginDirs });
}

/** Every property value of the job files (what a job may name a plugin by). */
function jobValues(files: readonly string[]): string[] {
  const values: string[] = [];
  for (const f of files) {
    const read = readJobFile(f);
    if ('error' in read) continue; // loadJob reports it
    for (const p of parseProperties(read.text, f).props) values.push(p.value);
  }
  return values;
}

/**
 * Built-ins plus the plugins this run needs: only manifests are read for every plugin
 * found; a plugin's module is imported only when the job files (or -D properties) name
 * it, or when `all` is set.
 */
export async function buildRegistry(opts: PluginSearchOptions & { confFile?: readonly string[]; values?: readonly string[]; all?: boolean }, logger: Logger): Promise<Registry> {
  const registry = builtinRegistry();
  const search = pluginSearch(opts);
  registry.pluginSearch = search.where;
  const entries = pluginEntries(discoverPlugins({ nodeModules: search.nodeModules, pluginDirs: search.pluginDirs }));
  const wanted = opts.all ? entries : entriesNamed(entries, [...jobValues(opts.confFile ?? []), ...(opts.values ?? [])]);
  await loadEntries(registry, wanted, logger);
  return registry;
}
