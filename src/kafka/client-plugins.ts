/**
 * Kafka client plugins named by a producer's properties, as the Java client loads them by
 * class name: `kafka.producer.partitioner.class` (one partitioner) and
 * `kafka.producer.interceptor.classes` (producer interceptors, run in the order listed).
 * Each is configured from the producer's `kafka.producer.*` properties, as the Java
 * client passes them to configure(Map).
 */
import type { PartitionerArgs } from 'kafkajs';
import {
  ErrorCodes,
  FlumeError,
  resolveOptions,
  throwOnErrors,
  type ComponentLookup,
  type Context,
  type KafkaPartitioner,
  type KafkaProducerInterceptor,
  type KafkaRecord,
  type Logger,
  type OptionProblem,
  type OptionsSpec,
} from '../plugin-api/index.js';
import type { KafkaSettings } from './client-options.js';

const WHERE = 'a plugin package providing it (see docs/plugins.md; `flume-ng plugins` lists what is found)';

/** Errors for names no plugin provides, for the sink's validate(). */
export function clientPluginProblems(s: KafkaSettings, ctx: Context, registry: ComponentLookup): OptionProblem[] {
  const problems: OptionProblem[] = [];
  if (s.partitionerClass && !registry.lookup('kafkaPartitioner', s.partitionerClass)) {
    const key = 'kafka.producer.partitioner.class';
    problems.push({ severity: 'error', code: ErrorCodes.CONFIG_UNKNOWN_TYPE, key, message: `${ctx.fullKey(key)}: no Kafka partitioner "${s.partitionerClass}": install ${WHERE}` });
  }
  for (const c of s.interceptorClasses ?? []) {
    if (registry.lookup('kafkaInterceptor', c)) continue;
    const key = 'kafka.producer.interceptor.classes';
    problems.push({ severity: 'error', code: ErrorCodes.CONFIG_UNKNOWN_TYPE, key, message: `${ctx.fullKey(key)}: no Kafka producer interceptor "${c}": install ${WHERE}` });
  }
  return problems;
}

export interface ClientPlugins {
  partitioner?: KafkaPartitioner;
  interceptors: KafkaProducerInterceptor[];
  close(): Promise<void>;
}

export function createClientPlugins(s: KafkaSettings, ctx: Context, registry: ComponentLookup, name: string, logger: Logger): ClientPlugins {
  const producerCtx = ctx.subProperties('kafka.producer.');
  const build = <T>(kind: 'kafkaPartitioner' | 'kafkaInterceptor', type: string): T => {
    const def = registry.lookup(kind, type);
    if (!def) throw new FlumeError(ErrorCodes.CONFIG_UNKNOWN_TYPE, `no ${kind === 'kafkaPartitioner' ? 'Kafka partitioner' : 'Kafka producer interceptor'} "${type}"`);
    const { options, problems } = resolveOptions(def.options as OptionsSpec, producerCtx);
    throwOnErrors(producerCtx, problems);
    return def.create({ name, options: options as never, context: producerCtx, logger: logger.child(def.type), registry }) as T;
  };
  const partitioner = s.partitionerClass ? build<KafkaPartitioner>('kafkaPartitioner', s.partitionerClass) : undefined;
  const interceptors = (s.interceptorClasses ?? []).map((c) => build<KafkaProducerInterceptor>('kafkaInterceptor', c));
  return {
    partitioner,
    interceptors,
    async close() {
      for (const i of interceptors) {
        try {
          await i.close?.();
        } catch (err) {
          logger.error(`Kafka producer interceptor of ${name}: close failed: ${(err as Error).message}`);
        }
      }
      await partitioner?.close?.();
    },
  };
}

/** A kafkajs partitioner that asks the plugin, checking its answer. */
export function kafkajsPartitioner(p: KafkaPartitioner): () => (args: PartitionerArgs) => number {
  return () =>
    ({ topic, partitionMetadata, message }) => {
      const count = partitionMetadata.length;
      const record: KafkaRecord = { topic, key: message.key ?? null, value: message.value ?? null };
      const n = p.partition(record, count);
      if (!Number.isInteger(n) || n < 0 || n >= count) {
        throw new FlumeError(ErrorCodes.SINK_DELIVERY, `the Kafka partitioner chose partition ${n} of topic ${topic}, which has partitions 0..${count - 1}`);
      }
      return n;
    };
}
