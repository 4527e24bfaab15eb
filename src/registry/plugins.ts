import fs from 'node:fs';
import path from 'node:path';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { ComponentDefinition, ComponentKind } from '../core/component.js';
import { FlumeError, ErrorCodes } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Registry } from './registry.js';

/** The `flume` field of a plugin's package.json: names it provides, per kind, and the module of each. */
export interface PluginManifest {
  sources?: Record<string, string>;
  channels?: Record<string, string>;
  sinks?: Record<string, string>;
  interceptors?: Record<string, string>;
  selectors?: Record<string, string>;
  sinkProcessors?: Record<string, string>;
  sinkSelectors?: Record<string, string>;
  serializers?: Record<string, string>;
  reporters?: Record<string, string>;
}

const SECTIONS: Record<keyof PluginManifest, ComponentKind> = {
  sources: 'source', channels: 'channel', sinks: 'sink', interceptors: 'interceptor',
  selectors: 'selector', sinkProcessors: 'sinkProcessor', sinkSelectors: 'sinkSelector', serializers: 'serializer', reporters: 'reporter',
};

interface FoundPlugin {
  dir: string;
  name: string;
  manifest: PluginManifest;
}

function readPackage(dir: string): FoundPlugin | undefined {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; flume?: PluginManifest };
    if (pkg.flume && typeof pkg.flume === 'object') return { dir, name: pkg.name ?? path.basename(dir), manifest: pkg.flume };
  } catch {
    // not a package, or not readable: not a plugin
  }
  return undefined;
}

/** Packages in a node_modules-like directory (including @scope/name). */
function packagesIn(root: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  const dirs: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() && !e.isSymbolicLink()) continue;
    const full = path.join(root, e.name);
    if (e.name.startsWith('@')) dirs.push(...packagesIn(full));
    else if (!e.name.startsWith('.')) dirs.push(full);
  }
  return dirs;
}

/**
 * Finds plugins: packages with a `flume` field in package.json, in the given
 * node_modules directories, in `<conf>/../plugins.d/*` (Flume's plugins.d), and in
 * each --plugin-path directory (a package itself, or a directory of packages).
 */
export function discoverPlugins(opts: { nodeModules: string[]; pluginDirs: string[] }): FoundPlugin[] {
  const found = new Map<string, FoundPlugin>();
  const add = (p: FoundPlugin | undefined): void => {
    if (p && !found.has(p.dir)) found.set(p.dir, p);
  };
  for (const nm of opts.nodeModules) for (const d of packagesIn(nm)) add(readPackage(d));
  for (const root of opts.pluginDirs) {
    const self = readPackage(root);
    if (self) add(self);
    else for (const d of packagesIn(root)) add(readPackage(d));
  }
  return [...found.values()];
}

/**
 * Imports each plugin module and registers its definition under its own type, the
 * name the manifest gives it, and — when the package provides a single component of
 * that kind — the package name.
 */
export async function loadPlugins(registry: Registry, plugins: readonly FoundPlugin[], logger: Logger): Promise<void> {
  if (plugins.length > 0) registerResolveHook();
  for (const p of plugins) {
    for (const [section, kind] of Object.entries(SECTIONS) as [keyof PluginManifest, ComponentKind][]) {
      const entries = Object.entries(p.manifest[section] ?? {});
      for (const [name, rel] of entries) {
        const file = path.resolve(p.dir, rel);
        let def: ComponentDefinition;
        try {
          const mod = (await import(pathToFileURL(file).href)) as { default?: ComponentDefinition };
          if (!mod.default || mod.default.kind !== kind) {
            throw new Error(`its default export is not a ${kind} definition (use define${kind[0]!.toUpperCase()}${kind.slice(1)} from flume-ts/plugin)`);
          }
          def = mod.default;
        } catch (err) {
          throw new FlumeError(ErrorCodes.PLUGIN_LOAD, `plugin ${p.name}: cannot load ${kind} "${name}" from ${file}: ${(err as Error).message}`, { cause: err });
        }
        const aliases = new Set([...(def.aliases ?? []), name]);
        if (entries.length === 1) aliases.add(p.name);
        aliases.delete(def.type);
        registry.register({ ...def, aliases: [...aliases] } as ComponentDefinition, { replace: true });
        logger.debug(`plugin ${p.name}: ${kind} ${[def.type, ...aliases].join(', ')} from ${file}`);
      }
    }
  }
}

let hooked = false;
function registerResolveHook(): void {
  if (hooked) return;
  hooked = true;
  register(new URL('./resolve-hook.js', import.meta.url));
}
