// Helpers shared by the channel selector unit tests (src/selectors/*.test.ts).
import assert from 'node:assert/strict';
import { Context } from '../../src/core/context.js';
import { silentLogger } from '../../src/core/logger.js';
import { resolveOptions } from '../../src/core/options.js';
import { withTransaction } from '../../src/core/transaction.js';
import type { Channel } from '../../src/core/channel.js';
import type { ChannelSelector } from '../../src/core/routing.js';
import type { SelectorDefinition } from '../../src/core/component.js';
import { builtinRegistry } from '../../src/builtins.js';
import { MemoryChannel, options as memoryOptions } from '../../src/channels/memory.js';

/** Memory channels of capacity 100 whose full commits fail at once (keep-alive 0). */
export function channels(...names: string[]): MemoryChannel[] {
  return names.map((n) => new MemoryChannel(n, resolveOptions(memoryOptions, new Context({ capacity: '100', 'keep-alive': '0' })).options));
}

/** A selector of source r1 built from `props` (its keys without the selector prefix); they must check clean. */
export function selector(def: SelectorDefinition, chans: Channel[], props: Record<string, string>): ChannelSelector {
  const ctx = new Context(props, new Map(), 'a1.sources.r1.selector.');
  const { options, problems } = resolveOptions(def.options, ctx);
  problems.push(...(def.validate?.(options, ctx, builtinRegistry()) ?? []));
  assert.deepEqual(problems, []);
  return def.create({ name: 'r1', options, context: ctx, logger: silentLogger, registry: builtinRegistry(), channels: chans });
}

export const names = (cs: readonly Channel[]): string[] => cs.map((c) => c.name);

/** Takes (and commits) up to 100 events; their bodies as text. */
export async function drain(ch: Channel): Promise<string[]> {
  return (await withTransaction(ch, (tx) => tx.take(100))).map((e) => e.body.toString());
}
