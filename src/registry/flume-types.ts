import type { ComponentKind } from '../core/component.js';

/**
 * The component types Apache Flume ships (its SourceType, SinkType, ChannelType
 * enums, the class names its user guide documents) that flume-ts does not register.
 * A job file migrated from Flume that names one of them gets "a Flume type not
 * supported by flume-ts" and what to use instead, rather than "unknown type" with
 * a look-alike suggestion (TwitterSource is not a typo of ThriftSource).
 *
 * The registry is always consulted first: once a type here is registered (built in
 * or by a plugin), its entry is simply no longer used.
 */
export interface FlumeType {
  kind: ComponentKind;
  /** Flume's short alias (`hdfs`), when it has one. */
  alias?: string;
  /** The Java class name a job file may give as its type. */
  className: string;
  /** `planned`: being added to flume-ts; `unsupported`: not planned. */
  status: 'planned' | 'unsupported';
  /** What to use instead, in a few words. */
  instead?: string;
}

const RPC = 'send to an avro or thrift source instead';

export const FLUME_TYPES: readonly FlumeType[] = [
  // Sources
  { kind: 'source', alias: 'spooldir', className: 'org.apache.flume.source.SpoolDirectorySource', status: 'planned' },
  { kind: 'source', alias: 'TAILDIR', className: 'org.apache.flume.source.taildir.TaildirSource', status: 'planned', instead: 'meanwhile exec with `tail -F` follows one file' },
  { kind: 'source', alias: 'syslogtcp', className: 'org.apache.flume.source.SyslogTcpSource', status: 'planned', instead: 'meanwhile netcat reads newline-framed syslog lines' },
  { kind: 'source', alias: 'multiport_syslogtcp', className: 'org.apache.flume.source.MultiportSyslogTCPSource', status: 'planned' },
  { kind: 'source', alias: 'syslogudp', className: 'org.apache.flume.source.SyslogUDPSource', status: 'planned', instead: 'meanwhile netcatudp takes one event per datagram' },
  { kind: 'source', alias: 'http', className: 'org.apache.flume.source.http.HTTPSource', status: 'planned' },
  { kind: 'source', alias: 'jms', className: 'org.apache.flume.source.jms.JMSSource', status: 'unsupported', instead: 'bridge the queue into Kafka and use the Kafka source' },
  { kind: 'source', className: 'org.apache.flume.source.twitter.TwitterSource', status: 'unsupported', instead: 'the Twitter streaming API it used no longer exists' },
  { kind: 'source', className: 'org.apache.flume.source.scribe.ScribeSource', status: 'unsupported', instead: RPC },
  {
    kind: 'source',
    className: 'org.apache.flume.source.avroLegacy.AvroLegacySource',
    status: 'unsupported',
    instead: 'Flume 0.9 senders are not supported; upgrade the sender and use the avro source',
  },
  {
    kind: 'source',
    className: 'org.apache.flume.source.thriftLegacy.ThriftLegacySource',
    status: 'unsupported',
    instead: 'Flume 0.9 senders are not supported; upgrade the sender and use the thrift source',
  },
  { kind: 'source', className: 'org.apache.flume.agent.embedded.EmbeddedSource', status: 'unsupported', instead: "it exists only inside Flume's embedded agent" },
  // Channels
  { kind: 'channel', alias: 'file', className: 'org.apache.flume.channel.file.FileChannel', status: 'planned', instead: 'meanwhile the Kafka channel is durable' },
  { kind: 'channel', alias: 'SPILLABLEMEMORY', className: 'org.apache.flume.channel.SpillableMemoryChannel', status: 'planned' },
  { kind: 'channel', alias: 'jdbc', className: 'org.apache.flume.channel.jdbc.JdbcChannel', status: 'planned' },
  { kind: 'channel', className: 'org.apache.flume.channel.PseudoTxnMemoryChannel', status: 'unsupported', instead: 'use memory' },
  // Sinks
  { kind: 'sink', alias: 'hdfs', className: 'org.apache.flume.sink.hdfs.HDFSEventSink', status: 'planned', instead: 'meanwhile file_roll writes local files' },
  { kind: 'sink', alias: 'http', className: 'org.apache.flume.sink.http.HttpSink', status: 'planned' },
  { kind: 'sink', alias: 'hive', className: 'org.apache.flume.sink.hive.HiveSink', status: 'unsupported', instead: 'write files with hdfs or file_roll and load them into Hive' },
  { kind: 'sink', alias: 'hbase', className: 'org.apache.flume.sink.hbase.HBaseSink', status: 'unsupported', instead: 'send to Kafka with the Kafka sink and load HBase from there' },
  { kind: 'sink', alias: 'asynchbase', className: 'org.apache.flume.sink.hbase.AsyncHBaseSink', status: 'unsupported', instead: 'send to Kafka with the Kafka sink and load HBase from there' },
  { kind: 'sink', alias: 'hbase2', className: 'org.apache.flume.sink.hbase2.HBase2Sink', status: 'unsupported', instead: 'send to Kafka with the Kafka sink and load HBase from there' },
  {
    kind: 'sink',
    alias: 'elasticsearch',
    className: 'org.apache.flume.sink.elasticsearch.ElasticSearchSink',
    status: 'unsupported',
    instead: 'send to Kafka, or post to Elasticsearch with the http sink',
  },
  { kind: 'sink', alias: 'morphline_solr', className: 'org.apache.flume.sink.solr.morphline.MorphlineSolrSink', status: 'unsupported', instead: 'send to Kafka and index into Solr from there' },
  { kind: 'sink', className: 'org.apache.flume.sink.solr.morphline.MorphlineSink', status: 'unsupported', instead: 'send to Kafka and transform from there' },
  { kind: 'sink', className: 'org.apache.flume.sink.kite.DatasetSink', status: 'unsupported', instead: 'the Kite SDK is retired; write files with hdfs or file_roll' },
  { kind: 'sink', className: 'org.apache.flume.sink.kudu.KuduSink', status: 'unsupported', instead: 'send to Kafka and load Kudu from there' },
  { kind: 'sink', alias: 'irc', className: 'org.apache.flume.sink.irc.IRCSink', status: 'unsupported' },
  // Interceptors
  {
    kind: 'interceptor',
    className: 'org.apache.flume.sink.solr.morphline.MorphlineInterceptor$Builder',
    status: 'unsupported',
    instead: 'regex_extractor, search_replace and regex_filter cover the common morphline commands',
  },
];

const KIND_LABEL: Partial<Record<ComponentKind, string>> = {
  source: 'source',
  channel: 'channel',
  sink: 'sink',
  interceptor: 'interceptor',
  selector: 'channel selector',
  sinkProcessor: 'sink processor',
};

/**
 * The Flume type a job file's `type` value names: its alias or class name in any
 * case (as Flume matches), or the class name without its package (a common slip).
 */
export function flumeType(kind: ComponentKind, type: string): FlumeType | undefined {
  const t = type.trim().toLowerCase();
  const simple = (c: string): string =>
    c
      .slice(c.lastIndexOf('.') + 1)
      .replace(/\$builder$/i, '')
      .toLowerCase();
  return (
    FLUME_TYPES.find((f) => f.kind === kind && (f.alias?.toLowerCase() === t || f.className.toLowerCase() === t)) ??
    FLUME_TYPES.find((f) => f.kind === kind && simple(f.className) === t.replace(/\$builder$/, ''))
  );
}

/** `"hdfs" is a Flume sink type not supported by flume-ts (planned; meanwhile file_roll writes local files)` */
export function unsupportedTypeMessage(f: FlumeType, written: string): string {
  const label = KIND_LABEL[f.kind] ?? f.kind;
  const name = f.alias ?? f.className;
  const which = written.trim().toLowerCase() === name.toLowerCase() || written.trim().toLowerCase() === f.className.toLowerCase() ? `"${written}"` : `"${written}" (Flume's ${f.className})`;
  const what = f.status === 'planned' ? `planned${f.instead ? `; ${f.instead}` : ''}` : (f.instead ?? 'no replacement');
  return `${which} is a Flume ${label} type not supported by flume-ts (${what})`;
}
