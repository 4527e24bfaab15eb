import { Context, type PropertyOrigin } from '../core/context.js';
import { ErrorCodes } from '../core/errors.js';
import type { Diagnostic } from './diagnostics.js';
import type { Property } from './properties.js';
import { didYouMean } from './suggest.js';

export type SectionKind = 'sources' | 'channels' | 'sinks' | 'sinkgroups';
const SECTIONS: readonly SectionKind[] = ['sources', 'channels', 'sinks', 'sinkgroups'];

/** One component of the agent as the job file describes it. */
export interface ComponentConfig {
  section: SectionKind;
  name: string;
  /** Its properties with `<agent>.<section>.<name>.` removed. */
  context: Context;
  /** Where it was listed (`a1.sources = r1`), or its first property. */
  origin: PropertyOrigin | undefined;
}

export interface AgentConfig {
  name: string;
  sources: ComponentConfig[];
  channels: ComponentConfig[];
  sinks: ComponentConfig[];
  sinkgroups: ComponentConfig[];
}

/**
 * Picks the properties of one agent out of the file(s) and groups them by component
 * (Flume's namespace grammar). Reports, all at once: an agent the file does not
 * define, a listed component never configured, a configured one never listed, keys
 * outside the grammar.
 */
export function buildAgentConfig(props: readonly Property[], agent: string): { config: AgentConfig | undefined; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const prefix = agent + '.';
  const mine = props.filter((p) => p.key.startsWith(prefix));
  if (mine.length === 0) {
    const agents = [...new Set(props.map((p) => p.key.split('.')[0]!).filter(Boolean))];
    const files = [...new Set(props.map((p) => p.file))];
    diagnostics.push({
      severity: 'error',
      code: ErrorCodes.CONFIG_NO_AGENT,
      file: files[0],
      message:
        `agent "${agent}" is not defined in ${files.join(', ') || 'the configuration'}` + (agents.length ? `; it defines ${agents.map((a) => `"${a}"`).join(', ')}${didYouMean(agent, agents)}` : ''),
    });
    return { config: undefined, diagnostics };
  }

  const lists = new Map<SectionKind, { names: string[]; origin: Property }>();
  const compProps = new Map<string, Map<string, Property>>(); // "<section>.<name>" -> key -> prop
  for (const p of mine) {
    const rest = p.key.slice(prefix.length);
    const dot = rest.indexOf('.');
    const head = dot < 0 ? rest : rest.slice(0, dot);
    // Config filters were applied to the values already (config/resolve.ts).
    if (head === 'configfilters') continue;
    if (!SECTIONS.includes(head as SectionKind)) {
      diagnostics.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_UNKNOWN_KEY,
        file: p.file,
        line: p.line,
        key: p.key,
        message: `${p.key}: "${head}" is not a section of an agent (expected sources, channels, sinks or sinkgroups)${didYouMean(head, SECTIONS)}`,
      });
      continue;
    }
    const section = head as SectionKind;
    if (dot < 0) {
      const written = p.value.split(/\s+/).filter(Boolean);
      const names = [...new Set(written)];
      for (const twice of names.filter((n) => written.indexOf(n) !== written.lastIndexOf(n))) {
        diagnostics.push({
          severity: 'warning',
          code: ErrorCodes.CONFIG_SYNTAX,
          file: p.file,
          line: p.line,
          key: p.key,
          message: `${p.key} lists "${twice}" more than once; it is one ${section.slice(0, -1)} (a typo for another name?)`,
        });
      }
      lists.set(section, { names, origin: p });
      continue;
    }
    const after = rest.slice(dot + 1);
    const dot2 = after.indexOf('.');
    if (dot2 <= 0 || dot2 === after.length - 1) {
      diagnostics.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_SYNTAX,
        file: p.file,
        line: p.line,
        key: p.key,
        message: `${p.key}: expected ${agent}.${section}.<name>.<key>`,
      });
      continue;
    }
    const id = `${section}.${after.slice(0, dot2)}`;
    let m = compProps.get(id);
    if (!m) compProps.set(id, (m = new Map()));
    m.set(after.slice(dot2 + 1), p);
  }

  const config: AgentConfig = { name: agent, sources: [], channels: [], sinks: [], sinkgroups: [] };
  for (const section of SECTIONS) {
    const list = lists.get(section);
    for (const name of list?.names ?? []) {
      const m = compProps.get(`${section}.${name}`);
      const listedAt = list ? { file: list.origin.file, line: list.origin.line, key: list.origin.key } : undefined;
      if (!m || m.size === 0) {
        const configured = [...compProps.keys()].filter((k) => k.startsWith(section + '.')).map((k) => k.slice(section.length + 1));
        diagnostics.push({
          severity: 'error',
          code: ErrorCodes.CONFIG_UNCONFIGURED,
          file: listedAt?.file,
          line: listedAt?.line,
          key: listedAt?.key,
          message: `${agent}.${section} lists "${name}" but no ${agent}.${section}.${name}.* property configures it${didYouMean(name, configured)}`,
        });
        continue;
      }
      const values = new Map<string, string>();
      const origins = new Map<string, PropertyOrigin>();
      for (const [k, p] of m) {
        values.set(k, p.value);
        origins.set(k, { file: p.file, line: p.line, key: p.key, ...(p.secret ? { secret: true } : {}) });
      }
      config[section].push({
        section,
        name,
        context: new Context(values, origins, `${agent}.${section}.${name}.`),
        origin: listedAt,
      });
    }
    for (const id of compProps.keys()) {
      if (!id.startsWith(section + '.')) continue;
      const name = id.slice(section.length + 1);
      if (list?.names.includes(name)) continue;
      const first = [...compProps.get(id)!.values()][0]!;
      diagnostics.push({
        severity: 'warning',
        code: ErrorCodes.CONFIG_UNCONFIGURED,
        file: first.file,
        line: first.line,
        key: first.key,
        message: `${first.key}: ${section.slice(0, -1)} "${name}" is configured but not listed in ${agent}.${section}, so it is not used${didYouMean(name, list?.names ?? [])}`,
      });
    }
  }

  const channelsList = lists.get('channels');
  if (!channelsList || channelsList.names.length === 0) {
    diagnostics.push({
      severity: 'error',
      code: ErrorCodes.CONFIG_REQUIRED,
      file: mine[0]!.file,
      key: `${agent}.channels`,
      message: `${agent}.channels is missing: an agent needs at least one channel`,
    });
  }
  if (!lists.get('sources')?.names.length && !lists.get('sinks')?.names.length) {
    diagnostics.push({ severity: 'error', code: ErrorCodes.CONFIG_REQUIRED, file: mine[0]!.file, key: `${agent}.sources`, message: `${agent} has neither sources nor sinks` });
  }
  return { config, diagnostics };
}
