import type { ComponentDefinition, ComponentKind, ComponentLookup, DefinitionOf } from '../core/component.js';
import { FlumeError, ErrorCodes } from '../core/errors.js';

/**
 * Maps each `type` value — Flume's alias or Java class name, or a plugin's name —
 * to a component definition. Registries are values: tests and embedders build their
 * own with `createRegistry()`, `with()` and `without()`.
 */
export class Registry implements ComponentLookup {
  private readonly byKind = new Map<ComponentKind, Map<string, ComponentDefinition>>();
  private readonly fromPlugins = new WeakSet<ComponentDefinition>();
  /** Where plugins were looked for, said when a job names a type nothing provides. */
  pluginSearch?: string;

  /** Register a definition under its type and aliases. A name taken twice throws unless `replace`. */
  register(def: ComponentDefinition, opts: { replace?: boolean; plugin?: boolean } = {}): this {
    if (opts.plugin) this.fromPlugins.add(def);
    let table = this.byKind.get(def.kind);
    if (!table) this.byKind.set(def.kind, (table = new Map()));
    for (const name of [def.type, ...(def.aliases ?? [])]) {
      const key = name.toLowerCase();
      const existing = table.get(key);
      if (existing && existing !== def && !opts.replace) {
        throw new FlumeError(ErrorCodes.REGISTRY_DUPLICATE, `${def.kind} type "${name}" is already registered (pass replace: true to override it)`);
      }
      table.set(key, def);
    }
    return this;
  }

  /** Drop a definition under every one of its names. */
  remove(def: ComponentDefinition): this {
    const table = this.byKind.get(def.kind);
    if (table) for (const [k, d] of [...table]) if (d === def) table.delete(k);
    return this;
  }

  /** Whether a definition ships with flume-ts (not registered by a plugin). */
  isBuiltin(def: ComponentDefinition): boolean {
    return !this.fromPlugins.has(def);
  }

  /** Flume upper-cases aliases before lookup, so they match in any case; so do we. */
  lookup<K extends ComponentKind>(kind: K, type: string): DefinitionOf<K> | undefined {
    return this.byKind.get(kind)?.get(type.trim().toLowerCase()) as DefinitionOf<K> | undefined;
  }

  /** The primary type names of a kind, for suggestions and docs. */
  types(kind: ComponentKind): string[] {
    const defs = new Set(this.byKind.get(kind)?.values() ?? []);
    return [...defs].map((d) => d.type).sort();
  }

  /** Every name (types and aliases) of a kind. */
  names(kind: ComponentKind): string[] {
    const defs = new Set(this.byKind.get(kind)?.values() ?? []);
    return [...defs].flatMap((d) => [d.type, ...(d.aliases ?? [])]);
  }

  definitions(): ComponentDefinition[] {
    const all = new Set<ComponentDefinition>();
    for (const t of this.byKind.values()) for (const d of t.values()) all.add(d);
    return [...all];
  }

  /** A copy with more definitions. */
  with(...defs: ComponentDefinition[]): Registry {
    const r = this.clone();
    for (const d of defs) r.register(d, { replace: true });
    return r;
  }

  /** A copy without the named types of a kind. */
  without(kind: ComponentKind, ...types: string[]): Registry {
    const drop = new Set(types.map((t) => this.lookup(kind, t)).filter(Boolean));
    const r = new Registry();
    r.pluginSearch = this.pluginSearch;
    for (const d of this.definitions()) if (!drop.has(d)) r.register(d, { plugin: this.fromPlugins.has(d) });
    return r;
  }

  clone(): Registry {
    const r = new Registry();
    r.pluginSearch = this.pluginSearch;
    for (const d of this.definitions()) r.register(d, { plugin: this.fromPlugins.has(d) });
    return r;
  }
}

export function createRegistry(defs: readonly ComponentDefinition[] = []): Registry {
  const r = new Registry();
  for (const d of defs) r.register(d);
  return r;
}
