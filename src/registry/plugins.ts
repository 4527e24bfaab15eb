import fs from 'node:fs';
import path from 'node:path';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { ComponentDefinition, ComponentKind } from '../core/component.js';
import { FlumeError, ErrorCodes } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Registry } from './registry.js';
import { guardPlugin } from './guard.js';

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
  /** Kafka client plugins: `kafka.producer.partitioner.class` and `kafka.producer.interceptor.classes`. */
  kafkaPartitioners?: Record<string, string>;
  kafkaInterceptors?: Record<string, string>;
  jmsConverters?: Record<string, string>;
  /** Built-in types this package deliberately replaces (e.g. ["logger"]); any other clash is refused. */
  replaces?: string[];
}

export const SECTIONS = {
  sources: 'source',
  channels: 'channel',
  sinks: 'sink',
  interceptors: 'interceptor',
  selectors: 'selector',
  sinkProcessors: 'sinkProcessor',
  sinkSelectors: 'sinkSelector',
  serializers: 'serializer',
  reporters: 'reporter',
  kafkaPartitioners: 'kafkaPartitioner',
  kafkaInterceptors: 'kafkaInterceptor',
  jmsConverters: 'jmsConverter',
} as const satisfies Record<Exclude<keyof PluginManifest, 'replaces'>, ComponentKind>;
type Section = keyof typeof SECTIONS;

export interface FoundPlugin {
  dir: string;
  name: string;
  manifest: PluginManifest;
  /** Where it was found: `plugins.d`, `--plugins-path` or `node_modules`. */
  origin: string;
}

/** One component a plugin's manifest names, before its module is imported. */
export interface PluginEntry {
  plugin: FoundPlugin;
  kind: ComponentKind;
  /** The name the manifest gives it (what a job's `type` says). */
  name: string;
  /** Every name a job may use: the manifest name and, for the only component of its kind, the package name. */
  names: string[];
  file: string;
}

function readPackage(dir: string, origin: string): FoundPlugin | undefined {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; flume?: PluginManifest };
    if (pkg.flume && typeof pkg.flume === 'object') return { dir, name: pkg.name ?? path.basename(dir), manifest: pkg.flume, origin };
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

export interface PluginDir {
  dir: string;
  /** How the directory was named: `plugins.d` or `--plugins-path`. */
  origin: string;
}

/**
 * Finds plugins: packages with a `flume` field in package.json, in the given
 * node_modules directories, in `<conf>/../plugins.d/*` (Flume's plugins.d), and in
 * each --plugins-path directory (a package itself, or a directory of packages).
 * Only manifests are read here; no plugin code runs.
 */
export function discoverPlugins(opts: { nodeModules: string[]; pluginDirs: (string | PluginDir)[] }): FoundPlugin[] {
  const found = new Map<string, FoundPlugin>();
  const add = (p: FoundPlugin | undefined): void => {
    if (p && !found.has(p.dir)) found.set(p.dir, p);
  };
  for (const nm of opts.nodeModules) for (const d of packagesIn(nm)) add(readPackage(d, 'node_modules'));
  for (const pd of opts.pluginDirs) {
    const { dir, origin } = typeof pd === 'string' ? { dir: pd, origin: 'plugins path' } : pd;
    const self = readPackage(dir, origin);
    if (self) add(self);
    else for (const d of packagesIn(dir)) add(readPackage(d, origin));
  }
  return [...found.values()];
}

/** Every component the manifests name, without importing anything. */
export function pluginEntries(plugins: readonly FoundPlugin[]): PluginEntry[] {
  const out: PluginEntry[] = [];
  for (const p of plugins) {
    for (const [section, kind] of Object.entries(SECTIONS) as [Section, ComponentKind][]) {
      const entries = Object.entries(p.manifest[section] ?? {});
      for (const [name, rel] of entries) {
        const names = [name];
        if (entries.length === 1 && p.name !== name) names.push(p.name);
        out.push({ plugin: p, kind, name, names, file: path.resolve(p.dir, rel) });
      }
    }
  }
  return out;
}

/**
 * The default export of a plugin module, whether it is an ES module (`export default`)
 * or CommonJS (`module.exports = ...`, or `exports.default = ...` as TypeScript and
 * Babel compile `export default` to CommonJS).
 */
function definitionOf(mod: unknown): unknown {
  let d = (mod as { default?: unknown }).default ?? mod;
  for (let i = 0; i < 2 && d && typeof d === 'object' && !('kind' in d) && 'default' in d; i++) d = (d as { default: unknown }).default;
  return d;
}

async function importEntry(e: PluginEntry): Promise<ComponentDefinition> {
  const kind = e.kind;
  try {
    const mod = (await import(pathToFileURL(e.file).href)) as unknown;
    const def = definitionOf(mod) as ComponentDefinition | undefined;
    if (!def || typeof def !== 'object' || def.kind !== kind) {
      const what = def && typeof def === 'object' && 'kind' in def ? `a ${String((def as { kind: unknown }).kind)} definition` : 'no component definition';
      throw new Error(
        `it exports ${what}, not a ${kind} definition: export one made with define${kind[0]!.toUpperCase()}${kind.slice(1)} from flume-ts/plugin ` +
          '(as `export default` in an ES module, or `module.exports =` in CommonJS)',
      );
    }
    return def;
  } catch (err) {
    throw new FlumeError(ErrorCodes.PLUGIN_LOAD, `plugin ${e.plugin.name}: cannot load ${kind} "${e.name}" from ${e.file}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Imports the modules of the given entries and registers each definition under its own
 * type and the entry's names. A name that is already a built-in's is refused unless the
 * package lists it in `replaces`; a replacement is logged, and every name of the built-in
 * then means the plugin.
 */
export async function loadEntries(registry: Registry, entries: readonly PluginEntry[], logger: Logger): Promise<void> {
  if (entries.length > 0) registerResolveHook();
  for (const e of entries) {
    const def = await importEntry(e);
    const kind = e.kind;
    const aliases = new Set([...(def.aliases ?? []), ...e.names]);
    if (kind === 'interceptor') for (const n of [...aliases, def.type]) aliases.add(/\$builder$/i.test(n) ? n.replace(/\$builder$/i, '') : `${n}$Builder`);
    aliases.delete(def.type);
    const replaces = new Set((e.plugin.manifest.replaces ?? []).map((r) => r.toLowerCase()));
    const replaced = new Set<ComponentDefinition>();
    for (const n of [def.type, ...aliases]) {
      const existing = registry.lookup(e.kind, n);
      if (!existing || replaced.has(existing)) continue;
      const builtinNames = [existing.type, ...(existing.aliases ?? [])];
      if (!builtinNames.some((b) => replaces.has(b.toLowerCase()))) {
        throw new FlumeError(
          ErrorCodes.PLUGIN_LOAD,
          `plugin ${e.plugin.name}: ${e.kind} type "${n}" from ${e.file} is already the type of ${registry.isBuiltin(existing) ? 'the built-in' : 'another'} ${e.kind} "${existing.type}"; ` +
            `to replace it, add "replaces": ["${existing.type}"] to the "flume" field of ${path.join(e.plugin.dir, 'package.json')}, or rename the plugin's type`,
        );
      }
      replaced.add(existing);
      registry.remove(existing);
      logger.info(`plugin ${e.plugin.name}: ${e.kind} "${def.type}" replaces ${registry.isBuiltin(existing) ? 'the built-in ' : ''}${e.kind} "${existing.type}" (it lists it in "replaces")`);
    }
    registry.register(guardPlugin({ ...def, aliases: [...aliases] } as ComponentDefinition, e.plugin.name), { plugin: true });
    logger.debug(`plugin ${e.plugin.name}: ${e.kind} ${[def.type, ...aliases].join(', ')} from ${e.file}`);
  }
}

/** Loads every component of every plugin (for `flume-ng plugins`, `help`, and embedders). */
export async function loadPlugins(registry: Registry, plugins: readonly FoundPlugin[], logger: Logger): Promise<void> {
  await loadEntries(registry, pluginEntries(plugins), logger);
}

/**
 * The entries a job names: those whose name appears as a value (or one item of a
 * comma- or space-separated list value) of any of the job's properties. Plugins the job
 * does not name are never imported, so an unused or broken package costs nothing.
 */
export function entriesNamed(entries: readonly PluginEntry[], values: Iterable<string>): PluginEntry[] {
  // Flume names an interceptor by its Builder class; either spelling names the plugin.
  const norm = (n: string): string => n.toLowerCase().replace(/\$builder$/, '');
  const words = new Set<string>();
  for (const v of values) for (const w of v.split(/[\s,]+/)) if (w) words.add(norm(w));
  return entries.filter((e) => e.names.some((n) => words.has(norm(n))));
}

let hooked = false;
function registerResolveHook(): void {
  if (hooked) return;
  hooked = true;
  register(new URL('./resolve-hook.js', import.meta.url));
  registerRequireHook();
}

/**
 * CommonJS plugins `require('flume-ts/plugin')` from wherever they live; the ES module
 * resolve hook above does not see require() on Node 20, so the CommonJS resolver is
 * taught the same two names.
 */
function registerRequireHook(): void {
  const ROOT = new URL('../../../', import.meta.url);
  const targets: Record<string, string> = {
    'flume-ts': new URL('dist/src/index.js', ROOT).pathname,
    'flume-ts/plugin': new URL('dist/src/plugin-api/index.js', ROOT).pathname,
  };
  const M = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = M._resolveFilename;
  M._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
    return targets[request] ?? original.call(this, request, ...rest);
  };
}
