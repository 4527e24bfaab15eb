import path from 'node:path';
import { builtinRegistry } from '../builtins.js';
import type { Logger } from '../core/logger.js';
import { discoverPlugins, loadPlugins } from '../registry/plugins.js';
import type { Registry } from '../registry/registry.js';
import { PACKAGE_ROOT } from './paths.js';

/** Built-ins plus every plugin found for this run. */
export async function buildRegistry(opts: { conf?: string; pluginsPath?: string }, logger: Logger): Promise<Registry> {
  const registry = builtinRegistry();
  const pluginDirs: string[] = [];
  if (opts.conf) pluginDirs.push(path.resolve(opts.conf, '..', 'plugins.d'));
  pluginDirs.push(path.resolve(PACKAGE_ROOT, 'plugins.d'));
  for (const d of (opts.pluginsPath ?? '').split(':').filter(Boolean)) pluginDirs.push(path.resolve(d));
  const nodeModules = [...new Set([path.resolve('node_modules'), path.join(PACKAGE_ROOT, 'node_modules')])];
  const plugins = discoverPlugins({ nodeModules, pluginDirs: [...new Set(pluginDirs)] });
  await loadPlugins(registry, plugins, logger);
  return registry;
}
