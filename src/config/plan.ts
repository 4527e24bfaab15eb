import type { Context } from '../core/context.js';
import { ErrorCodes } from '../core/errors.js';
import { resolveOptions, specKeys, type OptionProblem, type OptionsSpec } from '../core/options.js';
import type {
  ComponentKind,
  DefinitionOf,
  ListenAddress,
  SourceDefinition,
  ChannelDefinition,
  SinkDefinition,
  SinkProcessorDefinition,
  SelectorDefinition,
  InterceptorDefinition,
  ValidationScope,
  ComponentLookup,
} from '../core/component.js';
import type { Registry } from '../registry/registry.js';
import { flumeType, unsupportedTypeMessage } from '../registry/flume-types.js';
import type { Diagnostic } from './diagnostics.js';
import type { AgentConfig, ComponentConfig } from './model.js';
import { didYouMean } from './suggest.js';

/** A component resolved to its definition, with checked options. */
export interface Planned<D> {
  name: string;
  def: D;
  options: Record<string, unknown>;
  context: Context;
}

export interface SourcePlan extends Planned<SourceDefinition> {
  channels: string[];
  selector: Planned<SelectorDefinition>;
  interceptors: Planned<InterceptorDefinition>[];
}
export interface SinkPlan extends Planned<SinkDefinition> {
  channel: string;
}
export interface SinkGroupPlan {
  name: string;
  sinks: string[];
  processor: Planned<SinkProcessorDefinition>;
}
export interface AgentPlan {
  name: string;
  channels: Planned<ChannelDefinition>[];
  sources: SourcePlan[];
  sinks: SinkPlan[];
  sinkgroups: SinkGroupPlan[];
}

const KIND_LABEL: Record<ComponentKind, string> = {
  source: 'source',
  channel: 'channel',
  sink: 'sink',
  sinkProcessor: 'sink processor',
  sinkSelector: 'sink selector',
  selector: 'channel selector',
  interceptor: 'interceptor',
  serializer: 'serializer',
  reporter: 'monitoring reporter',
  kafkaPartitioner: 'Kafka partitioner',
  kafkaInterceptor: 'Kafka producer interceptor',
  jmsConverter: 'JMS message converter',
};

/**
 * Resolves every component of the agent against the registry and checks its
 * options. Problems are collected, never thrown, so the user sees all of them at
 * once; the plan is usable only when no diagnostic is an error.
 */
export function planAgent(config: AgentConfig, registry: Registry): { plan: AgentPlan; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const plan: AgentPlan = { name: config.name, channels: [], sources: [], sinks: [], sinkgroups: [] };
  const channelNames = new Set(config.channels.map((c) => c.name));

  for (const c of config.channels) {
    const p = resolveComponent('channel', c.context, c, registry, diagnostics, ['type'], []);
    if (p) plan.channels.push(p);
  }

  const boundChannels = new Set<string>();
  for (const s of config.sources) {
    const ctx = s.context;
    const channelsRaw = ctx.getString('channels');
    const channels: string[] = [];
    if (!channelsRaw) {
      push(diagnostics, ctx, 'type', ErrorCodes.CONFIG_BINDING, `${ctx.prefix}channels is missing: source "${s.name}" must name the channel(s) it writes to`, s);
    } else {
      for (const ch of channelsRaw.split(/\s+/).filter(Boolean)) {
        if (channels.includes(ch)) {
          // Flume keeps a set of them; putting every event into the channel twice is never meant.
          push(diagnostics, ctx, 'channels', ErrorCodes.CONFIG_SYNTAX, `${ctx.fullKey('channels')} lists "${ch}" more than once; it is one channel`, undefined, 'warning');
        } else if (!channelNames.has(ch)) {
          push(diagnostics, ctx, 'channels', ErrorCodes.CONFIG_BINDING, `${ctx.fullKey('channels')}: channel "${ch}" is not declared in ${config.name}.channels${didYouMean(ch, channelNames)}`);
        } else {
          channels.push(ch);
          boundChannels.add(ch);
        }
      }
      if (ctx.containsKey('channel')) {
        push(diagnostics, ctx, 'channel', ErrorCodes.CONFIG_UNKNOWN_KEY, `${ctx.fullKey('channel')}: a source uses "channels" (plural)`, undefined, 'warning');
      }
    }
    const interceptorNames = (ctx.getString('interceptors') ?? '').split(/\s+/).filter(Boolean);
    const def = resolveComponent('source', ctx, s, registry, diagnostics, ['type', 'channels'], ['selector.', 'interceptors.'], ['interceptors']);

    const selCtx = ctx.subProperties('selector.');
    const selType = selCtx.getString('type') ?? 'replicating';
    const selector = resolveComponent('selector', selCtx, s, registry, diagnostics, ['type'], [], [], selType, { channels: (channelsRaw ?? '').split(/\s+/).filter(Boolean) });

    const interceptors: Planned<InterceptorDefinition>[] = [];
    for (const iname of interceptorNames) {
      const ictx = ctx.subProperties(`interceptors.${iname}.`);
      if (!ictx.containsKey('type')) {
        push(diagnostics, ctx, 'interceptors', ErrorCodes.CONFIG_REQUIRED, `${ctx.prefix}interceptors.${iname}.type is missing: interceptor "${iname}" needs a type`);
        continue;
      }
      const ip = resolveComponent('interceptor', ictx, s, registry, diagnostics, ['type'], []);
      if (ip) interceptors.push({ ...ip, name: iname });
    }
    for (const k of ctx.keys()) {
      const m = /^interceptors\.([^.]+)\./.exec(k);
      if (m && !interceptorNames.includes(m[1]!)) {
        push(diagnostics, ctx, k, ErrorCodes.CONFIG_UNCONFIGURED, `${ctx.fullKey(k)}: interceptor "${m[1]}" is not listed in ${ctx.prefix}interceptors, so it is not used`, undefined, 'warning');
      }
    }
    if (def && selector && channels.length > 0) plan.sources.push({ ...def, channels, selector, interceptors });
  }

  const sinkNames = new Set<string>();
  for (const k of config.sinks) {
    const ctx = k.context;
    const ch = ctx.getString('channel');
    const def = resolveComponent('sink', ctx, k, registry, diagnostics, ['type', 'channel'], []);
    if (!ch) {
      push(
        diagnostics,
        ctx,
        'type',
        ErrorCodes.CONFIG_BINDING,
        `${ctx.prefix}channel is missing: sink "${k.name}" must name the one channel it takes from` + (ctx.containsKey('channels') ? ' (a sink uses "channel", singular)' : ''),
        k,
      );
      continue;
    }
    if (!channelNames.has(ch)) {
      push(diagnostics, ctx, 'channel', ErrorCodes.CONFIG_BINDING, `${ctx.fullKey('channel')}: channel "${ch}" is not declared in ${config.name}.channels${didYouMean(ch, channelNames)}`);
      continue;
    }
    boundChannels.add(ch);
    if (def) {
      plan.sinks.push({ ...def, channel: ch });
      sinkNames.add(k.name);
    }
  }

  const grouped = new Map<string, string>();
  for (const g of config.sinkgroups) {
    const ctx = g.context;
    const members = (ctx.getString('sinks') ?? '').split(/\s+/).filter(Boolean);
    if (members.length === 0) {
      push(diagnostics, ctx, 'sinks', ErrorCodes.CONFIG_REQUIRED, `${ctx.prefix}sinks is missing: sink group "${g.name}" must list its sinks`, g);
    }
    const sinks: string[] = [];
    for (const m of members) {
      if (!config.sinks.some((k) => k.name === m)) {
        push(
          diagnostics,
          ctx,
          'sinks',
          ErrorCodes.CONFIG_BINDING,
          `${ctx.fullKey('sinks')}: sink "${m}" is not declared in ${config.name}.sinks${didYouMean(
            m,
            config.sinks.map((k) => k.name),
          )}`,
        );
      } else if (grouped.get(m) === g.name) {
        push(diagnostics, ctx, 'sinks', ErrorCodes.CONFIG_SYNTAX, `${ctx.fullKey('sinks')} lists "${m}" more than once; it is one sink`, undefined, 'warning');
      } else if (grouped.has(m)) {
        push(diagnostics, ctx, 'sinks', ErrorCodes.CONFIG_BINDING, `${ctx.fullKey('sinks')}: sink "${m}" already belongs to sink group "${grouped.get(m)}"`);
      } else {
        grouped.set(m, g.name);
        if (sinkNames.has(m)) sinks.push(m);
      }
    }
    const pctx = ctx.subProperties('processor.');
    if (!pctx.containsKey('type')) {
      push(diagnostics, ctx, 'sinks', ErrorCodes.CONFIG_REQUIRED, `${ctx.prefix}processor.type is missing: sink group "${g.name}" needs a processor (default, failover or load_balance)`, g);
    }
    for (const k of ctx.keys()) {
      if (k !== 'sinks' && !k.startsWith('processor.')) {
        push(diagnostics, ctx, k, ErrorCodes.CONFIG_UNKNOWN_KEY, `${ctx.fullKey(k)}: unknown key for a sink group${didYouMean(k, ['sinks', 'processor.type'])}`, undefined, 'warning');
      }
    }
    const processor = pctx.containsKey('type') ? resolveComponent('sinkProcessor', pctx, g, registry, diagnostics, ['type'], [], [], undefined, { sinks: members }) : undefined;
    if (processor) {
      const min = processor.def.minSinks ?? 1;
      if (members.length > 0 && members.length < min) {
        push(diagnostics, ctx, 'sinks', ErrorCodes.CONFIG_VALUE, `${ctx.fullKey('sinks')}: a ${processor.def.type} sink group needs at least ${min} sinks`);
      }
      plan.sinkgroups.push({ name: g.name, sinks, processor });
    }
  }

  checkBatchSizes(plan, diagnostics);
  checkPorts(plan, config, diagnostics);

  for (const c of config.channels) {
    if (!boundChannels.has(c.name)) {
      push(diagnostics, c.context, 'type', ErrorCodes.CONFIG_BINDING, `channel "${c.name}" has no source or sink connected`, c, 'warning');
    }
  }
  return { plan, diagnostics };
}

function resolveComponent<K extends ComponentKind>(
  kind: K,
  ctx: Context,
  owner: ComponentConfig,
  registry: Registry,
  diagnostics: Diagnostic[],
  frameworkKeys: readonly string[],
  frameworkPrefixes: readonly string[],
  extraKeys: readonly string[] = [],
  typeOverride?: string,
  scope?: ValidationScope,
): Planned<DefinitionOf<K>> | undefined {
  const type = typeOverride ?? ctx.getString('type');
  if (!type) {
    push(diagnostics, ctx, 'type', ErrorCodes.CONFIG_REQUIRED, `${ctx.prefix}type is missing: ${KIND_LABEL[kind]} "${owner.name}" needs a type`, owner);
    return undefined;
  }
  const def = registry.lookup(kind, type);
  const flume = def ? undefined : flumeType(kind, type);
  if (flume) {
    push(diagnostics, ctx, 'type', ErrorCodes.CONFIG_UNSUPPORTED_TYPE, `${ctx.fullKey('type')}: ${unsupportedTypeMessage(flume, type)}`, owner);
    return undefined;
  }
  if (!def) {
    push(
      diagnostics,
      ctx,
      'type',
      ErrorCodes.CONFIG_UNKNOWN_TYPE,
      `${ctx.fullKey('type')}: unknown ${KIND_LABEL[kind]} type "${type}"${didYouMean(type, registry.names(kind))}; known types: ${registry.types(kind).join(', ')}` + pluginHint(type, registry),
      owner,
    );
    return undefined;
  }
  const { options, problems } = resolveOptions(def.options as OptionsSpec, ctx);
  // Cross-option checks need well-formed values; warnings (a deprecated spelling) do not stop them.
  if (!problems.some((p) => p.severity === 'error') && def.validate) problems.push(...def.validate(options as never, ctx, registry, scope));
  // A component may check the same thing twice (the Kafka channel's producer and consumer); say it once.
  const said = new Set<string>();
  for (const p of problems) {
    if (said.has(p.key + '\0' + p.message)) continue;
    said.add(p.key + '\0' + p.message);
    pushProblem(diagnostics, ctx, p, owner);
  }

  const known = new Set([...frameworkKeys, ...extraKeys, ...specKeys(def.options as OptionsSpec)]);
  const prefixes = [...frameworkPrefixes, ...(def.prefixes ?? [])];
  for (const k of ctx.keys()) {
    if (known.has(k) || prefixes.some((p) => k.startsWith(p))) continue;
    push(diagnostics, ctx, k, ErrorCodes.CONFIG_UNKNOWN_KEY, `${ctx.fullKey(k)}: unknown key for ${KIND_LABEL[kind]} type ${def.type}, ignored${didYouMean(k, known)}`, undefined, 'warning');
  }
  return { name: owner.name, def: def as DefinitionOf<K>, options: options as Record<string, unknown>, context: ctx };
}

function pushProblem(diagnostics: Diagnostic[], ctx: Context, p: OptionProblem, owner?: ComponentConfig): void {
  // A missing key has no line of its own: point at where the component is listed.
  const o = ctx.origin(p.key) ?? owner?.origin ?? firstOrigin(ctx);
  diagnostics.push({ severity: p.severity, code: p.code, message: p.message, file: o?.file, line: o?.line, key: o?.key ?? ctx.fullKey(p.key) });
}

function push(diagnostics: Diagnostic[], ctx: Context, key: string, code: string, message: string, fallback?: ComponentConfig, severity: 'error' | 'warning' = 'error'): void {
  const o = ctx.origin(key) ?? fallback?.origin ?? firstOrigin(ctx);
  diagnostics.push({ severity, code, message, file: o?.file, line: o?.line, key: ctx.origin(key)?.key ?? ctx.fullKey(key) });
}

function firstOrigin(ctx: Context) {
  for (const k of ctx.keys()) {
    const o = ctx.origin(k);
    if (o) return o;
  }
  return undefined;
}

/** The key of `option` the context actually sets (the option's name or one of its aliases). */
function keySet(ctx: Context, spec: OptionsSpec, option: string): string | undefined {
  const o = spec[option];
  return [option, ...(o?.aliases ?? []), ...(o?.deprecatedAliases ?? [])].find((k) => ctx.containsKey(k));
}

/**
 * Flume 1.9+ refuses a source or sink whose batch is larger than its channel's
 * transactionCapacity (checkSourceChannelCompatibility / checkSinkChannelCompatibility):
 * every put or take of a full batch would fail, forever. Channels without a
 * transactionCapacity option are not checked.
 */
function checkBatchSizes(plan: AgentPlan, diagnostics: Diagnostic[]): void {
  const channels = new Map(plan.channels.map((c) => [c.name, c]));
  const check = (p: Planned<SourceDefinition | SinkDefinition>, channelNames: readonly string[], label: string): void => {
    const option = p.def.batchOption;
    if (!option) return;
    const batch = p.options[option];
    if (typeof batch !== 'number') return;
    const batchKey = keySet(p.context, p.def.options as OptionsSpec, option) ?? option;
    for (const name of channelNames) {
      const ch = channels.get(name);
      if (!ch || !('transactionCapacity' in ch.def.options)) continue;
      const cap = ch.options.transactionCapacity;
      if (typeof cap !== 'number' || batch <= cap) continue;
      const o = p.context.origin(batchKey) ?? ch.context.origin('transactionCapacity') ?? p.context.origin('type');
      diagnostics.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_VALUE,
        file: o?.file,
        line: o?.line,
        key: p.context.fullKey(batchKey),
        message:
          `${p.context.fullKey(batchKey)} (${batch}) is larger than ${ch.context.fullKey('transactionCapacity')} (${cap}): ` +
          `every ${label === 'source' ? 'put' : 'take'} of a full batch would fail; lower the batch size or raise the channel's transactionCapacity (Flume refuses this too)`,
      });
    }
  };
  for (const s of plan.sources) check(s, s.channels, 'source');
  for (const k of plan.sinks) check(k, [k.channel], 'sink');
}

const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]', '*']);
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Whether two bind addresses can collide on one port: the same address, or a wildcard. */
function hostsOverlap(a: string, b: string): boolean {
  const x = a.trim().toLowerCase();
  const y = b.trim().toLowerCase();
  if (WILDCARD.has(x) || WILDCARD.has(y) || x === y) return true;
  return LOOPBACK.has(x) && LOOPBACK.has(y);
}

/** Two sources of the agent on one port (of one protocol) cannot both start; say so before anything starts. */
function checkPorts(plan: AgentPlan, config: AgentConfig, diagnostics: Diagnostic[]): void {
  const taken: { addr: ListenAddress; source: SourcePlan }[] = [];
  for (const s of plan.sources) {
    if (!s.def.listens) continue;
    let addrs: readonly ListenAddress[];
    try {
      addrs = s.def.listens(s.options as never);
    } catch {
      continue;
    }
    for (const addr of addrs) {
      if (!addr.port) continue; // 0: the system picks a free port
      const other = taken.find((t) => t.addr.protocol === addr.protocol && t.addr.port === addr.port && hostsOverlap(t.addr.host, addr.host));
      if (other) {
        const ctx = s.context;
        const where = other.source.context.origin('port');
        push(
          diagnostics,
          ctx,
          'port',
          ErrorCodes.CONFIG_BINDING,
          `${ctx.fullKey('port')}: ${addr.protocol} port ${addr.port} on ${addr.host} is also where source "${other.source.name}" listens ` +
            `(${other.source.context.fullKey('port')}${where ? ` at ${where.file}:${where.line}` : ''}, bind ${other.addr.host}); two sources cannot listen on one port`,
          config.sources.find((c) => c.name === s.name),
        );
      }
      taken.push({ addr, source: s });
    }
  }
}

/** A type that looks like a Java class name is probably a plugin: say where plugins are looked for. */
export function pluginHint(type: string, registry: ComponentLookup & { pluginSearch?: string }): string {
  if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/.test(type.trim())) return '';
  return (
    `; "${type}" looks like a class name: custom components are npm packages (see docs/plugins.md); ` +
    (registry.pluginSearch ?? 'plugins are looked for in plugins.d beside -c <conf>, in --plugins-path directories and in node_modules')
  );
}
