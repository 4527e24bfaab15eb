/**
 * The API for component authors, published as `flume-ts/plugin`. Built-in
 * components use exactly this surface; a plugin package exports a definition made
 * with one of the define* functions as its default export and names it in the
 * `flume` field of its package.json.
 */
export type { FlumeEvent } from '../core/event.js';
export { createEvent, SlicedEvent, bodyLength } from '../core/event.js';
export { Context, type PropertyOrigin } from '../core/context.js';
export { opt, resolveOptions, specKeys, throwOnErrors, type OptionSpec, type OptionsSpec, type Options, type OptionProblem } from '../core/options.js';
export {
  defineSource,
  defineChannel,
  defineSink,
  defineSinkProcessor,
  defineSinkSelector,
  defineSelector,
  defineInterceptor,
  defineSerializer,
  defineReporter,
  type ComponentDefinition,
  type ComponentKind,
  type ComponentLookup,
  type SourceDefinition,
  type ChannelDefinition,
  type SinkDefinition,
  type SinkProcessorDefinition,
  type SelectorDefinition,
  type InterceptorDefinition,
  type SerializerDefinition,
  type SinkSelectorDefinition,
  type ValidationScope,
  type ListenAddress,
  defineKafkaPartitioner,
  defineJmsConverter,
  type JmsConverterDefinition,
  type JmsMessage,
  type JmsMessageConverter,
  defineKafkaInterceptor,
  type KafkaPartitionerDefinition,
  type KafkaInterceptorDefinition,
  type KafkaPartitioner,
  type KafkaProducerInterceptor,
  type KafkaRecord,
  type KafkaClientInit,
  type ReporterDefinition,
  type ReporterInit,
  type Reporter,
  type SourceInit,
  type ChannelInit,
  type SinkInit,
  type SinkProcessorInit,
  type SinkSelectorInit,
  type SelectorInit,
  type InterceptorInit,
  type SerializerInit,
} from '../core/component.js';
export type { Transaction } from '../core/transaction.js';
export { BaseTransaction, withTransaction } from '../core/transaction.js';
export type { Channel } from '../core/channel.js';
export { AvailabilitySignal } from '../core/channel.js';
export type { ChannelProcessor } from '../core/channel-processor.js';
export type { ChannelSelector, Interceptor } from '../core/routing.js';
export type { EventDrivenSource, PollableSource, Source } from '../core/source.js';
export type { Sink, SinkProcessor, SinkSelector } from '../core/sink.js';
export { DefaultSinkProcessor } from '../core/sink.js';
export type { EventSerializer } from '../core/serializer.js';
export type { Lifecycle, Status } from '../core/lifecycle.js';
export { sleep } from '../core/lifecycle.js';
export { raceAbort } from '../core/lifecycle.js';
export { systemProperty } from '../core/system-properties.js';
export type { Logger } from '../core/logger.js';
export { SourceCounter, SinkCounter, ChannelCounter, CounterGroup, ChannelProcessorCounter, type CounterType } from '../core/counters.js';
export { FlumeError, ChannelError, ChannelFullError, ConfigError, ErrorCodes } from '../core/errors.js';
// Utilities the built-in components share, for plugins as well.
export { Deque } from '../core/deque.js';
export { dumpEvent, javaMapString } from '../core/hexdump.js';
export { EscapedString, type EscapeOptions } from '../formatting/escape.js';
export { setLongTimeout, MAX_TIMER_MS, type LongTimer } from '../core/timers.js';
export { RateLimitedLog } from '../core/rate-limit.js';
export type { MonitoredAgent, HealthReport, ComponentHealth } from '../core/health.js';
