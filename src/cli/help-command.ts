import type { Command } from 'commander';
import { silentLogger } from '../core/logger.js';
import { componentText } from '../docs/component-docs.js';
import { buildRegistry, type PluginSearchOptions } from './setup.js';

/**
 * `flume-ng help [command | type]`: a command's usage, or a component's keys, defaults,
 * ranges and descriptions (built-in or plugin), from its declaration.
 */
export async function runHelp(program: Command, topic: string | undefined, o: PluginSearchOptions): Promise<number> {
  if (!topic) {
    program.outputHelp();
    return 0;
  }
  const cmd = program.commands.find((c) => c.name() === topic || c.aliases().includes(topic));
  if (cmd) {
    cmd.outputHelp();
    return 0;
  }
  const registry = await buildRegistry({ ...o, all: true }, silentLogger);
  const wanted = topic.trim().toLowerCase();
  const defs = registry.definitions().filter((d) => [d.type, ...(d.aliases ?? [])].some((n) => n.toLowerCase() === wanted));
  if (defs.length === 0) {
    process.stderr.write(`flume-ng: no command or component type "${topic}"; see docs/components/README.md for the built-in types, and \`flume-ng plugins\` for plugins\n`);
    return 1;
  }
  process.stdout.write(defs.map((d) => componentText(d, registry.isBuiltin(d) ? 'built-in' : 'plugin')).join('\n'));
  return 0;
}
