import type { ComponentDefinition } from './core/component.js';
import { createRegistry, type Registry } from './registry/registry.js';
import sources from './sources/index.js';
import channels from './channels/index.js';
import sinks from './sinks/index.js';
import selectors from './selectors/index.js';
import interceptors from './interceptors/index.js';
import processors from './processors/index.js';
import serializers from './serializers/index.js';
import reporters from './monitoring/index.js';

/** Every component that ships with flume-ts, from each kind's index. */
export const builtins: readonly ComponentDefinition[] = [...sources, ...channels, ...sinks, ...selectors, ...interceptors, ...processors, ...serializers, ...reporters];

export function builtinRegistry(): Registry {
  return createRegistry(builtins);
}
