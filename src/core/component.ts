import type { Context } from './context.js';
import type { FlumeEvent } from './event.js';
import type { Logger } from './logger.js';
import type { OptionsSpec, Options, OptionProblem } from './options.js';
import type { Channel } from './channel.js';
import type { ChannelProcessor } from './channel-processor.js';
import type { Source } from './source.js';
import type { Sink, SinkProcessor, SinkSelector } from './sink.js';
import type { ChannelSelector, Interceptor } from './routing.js';
import type { EventSerializer } from './serializer.js';
import type { SourceCounter, SinkCounter } from './counters.js';
import type { MonitoredAgent } from './health.js';

/** What a component is wired to, for checks that need it (a selector's channels, a group's sinks). */
export interface ValidationScope {
  /** The names of the source's channels (selectors). */
  channels?: readonly string[];
  /** The names of the group's sinks (sink processors, sink selectors). */
  sinks?: readonly string[];
}

/** An address a source binds. */
export interface ListenAddress {
  host: string;
  port: number;
  protocol: 'tcp' | 'udp';
}

export type ComponentKind =
  | 'source'
  | 'channel'
  | 'sink'
  | 'sinkProcessor'
  | 'sinkSelector'
  | 'selector'
  | 'interceptor'
  | 'serializer'
  | 'reporter'
  | 'kafkaPartitioner'
  | 'kafkaInterceptor'
  | 'jmsConverter';

/** What every component is handed when it is built. */
export interface InitBase<S extends OptionsSpec> {
  /** The component's name in the job file (`r1`, `c1`, `k1`). */
  readonly name: string;
  /** The declared options, checked and defaulted. */
  readonly options: Options<S>;
  /** Every property of the component with its prefix removed, for sub-keys it reads itself. */
  readonly context: Context;
  readonly logger: Logger;
  /** Look up another component definition (serializers for a sink, ...). */
  readonly registry: ComponentLookup;
}

export interface SourceInit<S extends OptionsSpec> extends InitBase<S> {
  readonly processor: ChannelProcessor;
  readonly counter: SourceCounter;
}
export type ChannelInit<S extends OptionsSpec> = InitBase<S>;
export interface SinkInit<S extends OptionsSpec> extends InitBase<S> {
  readonly channel: Channel;
  readonly counter: SinkCounter;
}
export interface SinkProcessorInit<S extends OptionsSpec> extends InitBase<S> {
  readonly sinks: readonly Sink[];
}
export interface SinkSelectorInit<S extends OptionsSpec> extends InitBase<S> {
  readonly sinks: readonly Sink[];
}
export interface SelectorInit<S extends OptionsSpec> extends InitBase<S> {
  /** The source's channels, in the order the job file lists them. */
  readonly channels: readonly Channel[];
}
export type InterceptorInit<S extends OptionsSpec> = InitBase<S>;
/** A monitoring reporter is handed the running agent; its options are the `flume.monitoring.*` settings. */
export interface ReporterInit<S extends OptionsSpec> extends InitBase<S> {
  readonly agent: MonitoredAgent;
}
/** A running reporter (`flume.monitoring.type`), stopped after the agent. */
export interface Reporter {
  /** What it serves or sends, for the start-up log line. */
  readonly description: string;
  stop(): void | Promise<void>;
}
export type SerializerInit<S extends OptionsSpec> = InitBase<S>;

/** A record a Kafka producer is about to send (kafka.producer.partitioner.class, interceptor.classes). */
export interface KafkaRecord {
  topic: string;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, string | Buffer>;
  /** Set by the job's partitionIdHeader/defaultPartitionId; a partitioner is not asked then. */
  partition?: number;
}
/** Picks a record's partition, as Kafka's Partitioner (`kafka.producer.partitioner.class`). */
export interface KafkaPartitioner {
  /** The partition (0 .. partitionCount - 1) for the record. */
  partition(record: KafkaRecord, partitionCount: number): number;
  close?(): void | Promise<void>;
}
/** Sees each record before it is sent and each acknowledgement, as Kafka's ProducerInterceptor (`kafka.producer.interceptor.classes`). */
export interface KafkaProducerInterceptor {
  /** The record to send instead (or the same one, changed). */
  onSend(record: KafkaRecord): KafkaRecord;
  /** Called once per record: with where it was written, or with the error that failed its send. */
  onAcknowledgement?(metadata: { topic: string; partition: number } | undefined, error?: Error): void;
  close?(): void | Promise<void>;
}
/** A JMS message as the jms source received it. */
export interface JmsMessage {
  /** Every header the broker sent: the message properties and the JMS/STOMP headers (message-id, destination, ...). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** A text message (its body is UTF-8), rather than a bytes message. */
  readonly text: boolean;
}
/** Turns a JMS message into events, as Flume's JMSMessageConverter (`converter.type`). Throwing refuses the message (NACK). */
export interface JmsMessageConverter {
  convert(message: JmsMessage): FlumeEvent[];
}
/** A converter is configured from the source's `converter.*` keys. */
export type JmsConverterInit<S extends OptionsSpec> = InitBase<S>;

/** Kafka client plugins are configured from the producer's `kafka.producer.*` properties, as the Java client's configure(Map). */
export type KafkaClientInit<S extends OptionsSpec> = InitBase<S>;

interface DefinitionBase<K extends ComponentKind, S extends OptionsSpec> {
  readonly kind: K;
  /** Flume's type alias (`memory`, `netcat`, `file_roll`); matched case-insensitively. */
  readonly type: string;
  /** Other names that resolve here, usually Flume's Java class names. */
  readonly aliases?: readonly string[];
  readonly description: string;
  readonly options: S;
  /**
   * The option holding how many events the component puts into (source) or takes from
   * (sink) its channel in one transaction. The planner refuses a value larger than the
   * channel's transactionCapacity, as Flume 1.9+ does at start.
   */
  readonly batchOption?: string;
  /**
   * The addresses the component will listen on, so the planner can refuse two
   * components on one port before anything starts (Vector's `resources()`).
   */
  listens?(options: Options<S>): readonly ListenAddress[];
  /** Key prefixes the component reads itself (e.g. `sink.serializer.`); keys under them are not reported as unknown. */
  readonly prefixes?: readonly string[];
  /** Checks across options (e.g. transactionCapacity ≤ capacity), and against the component's surroundings. */
  validate?(options: Options<S>, context: Context, registry: ComponentLookup, scope?: ValidationScope): OptionProblem[];
}

export interface SourceDefinition<S extends OptionsSpec = OptionsSpec> extends DefinitionBase<'source', S> {
  create(init: SourceInit<S>): Source;
}
export interface ChannelDefinition<S extends OptionsSpec = OptionsSpec> extends DefinitionBase<'channel', S> {
  create(init: ChannelInit<S>): Channel;
}
export interface SinkDefinition<S extends OptionsSpec = OptionsSpec> extends DefinitionBase<'sink', S> {
  create(init: SinkInit<S>): Sink;
}
export interface SinkProcessorDefinition<S extends OptionsSpec = OptionsSpec> extends DefinitionBase<'sinkProcessor', S> {
  /** Fewest sinks the processor works with (load_balance needs 2). */
  readonly minSinks?: number;
  create(init: SinkProcessorInit<S>): SinkProcessor;
}
/** The order in which a load_balance group tries its sinks (`processor.selector = <type>`). */
export interface SinkSelectorDefinition<S extends OptionsSpec = OptionsSpec> extends DefinitionBase<'sinkSelector', S> {
  create(init: SinkSelectorInit<S>): SinkSelector;
}
export interface SelectorDefinition<S extends OptionsSpec = OptionsSpec> extends DefinitionBase<'selector', S> {
  create(init: SelectorInit<S>): ChannelSelector;
}
export interface InterceptorDefinition<S extends OptionsSpec = OptionsSpec> extends DefinitionBase<'interceptor', S> {
  create(init: InterceptorInit<S>): Interceptor;
}
export interface SerializerDefinition<S extends OptionsSpec = OptionsSpec> extends DefinitionBase<'serializer', S> {
  create(init: SerializerInit<S>): EventSerializer;
}

/** A monitoring reporter (`flume.monitoring.type = <type>`: http, prometheus, ganglia, or a plugin's). */
export interface ReporterDefinition<S extends OptionsSpec = OptionsSpec> extends DefinitionBase<'reporter', S> {
  create(init: ReporterInit<S>): Promise<Reporter>;
}

export interface KafkaPartitionerDefinition<S extends OptionsSpec = OptionsSpec> extends DefinitionBase<'kafkaPartitioner', S> {
  create(init: KafkaClientInit<S>): KafkaPartitioner;
}
export interface KafkaInterceptorDefinition<S extends OptionsSpec = OptionsSpec> extends DefinitionBase<'kafkaInterceptor', S> {
  create(init: KafkaClientInit<S>): KafkaProducerInterceptor;
}

export interface JmsConverterDefinition<S extends OptionsSpec = OptionsSpec> extends DefinitionBase<'jmsConverter', S> {
  create(init: JmsConverterInit<S>): JmsMessageConverter;
}

export type ComponentDefinition =
  | SourceDefinition
  | ChannelDefinition
  | SinkDefinition
  | SinkProcessorDefinition
  | SinkSelectorDefinition
  | SelectorDefinition
  | InterceptorDefinition
  | SerializerDefinition
  | ReporterDefinition
  | KafkaPartitionerDefinition
  | JmsConverterDefinition
  | KafkaInterceptorDefinition;

export type DefinitionOf<K extends ComponentKind> = Extract<ComponentDefinition, { kind: K }>;

/** Read access to the registry, as components see it. */
export interface ComponentLookup {
  lookup<K extends ComponentKind>(kind: K, type: string): DefinitionOf<K> | undefined;
}

// The define* helpers only fix the kind and let TypeScript infer the options type,
// so `init.options` is typed from the spec written beside it.
export function defineSource<S extends OptionsSpec>(d: Omit<SourceDefinition<S>, 'kind'>): SourceDefinition {
  return { kind: 'source', ...d } as unknown as SourceDefinition;
}
export function defineChannel<S extends OptionsSpec>(d: Omit<ChannelDefinition<S>, 'kind'>): ChannelDefinition {
  return { kind: 'channel', ...d } as unknown as ChannelDefinition;
}
export function defineSink<S extends OptionsSpec>(d: Omit<SinkDefinition<S>, 'kind'>): SinkDefinition {
  return { kind: 'sink', ...d } as unknown as SinkDefinition;
}
export function defineSinkProcessor<S extends OptionsSpec>(d: Omit<SinkProcessorDefinition<S>, 'kind'>): SinkProcessorDefinition {
  return { kind: 'sinkProcessor', ...d } as unknown as SinkProcessorDefinition;
}
export function defineSinkSelector<S extends OptionsSpec>(d: Omit<SinkSelectorDefinition<S>, 'kind'>): SinkSelectorDefinition {
  return { kind: 'sinkSelector', ...d } as unknown as SinkSelectorDefinition;
}
export function defineSelector<S extends OptionsSpec>(d: Omit<SelectorDefinition<S>, 'kind'>): SelectorDefinition {
  return { kind: 'selector', ...d } as unknown as SelectorDefinition;
}
export function defineInterceptor<S extends OptionsSpec>(d: Omit<InterceptorDefinition<S>, 'kind'>): InterceptorDefinition {
  return { kind: 'interceptor', ...d } as unknown as InterceptorDefinition;
}
export function defineSerializer<S extends OptionsSpec>(d: Omit<SerializerDefinition<S>, 'kind'>): SerializerDefinition {
  return { kind: 'serializer', ...d } as unknown as SerializerDefinition;
}
export function defineReporter<S extends OptionsSpec>(d: Omit<ReporterDefinition<S>, 'kind'>): ReporterDefinition {
  return { kind: 'reporter', ...d } as unknown as ReporterDefinition;
}
export function defineKafkaPartitioner<S extends OptionsSpec>(d: Omit<KafkaPartitionerDefinition<S>, 'kind'>): KafkaPartitionerDefinition {
  return { kind: 'kafkaPartitioner', ...d } as unknown as KafkaPartitionerDefinition;
}
export function defineKafkaInterceptor<S extends OptionsSpec>(d: Omit<KafkaInterceptorDefinition<S>, 'kind'>): KafkaInterceptorDefinition {
  return { kind: 'kafkaInterceptor', ...d } as unknown as KafkaInterceptorDefinition;
}
export function defineJmsConverter<S extends OptionsSpec>(d: Omit<JmsConverterDefinition<S>, 'kind'>): JmsConverterDefinition {
  return { kind: 'jmsConverter', ...d } as unknown as JmsConverterDefinition;
}
