import fs from 'node:fs';
import type tls from 'node:tls';
import { Kafka, CompressionTypes, logLevel, type KafkaConfig, type ConsumerConfig, type ProducerConfig, type RetryOptions, type SASLOptions, type logCreator } from 'kafkajs';
import type { Context } from '../core/context.js';
import type { Logger } from '../core/logger.js';
import type { OptionProblem } from '../core/options.js';
import { ErrorCodes } from '../core/errors.js';
import { sslGlobal, sslGlobalNames } from '../rpc/tls.js';
import './codecs.js';

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
  /** Producer: the plugin partitioner and producer interceptors the job names (the Kafka sink runs them). */
  partitionerClass?: string;
  interceptorClasses?: string[];
  problems: OptionProblem[];
}

/** What a handler writes into while the keys are read; security is settled at the end. */
interface Draft extends KafkaSettings {
  ctx: Context;
  protocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
  protocolKey?: string;
  ssl: tls.ConnectionOptions;
  /** The first ssl.* key that set something, for the "ignored" warning. */
  sslKey?: string;
  saslMechanism?: string;
  saslKey?: string;
  saslUser?: string;
  saslPassword?: string;
  retry: RetryOptions;
  hasRetry: boolean;
}

type Handler = (value: string, s: Draft, key: string) => void;

const num = (v: string): number => {
  if (!/^-?\d+$/.test(v.trim())) throw new Error('an integer');
  return Number(v);
};
/** A Kafka `*.ms` setting: kafkajs arms plain timers with it, so it must fit one (2^31 - 1 ms). */
const ms = (v: string): number => {
  const n = num(v);
  if (n < 0 || n > 2_147_483_647) throw new Error('a number of milliseconds from 0 to 2147483647 (24.8 days)');
  return n;
};
/**
 * `host:port` of one bootstrap server (`[v6]:port` for IPv6). A value that does not parse
 * would otherwise surface only at connect time, as a retry loop.
 */
const BROKER_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;
export function brokerProblem(brokers: readonly string[]): string | undefined {
  if (brokers.length === 0) return 'at least one host:port';
  for (const b of brokers) {
    const m = BROKER_RE.exec(b);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) return `host:port pairs separated by commas ("${b}" is not one)`;
  }
  return undefined;
}
const bool = (v: string): boolean => {
  const l = v.trim().toLowerCase();
  if (l === 'true') return true;
  if (l === 'false') return false;
  throw new Error('true or false');
};

/** A warning on `key`; the message is prefixed with the key as the user wrote it. */
function warn(s: Draft, key: string, message: string, code: string = ErrorCodes.CONFIG_VALUE): void {
  s.problems.push({ severity: 'warning', code, key, message: `${s.ctx.fullKey(key)}: ${message}` });
}
/** A Java client property with no kafkajs counterpart: a warning that says why, and the value is not used. */
function ignored(why: string): Handler {
  return (_v, s, key) => warn(s, key, `${why}; ignored`, ErrorCodes.CONFIG_UNKNOWN_KEY);
}
/** Read by the Java client only to pick something kafkajs always does (serializers): nothing to map, nothing lost. */
const accepted: Handler = () => {};

function retry(s: Draft, patch: RetryOptions): void {
  s.retry = { ...s.retry, ...patch };
  s.hasRetry = true;
}
function ssl(s: Draft, key: string, patch: tls.ConnectionOptions): void {
  s.ssl = { ...s.ssl, ...patch };
  s.sslKey ??= key;
}
const noHostnameCheck = (): undefined => undefined;

/** The first bytes of a Java KeyStore (JKS) file; Node cannot read one. */
const JKS_MAGIC = 0xfeedfeed;
function notJks(buf: Buffer, key: string, file: string, convert: string): void {
  if (buf.length >= 4 && buf.readUInt32BE(0) === JKS_MAGIC) throw new Error(`a PEM or PKCS12 file (${file} is a Java KeyStore, which Node cannot read; ${convert})`);
}
function readFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new Error(`a readable file (${(e as Error).message})`);
  }
}

/**
 * Kafka client properties whose values are secrets (passwords, JAAS lines, private
 * keys): a problem with one says what is wrong, never the value.
 */
export const SECRET_KAFKA_PROPERTIES: ReadonlySet<string> = new Set(['sasl.jaas.config', 'ssl.truststore.password', 'ssl.keystore.password', 'ssl.key.password', 'ssl.keystore.key']);
const NOT_SHOWN = 'a value not shown here (it is secret)';

const COMMON: Record<string, Handler> = {
  'bootstrap.servers': (v, s) =>
    (s.client.brokers = v
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean)),
  'client.id': (v, s) => (s.client.clientId = v),
  'request.timeout.ms': (v, s) => (s.client.requestTimeout = ms(v)),
  'socket.connection.setup.timeout.ms': (v, s) => (s.client.connectionTimeout = ms(v)),
  'connections.max.idle.ms': ignored('kafkajs keeps its connections open'),
  'send.buffer.bytes': ignored("kafkajs uses the operating system's socket buffers"),
  'receive.buffer.bytes': ignored("kafkajs uses the operating system's socket buffers"),
  retries: (v, s) => retry(s, { retries: num(v) }),
  'retry.backoff.ms': (v, s) => retry(s, { initialRetryTime: ms(v) }),
  'reconnect.backoff.max.ms': (v, s) => retry(s, { maxRetryTime: ms(v) }),
  'reconnect.backoff.ms': ignored('kafkajs has one back-off; retry.backoff.ms sets its first delay'),
  'security.protocol': (v, s, key) => {
    const p = v.trim().toUpperCase();
    if (p !== 'PLAINTEXT' && p !== 'SSL' && p !== 'SASL_PLAINTEXT' && p !== 'SASL_SSL') throw new Error('PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL');
    s.protocol = p;
    s.protocolKey = key;
  },
  'sasl.mechanism': (v, s, key) => {
    const m = v.trim().toUpperCase();
    if (m !== 'PLAIN' && m !== 'SCRAM-SHA-256' && m !== 'SCRAM-SHA-512') {
      throw new Error(`PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (kafkajs has no ${m === 'GSSAPI' ? 'Kerberos (GSSAPI)' : m} login from a job file)`);
    }
    s.saslMechanism = m.toLowerCase();
    s.saslKey ??= key;
  },
  'sasl.jaas.config': (v, s, key) => {
    const user = /username\s*=\s*"([^"]*)"/.exec(v)?.[1];
    const pass = /password\s*=\s*"([^"]*)"/.exec(v)?.[1];
    if (user === undefined || pass === undefined) throw new Error('a JAAS line with username="..." password="..." (PlainLoginModule or ScramLoginModule)');
    s.saslUser = user;
    s.saslPassword = pass;
    s.saslKey ??= key;
  },
  'sasl.kerberos.service.name': ignored('kafkajs has no Kerberos (GSSAPI) login'),
  'ssl.truststore.location': (v, s, key) => {
    const buf = readFile(v);
    notJks(buf, key, v, 'export the CA with: keytool -exportcert -rfc -keystore t.jks -alias <alias> > ca.pem');
    const text = buf.toString('utf8');
    if (!text.includes('-----BEGIN')) throw new Error(`a PEM file of CA certificates (${v} is not PEM)`);
    ssl(s, key, { ca: [text] });
  },
  'ssl.truststore.certificates': (v, s, key) => ssl(s, key, { ca: [v] }),
  'ssl.truststore.type': (v) => {
    const t = v.trim().toUpperCase();
    if (t !== 'PEM' && t !== 'JKS' && t !== 'PKCS12') throw new Error('PEM (JKS and PKCS12 truststores must be exported to PEM)');
  },
  // Node reads PEM truststores without a password.
  'ssl.truststore.password': (_v, s, key) => void (s.sslKey ??= key),
  'ssl.keystore.location': (v, s, key) => {
    const buf = readFile(v);
    notJks(buf, key, v, 'convert it with: keytool -importkeystore -srckeystore k.jks -destkeystore k.p12 -deststoretype PKCS12');
    // A PEM keystore holds the key and its certificate chain; anything else is read as PKCS12.
    if (buf.includes('-----BEGIN')) ssl(s, key, { key: buf, cert: buf });
    else ssl(s, key, { pfx: buf });
  },
  'ssl.keystore.certificate.chain': (v, s, key) => ssl(s, key, { cert: v }),
  'ssl.keystore.key': (v, s, key) => ssl(s, key, { key: v }),
  'ssl.keystore.password': (v, s, key) => ssl(s, key, { passphrase: v }),
  'ssl.key.password': (v, s, key) => ssl(s, key, { passphrase: v }),
  'ssl.keystore.type': (v) => {
    const t = v.trim().toUpperCase();
    if (t !== 'PKCS12' && t !== 'PEM' && t !== 'JKS') throw new Error('PKCS12 or PEM');
  },
  'ssl.endpoint.identification.algorithm': (v, s, key) => {
    if (v.trim() === '') ssl(s, key, { checkServerIdentity: noHostnameCheck });
  },
  'ssl.disableTLSHostnameVerification': (v, s, key) => {
    if (bool(v)) ssl(s, key, { checkServerIdentity: noHostnameCheck });
  },
  'ssl.protocol': ignored('Node negotiates the TLS version (1.2 or 1.3)'),
  'ssl.enabled.protocols': ignored('Node negotiates the TLS version (1.2 or 1.3)'),
  'ssl.cipher.suites': ignored("Node uses OpenSSL's cipher list, whose names differ from Java's"),
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
    else if (c === 'snappy') s.compression = CompressionTypes.Snappy;
    else if (c === 'lz4') s.compression = CompressionTypes.LZ4;
    else if (c === 'zstd') s.compression = CompressionTypes.ZSTD;
    else throw new Error('none, gzip, snappy, lz4 or zstd');
  },
  'linger.ms': ignored("kafkajs does not linger; each transaction's events go out in one request when the transaction has them (Flume flushes the producer per transaction too)"),
  'batch.size': ignored('kafkajs does not size batches; one request carries the whole transaction (flumeBatchSize events)'),
  'buffer.memory': ignored('kafkajs does not buffer; the channel is the buffer'),
  'max.block.ms': ignored('kafkajs does not block; a send fails after its retries'),
  'max.request.size': ignored('kafkajs does not cap request sizes'),
  'enable.idempotence': (v, s) => (s.producer.idempotent = bool(v)),
  'max.in.flight.requests.per.connection': (v, s) => (s.producer.maxInFlightRequests = num(v)),
  'metadata.max.age.ms': (v, s) => (s.producer.metadataMaxAge = ms(v)),
  'transactional.id': (v, s) => (s.producer.transactionalId = v),
  'transaction.timeout.ms': (v, s) => (s.producer.transactionTimeout = ms(v)),
  'delivery.timeout.ms': (v, s) => (s.sendTimeout = ms(v)),
  'key.serializer': accepted,
  'value.serializer': accepted,
  'partitioner.class': (v, s) => (s.partitionerClass = v.trim()),
  'interceptor.classes': (v, s) =>
    (s.interceptorClasses = v
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean)),
};

const CONSUMER: Record<string, Handler> = {
  'group.id': (v, s) => (s.consumer.groupId = v),
  'auto.offset.reset': (v, s) => {
    const r = v.trim().toLowerCase();
    if (r === 'earliest' || r === 'smallest') s.fromBeginning = true;
    else if (r === 'latest' || r === 'largest') s.fromBeginning = false;
    else throw new Error('earliest or latest (kafkajs has no "none")');
  },
  'session.timeout.ms': (v, s) => (s.consumer.sessionTimeout = ms(v)),
  'heartbeat.interval.ms': (v, s) => (s.consumer.heartbeatInterval = ms(v)),
  'rebalance.timeout.ms': (v, s) => (s.consumer.rebalanceTimeout = ms(v)),
  'max.poll.interval.ms': (v, s) => (s.consumer.rebalanceTimeout = ms(v)),
  'fetch.min.bytes': (v, s) => (s.consumer.minBytes = num(v)),
  'fetch.max.bytes': (v, s) => (s.consumer.maxBytes = num(v)),
  'max.partition.fetch.bytes': (v, s) => (s.consumer.maxBytesPerPartition = num(v)),
  'fetch.max.wait.ms': (v, s) => (s.consumer.maxWaitTimeInMs = ms(v)),
  'metadata.max.age.ms': (v, s) => (s.consumer.metadataMaxAge = ms(v)),
  'allow.auto.create.topics': (v, s) => (s.consumer.allowAutoTopicCreation = bool(v)),
  'isolation.level': (v, s) => {
    const l = v.trim().toLowerCase();
    if (l !== 'read_committed' && l !== 'read_uncommitted') throw new Error('read_committed or read_uncommitted');
    s.consumer.readUncommitted = l === 'read_uncommitted';
  },
  'enable.auto.commit': (v, s, key) => {
    if (bool(v)) warn(s, key, `true: offsets are committed only after the channel commit (at-least-once); auto commit stays off`);
  },
  'auto.commit.interval.ms': accepted,
  'max.poll.records': ignored('kafkajs hands over what one fetch returned; batchSize bounds each channel batch'),
  'group.instance.id': ignored('kafkajs has no static group membership'),
  'partition.assignment.strategy': (v, s, key) => {
    const others = v
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '' && !/(^|\.)RangeAssignor$|^range$/i.test(c));
    if (others.length > 0) warn(s, key, `only the range assignor (Java's RangeAssignor, its default) is available; ${others.join(', ')} ignored`, ErrorCodes.CONFIG_UNKNOWN_KEY);
  },
  'key.deserializer': accepted,
  'value.deserializer': accepted,
};

/**
 * kafkajs' lines repeated on every connection attempt while a broker is away. The
 * components report the outcome themselves at WARN (a failed delivery, "cannot reach
 * Kafka"), so these go to DEBUG instead of filling the log.
 */
const RETRY_NOISE = /^(Connection error|Failed to connect to seed broker)/;

/** kafkajs logs through our logger: errors and warnings at WARN, the rest at DEBUG. */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const loud = level <= logLevel.WARN && !RETRY_NOISE.test(String(log.message));
      if (!loud && !logger.isDebugEnabled) return;
      const msg = `${log.message}${log.broker ? ` (broker ${String(log.broker)})` : ''}${log.error ? `: ${String(log.error)}` : ''}`;
      if (loud) logger.warn(`kafka: ${msg}`);
      else logger.debug(`kafka: ${msg}`);
    };
}

/**
 * Builds kafkajs settings for one client role from a component's context:
 * `bootstrap` (the servers), then the `kafka.producer.*` or `kafka.consumer.*`
 * sub-keys. Value errors and unmapped keys come back as problems, keyed by the
 * sub-key as written in the component's context.
 */
export function kafkaSettings(ctx: Context, opts: { bootstrap: string; role: 'producer' | 'consumer'; groupId?: string }): KafkaSettings {
  const s: Draft = {
    client: { brokers: [] },
    producer: {},
    consumer: {},
    acks: 1,
    compression: CompressionTypes.None,
    fromBeginning: true,
    problems: [],
    ctx,
    protocol: 'PLAINTEXT',
    ssl: {},
    retry: {},
    hasRetry: false,
  };
  COMMON['bootstrap.servers']!(opts.bootstrap, s, 'kafka.bootstrap.servers');
  const badBrokers = brokerProblem(s.client.brokers as string[]);
  if (badBrokers) {
    const key = ['kafka.bootstrap.servers', 'brokerList'].find((k) => ctx.containsKey(k)) ?? 'kafka.bootstrap.servers';
    s.problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key, message: `${ctx.fullKey(key)}: expected ${badBrokers}, got "${opts.bootstrap}"` });
  }
  if (opts.groupId) s.consumer.groupId = opts.groupId;
  const prefix = opts.role === 'producer' ? 'kafka.producer.' : 'kafka.consumer.';
  const table = opts.role === 'producer' ? PRODUCER : CONSUMER;
  const sub = ctx.subProperties(prefix);
  for (const k of sub.keys()) {
    const key = prefix + k;
    if (k === 'bootstrap.servers') {
      warn(s, key, `the brokers come from ${ctx.prefix}kafka.bootstrap.servers (Flume forces it too); ignored`, ErrorCodes.CONFIG_UNKNOWN_KEY);
      continue;
    }
    const h = Object.hasOwn(table, k) ? table[k] : Object.hasOwn(COMMON, k) ? COMMON[k] : undefined;
    if (!h) {
      const other = Object.hasOwn(opts.role === 'producer' ? CONSUMER : PRODUCER, k);
      const hint = other ? ` (it is a ${opts.role === 'producer' ? 'consumer' : 'producer'} property)` : '';
      warn(s, key, `Kafka ${opts.role} property "${k}" has no kafkajs equivalent${hint}; ignored`, ErrorCodes.CONFIG_UNKNOWN_KEY);
      continue;
    }
    const value = sub.getString(k)!;
    try {
      h(value, s, key);
    } catch (e) {
      const shown = SECRET_KAFKA_PROPERTIES.has(k) ? NOT_SHOWN : `"${value}"`;
      s.problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key, message: `${ctx.fullKey(key)}: expected ${(e as Error).message}, got ${shown}` });
    }
  }
  settleSecurity(s, ctx, prefix);
  if (s.hasRetry) s.client.retry = s.retry;
  return {
    client: s.client,
    producer: s.producer,
    consumer: s.consumer,
    acks: s.acks,
    compression: s.compression,
    sendTimeout: s.sendTimeout,
    fromBeginning: s.fromBeginning,
    problems: s.problems,
    partitionerClass: s.partitionerClass,
    interceptorClasses: s.interceptorClasses,
  };
}

/**
 * As Flume's KafkaSSLUtil: with TLS on, a truststore or keystore the component does not
 * configure comes from the global settings (-Djavax.net.ssl.trustStore / keyStore and
 * their passwords, or FLUME_SSL_*), read as the ssl.* keys would read them.
 */
function globalStores(s: Draft, ctx: Context, prefix: string): void {
  const apply = (key: string, name: Parameters<typeof sslGlobal>[0], value: string): void => {
    try {
      COMMON[key]!(value, s, `${prefix}${key}`);
    } catch (e) {
      const shown = SECRET_KAFKA_PROPERTIES.has(key) ? '' : ` = "${value}"`;
      s.problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_VALUE,
        key: `${prefix}security.protocol`,
        message: `${ctx.fullKey(`${prefix}security.protocol`)}: the global ${sslGlobalNames(name)}${shown} cannot be used: expected ${(e as Error).message}`,
      });
    }
  };
  const trust = s.ssl.ca === undefined ? sslGlobal('TRUSTSTORE_PATH') : undefined;
  if (trust !== undefined) apply('ssl.truststore.location', 'TRUSTSTORE_PATH', trust);
  const keys = s.ssl.pfx === undefined && s.ssl.key === undefined ? sslGlobal('KEYSTORE_PATH') : undefined;
  if (keys !== undefined) {
    apply('ssl.keystore.location', 'KEYSTORE_PATH', keys);
    const password = s.ssl.passphrase === undefined ? sslGlobal('KEYSTORE_PASSWORD') : undefined;
    if (password !== undefined) apply('ssl.keystore.password', 'KEYSTORE_PASSWORD', password);
  }
}

/** security.protocol decides whether the ssl.* and sasl.* keys apply, whatever order they came in. */
function settleSecurity(s: Draft, ctx: Context, prefix: string): void {
  const tlsOn = s.protocol === 'SSL' || s.protocol === 'SASL_SSL';
  const saslOn = s.protocol === 'SASL_PLAINTEXT' || s.protocol === 'SASL_SSL';
  if (tlsOn) {
    globalStores(s, ctx, prefix);
    s.client.ssl = Object.keys(s.ssl).length > 0 ? s.ssl : true;
  } else if (s.sslKey) warn(s, s.sslKey, `ssl settings apply only with ${prefix}security.protocol = SSL or SASL_SSL (it is ${s.protocol}); ignored`);
  if (saslOn) {
    const key = s.protocolKey ?? `${prefix}security.protocol`;
    if (!s.saslMechanism) {
      s.problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_REQUIRED,
        key,
        message: `${ctx.fullKey(key)} = ${s.protocol} needs ${ctx.prefix}${prefix}sasl.mechanism = PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (the Java default, GSSAPI, is not available in kafkajs)`,
      });
    } else if (s.saslUser === undefined) {
      s.problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_REQUIRED,
        key,
        message: `${ctx.fullKey(key)} = ${s.protocol} needs ${ctx.prefix}${prefix}sasl.jaas.config with username="..." password="..."`,
      });
    } else {
      s.client.sasl = { mechanism: s.saslMechanism, username: s.saslUser, password: s.saslPassword } as SASLOptions;
    }
  } else if (s.saslKey) {
    warn(s, s.saslKey, `sasl settings apply only with ${prefix}security.protocol = SASL_PLAINTEXT or SASL_SSL (it is ${s.protocol}); ignored`);
  }
}

/**
 * A kafkajs client for one component role. `retry` are the component's defaults for
 * kafkajs' retry options; `kafka.*.retries` and friends override them.
 */
export function createKafka(s: KafkaSettings, clientId: string, logger: Logger, retryDefaults?: RetryOptions): Kafka {
  return new Kafka({
    ...s.client,
    clientId: s.client.clientId ?? clientId,
    logCreator: kafkaLogCreator(logger),
    retry: { ...retryDefaults, ...s.client.retry },
  });
}

/**
 * Warnings for the key names of older Flume, as [old, current] pairs. They are read as
 * plain aliases of the current keys and reported here, from the component's validate(),
 * so one deprecated key does not hide the Kafka property warnings.
 */
export function deprecatedKeys(ctx: Context, pairs: readonly (readonly [string, string])[]): OptionProblem[] {
  const out: OptionProblem[] = [];
  for (const [old, current] of pairs) {
    if (!ctx.containsKey(old)) continue;
    const shadowed = ctx.containsKey(current) ? ` (ignored: ${ctx.prefix}${current} is set)` : '';
    out.push({ severity: 'warning', code: ErrorCodes.CONFIG_UNKNOWN_KEY, key: old, message: `${ctx.fullKey(old)} is deprecated; use ${ctx.prefix}${current}${shadowed}` });
  }
  return out;
}
