/**
 * A component's reference, made from its declaration (type, aliases, description and
 * `opt.*` specs): the text `flume-ng help <type>` prints and the pages of
 * docs/components/ (`npm run docs`). One source, so the two cannot disagree with the code.
 */
import type { ComponentDefinition, ComponentKind } from '../core/component.js';
import type { OptionSpec, OptionsSpec } from '../core/options.js';

export const KIND_TITLE: Record<ComponentKind, string> = {
  source: 'Sources',
  channel: 'Channels',
  sink: 'Sinks',
  sinkProcessor: 'Sink processors',
  sinkSelector: 'Sink selectors',
  selector: 'Channel selectors',
  interceptor: 'Interceptors',
  serializer: 'Serializers',
  reporter: 'Monitoring reporters',
  kafkaPartitioner: 'Kafka partitioners',
  kafkaInterceptor: 'Kafka producer interceptors',
  jmsConverter: 'JMS message converters',
};
const KIND_ORDER = Object.keys(KIND_TITLE) as ComponentKind[];

export interface OptionRow {
  key: string;
  kind: string;
  default: string;
  range: string;
  description: string;
}

function show(v: unknown): string {
  if (v === undefined) return '';
  if (Array.isArray(v)) return v.join(' ');
  return String(v);
}

export function optionRows(options: OptionsSpec): OptionRow[] {
  return Object.entries(options).map(([key, o]: [string, OptionSpec<unknown>]) => {
    const unit = o.unit ? ` ${o.unit}` : '';
    const range: string[] = [];
    if (o.min !== undefined || o.max !== undefined) range.push(`${o.min ?? ''}..${o.max ?? ''}${unit}`);
    if (o.values) range.push(o.values.join(' | '));
    let def = o.required ? '(required)' : o.secret ? '' : show(o.default);
    if (def !== '' && def !== '(required)') def += unit;
    const also = [...(o.aliases ?? []), ...(o.deprecatedAliases ?? []).map((a) => `${a} (deprecated)`)];
    const description = o.description + (also.length ? ` Also read as: ${also.join(', ')}.` : '') + (o.secret ? ' Never printed.' : '');
    return { key, kind: o.kind + (o.unit ? ` (${o.unit})` : ''), default: def, range: range.join('; '), description };
  });
}

/** What `flume-ng help <type>` prints. */
export function componentText(def: ComponentDefinition, origin = 'built-in'): string {
  const lines = [`${def.type} (${def.kind}, ${origin})`];
  if (def.aliases?.length) lines.push(`  also: ${def.aliases.join(', ')}`);
  lines.push(`  ${def.description}`, '');
  const rows = optionRows(def.options as OptionsSpec);
  if (rows.length === 0) lines.push('  (no options)');
  for (const r of rows) {
    lines.push(`  ${r.key}  ${r.kind}${r.default !== '' ? `, default ${r.default}` : ''}${r.range ? `, ${r.range}` : ''}`);
    lines.push(`      ${r.description}`);
  }
  if (def.prefixes?.length) lines.push('', `  also reads keys under: ${def.prefixes.join(', ')}`);
  return lines.join('\n') + '\n';
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function slug(def: ComponentDefinition): string {
  return `${def.kind}-${def.type.replace(/[^A-Za-z0-9_.-]+/g, '_')}`;
}

export function componentMarkdown(def: ComponentDefinition): string {
  const lines = [`# ${def.type}`, '', `${KIND_TITLE[def.kind].replace(/s$/, '')} · generated from the declaration by \`npm run docs\`; do not edit.`, '', def.description, ''];
  if (def.aliases?.length) lines.push(`Also named: ${def.aliases.map((a) => `\`${a}\``).join(', ')}`, '');
  const rows = optionRows(def.options as OptionsSpec);
  if (rows.length === 0) lines.push('No options.');
  else {
    lines.push('| Key | Kind | Default | Range | Description |', '|---|---|---|---|---|');
    for (const r of rows) lines.push(`| \`${cell(r.key)}\` | ${cell(r.kind)} | ${cell(r.default)} | ${cell(r.range)} | ${cell(r.description)} |`);
  }
  if (def.prefixes?.length) lines.push('', `Also reads keys under: ${def.prefixes.map((p) => `\`${p}\``).join(', ')}.`);
  return lines.join('\n') + '\n';
}

/** Every page of docs/components/: one per component, and an index. */
export function docsPages(defs: readonly ComponentDefinition[]): Map<string, string> {
  const pages = new Map<string, string>();
  const sorted = [...defs].sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.type.localeCompare(b.type));
  const index = ['# Components', '', "Generated from the components' declarations by `npm run docs`; `flume-ng help <type>` prints the same.", ''];
  let kind: ComponentKind | undefined;
  for (const d of sorted) {
    if (d.kind !== kind) {
      kind = d.kind;
      index.push('', `## ${KIND_TITLE[kind]}`, '', '| Type | Also | Description |', '|---|---|---|');
    }
    const file = `${slug(d)}.md`;
    index.push(`| [\`${cell(d.type)}\`](${file}) | ${cell((d.aliases ?? []).join(', '))} | ${cell(d.description)} |`);
    pages.set(file, componentMarkdown(d));
  }
  pages.set('README.md', index.join('\n').replace(/\n{3,}/g, '\n\n') + '\n');
  return pages;
}
