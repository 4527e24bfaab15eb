import fs from 'node:fs';
import type { KafkaConfig, ConsumerConfig, ProducerConfig, SASLOptions, logCreator } from 'kafkajs';
import { CompressionTypes, logLevel } from 'kafkajs';
import type { Context } from '../core/context.js';
import type { Logger } from '../core/logger.js';
import type { OptionProblem } from '../core/options.js';
import { ErrorCodes } from '../core/errors.js';

/**
 * Maps Flume's `kafka.producer.*` / `kafka.consumer.*` pass-through (Java client
 * property names) onto kafkajs options. A property kafkajs has no equivalent for is a
 * warning naming it, never silently dropped. Shared by the Kafka source, sink and channel.
 */
export interface KafkaSettings {
  client: KafkaConfig;
  producer: ProducerConfig;
  consumer: Omit<ConsumerConfig, 'groupId'> & { groupId?: string };
  /** Per-send settings. */
  acks: number;
  compression: CompressionTypes;
  sendTimeout?: number;
  /** Consumer: start from the earliest offset when the group has none. */
  fromBeginning: boolean;
  problems: OptionProblem[];
}

type Handler = (value: string, s: KafkaSettings, key: string) => void;

const num = (v: string): number => {
  if (!/^-?\d+$/.test(v.trim())) throw new Error('an integer');
  return Number(v);
};

function ignored(why: string): Handler {
  return (_v, s, key) => s.problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_UNKNOWN_KEY, key, message: `${key}: ${why}` });
}
const accepted: Handler = () => {};

const COMMON: Record<string, Handler> = {
  'bootstrap.servers': (v, s) => (s.client.brokers = v.split(',').map((b) => b.trim()).filter(Boolean)),
  'client.id': (v, s) => (s.client.clientId = v),
  'request.timeout.ms': (v, s) => (s.client.requestTimeout = num(v)),
  'connections.max.idle.ms': ignored('no kafkajs equivalent (kafkajs keeps connections open); ignored'),
  'retries': (v, s) => (s.client.retry = { ...s.client.retry, retries: num(v) }),
  'retry.backoff.ms': (v, s) => (s.client.retry = { ...s.client.retry, initialRetryTime: num(v) }),
  'reconnect.backoff.max.ms': (v, s) => (s.client.retry = { ...s.client.retry, maxRetryTime: num(v) }),
  'reconnect.backoff.ms': ignored('no kafkajs equivalent; retry.backoff.ms sets the first retry delay'),
  'security.protocol': (v, s, key) => {
    const p = v.toUpperCase();
    if (p === 'SSL' || p === 'SASL_SSL') s.client.ssl = typeof s.client.ssl === 'object' ? s.client.ssl : true;
    else if (p !== 'PLAINTEXT' && p !== 'SASL_PLAINTEXT') throw new Error(`PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL (${key})`);
  },
  'sasl.mechanism': (v, s) => {
    const m = v.toLowerCase();
    if (m !== 'plain' && m !== 'scram-sha-256' && m !== 'scram-sha-512') throw new Error('PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (kafkajs does not do GSSAPI)');
    s.client.sasl = { ...(s.client.sasl as object), mechanism: m } as SASLOptions;
  },
  'sasl.jaas.config': (v, s) => {
    const user = /username\s*=\s*"([^"]*)"/.exec(v)?.[1];
    const pass = /password\s*=\s*"([^"]*)"/.exec(v)?.[1];
    if (user === undefined || pass === undefined) throw new Error('a JAAS line with username="..." password="..."');
    s.client.sasl = { mechanism: 'plain', ...(s.client.sasl as object), username: user, password: pass } as SASLOptions;
  },
  'ssl.truststore.location': (v, s) => (s.client.ssl = { ...sslObj(s), ca: [readPem(v, 'ssl.truststore.location')] }),
  'ssl.truststore.type': (v) => {
    if (v.toUpperCase() !== 'PEM') throw new Error('PEM (convert a JKS truststore with: keytool -exportcert -rfc -keystore t.jks -alias <alias> > ca.pem)');
  },
  'ssl.truststore.password': accepted,
  'ssl.keystore.location': (v, s) => (s.client.ssl = { ...sslObj(s), pfx: fs.readFileSync(v) }),
  'ssl.keystore.password': (v, s) => (s.client.ssl = { ...sslObj(s), passphrase: v }),
  'ssl.key.password': (v, s) => (s.client.ssl = { ...sslObj(s), passphrase: v }),
  'ssl.keystore.type': (v) => {
    if (v.toUpperCase() !== 'PKCS12') throw new Error('PKCS12 (convert a JKS keystore with: keytool -importkeystore -srckeystore k.jks -destkeystore k.p12 -deststoretype PKCS12)');
  },
  'ssl.endpoint.identification.algorithm': (v, s) => {
    if (v.trim() === '') s.client.ssl = { ...sslObj(s), checkServerIdentity: () => undefined };
  },
  'ssl.disableTLSHostnameVerification': (v, s) => {
    if (v.trim().toLowerCase() === 'true') s.client.ssl = { ...sslObj(s), checkServerIdentity: () => undefined };
  },
};

const PRODUCER: Record<string, Handler> = {
  acks: (v, s) => {
    const a = v.trim().toLowerCase();
    s.acks = a === 'all' || a === '-1' ? -1 : a === '0' ? 0 : a === '1' ? 1 : Number.NaN;
    if (Number.isNaN(s.acks)) throw new Error('all, -1, 0 or 1');
  },
  'compression.type': (v, s, key) => {
    const c = v.trim().toLowerCase();
    if (c === 'none') s.compression = CompressionTypes.None;
    else if (c === 'gzip') s.compression = CompressionTypes.GZIP;
    else if (c === 'snappy' || c === 'lz4' || c === 'zstd') {
      s.compression = CompressionTypes.None;
      s.problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_VALUE, key, message: `${key}=${c}: kafkajs has no built-in ${c} codec; sending uncompressed (use gzip)` });
    } else throw new Error('none, gzip, snappy, lz4 or zstd');
  },
  'linger.ms': ignored('no kafkajs equivalent; the sink sends each transaction\'s batch at once, which is the batching linger.ms buys'),
  'batch.size': ignored('no kafkajs equivalent; the batch is the Flume transaction (flumeBatchSize)'),
  'buffer.memory': ignored('no kafkajs equivalent; the channel is the buffer'),
  'max.request.size': ignored('no kafkajs equivalent'),
  'enable.idempotence': (v, s) => (s.producer.idempotent = v.trim().toLowerCase() === 'true'),
  'max.in.flight.requests.per.connection': (v, s) => (s.producer.maxInFlightRequests = num(v)),
  'transactional.id': (v, s) => (s.producer.transactionalId = v),
  'transaction.timeout.ms': (v, s) => (s.producer.transactionTimeout = num(v)),
  'delivery.timeout.ms': (v, s) => (s.sendTimeout = num(v)),
  'key.serializer': accepted,
  'value.serializer': accepted,
  'partitioner.class': ignored('no kafkajs equivalent; kafkajs uses the Java client\'s default murmur2 partitioner'),
};

const CONSUMER: Record<string, Handler> = {
  'group.id': (v, s) => (s.consumer.groupId = v),
  'auto.offset.reset': (v, s) => {
    const r = v.trim().toLowerCase();
    if (r === 'earliest' || r === 'smallest') s.fromBeginning = true;
    else if (r === 'latest' || r === 'largest') s.fromBeginning = false;
    else throw new Error('earliest or latest');
  },
  'session.timeout.ms': (v, s) => (s.consumer.sessionTimeout = num(v)),
  'heartbeat.interval.ms': (v, s) => (s.consumer.heartbeatInterval = num(v)),
  'rebalance.timeout.ms': (v, s) => (s.consumer.rebalanceTimeout = num(v)),
  'max.poll.interval.ms': (v, s) => (s.consumer.rebalanceTimeout = num(v)),
  'fetch.min.bytes': (v, s) => (s.consumer.minBytes = num(v)),
  'fetch.max.bytes': (v, s) => (s.consumer.maxBytes = num(v)),
  'max.partition.fetch.bytes': (v, s) => (s.consumer.maxBytesPerPartition = num(v)),
  'fetch.max.wait.ms': (v, s) => (s.consumer.maxWaitTimeInMs = num(v)),
  'isolation.level': (v, s) => (s.consumer.readUncommitted = v.trim().toLowerCase() === 'read_uncommitted'),
  'enable.auto.commit': (v, s, key) => {
    if (v.trim().toLowerCase() === 'true') s.problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_VALUE, key, message: `${key}: offsets are committed only after the channel commit (at-least-once); auto commit stays off` });
  },
  'auto.commit.interval.ms': accepted,
  'max.poll.records': ignored('no kafkajs equivalent; the source\'s batchSize bounds each channel batch'),
  'partition.assignment.strategy': ignored('kafkajs uses its round-robin assigner'),
  'key.deserializer': accepted,
  'value.deserializer': accepted,
};

function sslObj(s: KafkaSettings): Record<string, unknown> {
  return typeof s.client.ssl === 'object' ? (s.client.ssl as Record<string, unknown>) : {};
}
function readPem(file: string, key: string): string {
  const text = fs.readFileSync(file, 'utf8');
  if (!text.includes('-----BEGIN')) throw new Error(`a PEM file (${key}: ${file} is not PEM; Node cannot read JKS)`);
  return text;
}

/** kafkajs logs through our logger, at WARN and above unless debug is on. */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () => ({ level, log }) => {
    const msg = `${log.message}${log.broker ? ` (broker ${String(log.broker)})` : ''}${log.error ? `: ${String(log.error)}` : ''}`;
    if (level <= logLevel.ERROR) logger.warn(`kafka: ${msg}`);
    else if (level === logLevel.WARN) logger.warn(`kafka: ${msg}`);
    else logger.debug(`kafka: ${msg}`);
  };
}

/**
 * Builds kafkajs settings from a component's context: `bootstrap` (the servers),
 * then `kafka.producer.*` and/or `kafka.consumer.*` sub-keys. Value errors and
 * unmapped keys come back as problems keyed by the full sub-key.
 */
export function kafkaSettings(ctx: Context, opts: { bootstrap: string; producer?: boolean; consumer?: boolean; groupId?: string }): KafkaSettings {
  const s: KafkaSettings = {
    client: { brokers: [] }, producer: {}, consumer: {}, acks: 1, compression: CompressionTypes.None, fromBeginning: true, problems: [],
  };
  COMMON['bootstrap.servers']!(opts.bootstrap, s, 'kafka.bootstrap.servers');
  if (opts.groupId) s.consumer.groupId = opts.groupId;
  const apply = (prefix: string, table: Record<string, Handler>): void => {
    const sub = ctx.subProperties(prefix);
    for (const k of sub.keys()) {
      const key = prefix + k;
      const h = table[k] ?? COMMON[k];
      if (!h) {
        s.problems.push({ severity: 'warning', code: ErrorCodes.CONFIG_UNKNOWN_KEY, key, message: `${ctx.fullKey(key)}: Kafka property "${k}" has no kafkajs equivalent; ignored` });
        continue;
      }
      try {
        h(sub.getString(k)!, s, key);
      } catch (e) {
        s.problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key, message: `${ctx.fullKey(key)}: expected ${(e as Error).message}, got "${sub.getString(k)}"` });
      }
    }
  };
  if (opts.producer) apply('kafka.producer.', PRODUCER);
  if (opts.consumer) apply('kafka.consumer.', CONSUMER);
  return s;
}
