import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompressionTypes } from 'kafkajs';
import { Context } from '../core/context.js';
import { deprecatedKeys, kafkaSettings } from './client-options.js';
import { setSystemProperties } from '../core/system-properties.js';

const ctxOf = (props: Record<string, string>): Context => new Context(props, new Map(), 'a1.sinks.k1.');
const producer = (props: Record<string, string>) => kafkaSettings(ctxOf(props), { bootstrap: 'h1:9092, h2:9093', role: 'producer' });
const consumer = (props: Record<string, string>) => kafkaSettings(ctxOf(props), { bootstrap: 'h1:9092', role: 'consumer', groupId: 'flume' });
const messages = (s: { problems: { severity: string; message: string }[] }, severity: string): string[] => s.problems.filter((p) => p.severity === severity).map((p) => p.message);

test('producer properties map onto kafkajs: brokers, acks, compression, client.id, timeouts, retries, in-flight, idempotence', () => {
  const s = producer({
    'kafka.producer.acks': 'all',
    'kafka.producer.compression.type': 'gzip',
    'kafka.producer.client.id': 'me',
    'kafka.producer.request.timeout.ms': '5000',
    'kafka.producer.socket.connection.setup.timeout.ms': '700',
    'kafka.producer.retries': '7',
    'kafka.producer.retry.backoff.ms': '150',
    'kafka.producer.max.in.flight.requests.per.connection': '1',
    'kafka.producer.enable.idempotence': 'false',
    'kafka.producer.metadata.max.age.ms': '60000',
    'kafka.producer.delivery.timeout.ms': '9000',
    'kafka.producer.key.serializer': 'org.apache.kafka.common.serialization.StringSerializer',
  });
  assert.deepEqual(s.problems, []);
  assert.deepEqual(s.client.brokers, ['h1:9092', 'h2:9093']);
  assert.equal(s.acks, -1);
  assert.equal(s.compression, CompressionTypes.GZIP);
  assert.equal(s.client.clientId, 'me');
  assert.equal(s.client.requestTimeout, 5000);
  assert.equal(s.client.connectionTimeout, 700);
  assert.deepEqual(s.client.retry, { retries: 7, initialRetryTime: 150 });
  assert.deepEqual(s.producer, { maxInFlightRequests: 1, idempotent: false, metadataMaxAge: 60000 });
  assert.equal(s.sendTimeout, 9000);
  for (const [v, acks] of [
    ['0', 0],
    ['1', 1],
    ['-1', -1],
    ['ALL', -1],
  ] as const)
    assert.equal(producer({ 'kafka.producer.acks': v }).acks, acks);
});

test('producer properties kafkajs cannot honour are warnings that say why; bad values are errors naming the key', () => {
  const s = producer({
    'kafka.producer.linger.ms': '1',
    'kafka.producer.batch.size': '16384',
    'kafka.producer.buffer.memory': '1',
    'kafka.producer.auto.offset.reset': 'earliest',
    'kafka.producer.bootstrap.servers': 'elsewhere:1',
  });
  assert.deepEqual(messages(s, 'error'), []);
  assert.deepEqual(messages(s, 'warning'), [
    "a1.sinks.k1.kafka.producer.linger.ms: kafkajs does not linger; each transaction's events go out in one request when the transaction has them (Flume flushes the producer per transaction too); ignored",
    'a1.sinks.k1.kafka.producer.batch.size: kafkajs does not size batches; one request carries the whole transaction (flumeBatchSize events); ignored',
    'a1.sinks.k1.kafka.producer.buffer.memory: kafkajs does not buffer; the channel is the buffer; ignored',
    'a1.sinks.k1.kafka.producer.auto.offset.reset: Kafka producer property "auto.offset.reset" has no kafkajs equivalent (it is a consumer property); ignored',
    'a1.sinks.k1.kafka.producer.bootstrap.servers: the brokers come from a1.sinks.k1.kafka.bootstrap.servers (Flume forces it too); ignored',
  ]);
  assert.deepEqual(s.client.brokers, ['h1:9092', 'h2:9093']);
  assert.equal(s.compression, CompressionTypes.None);
  for (const [v, c] of [
    ['snappy', CompressionTypes.Snappy],
    ['LZ4', CompressionTypes.LZ4],
    ['zstd', CompressionTypes.ZSTD],
    ['none', CompressionTypes.None],
  ] as const) {
    assert.equal(producer({ 'kafka.producer.compression.type': v }).compression, c);
  }

  const bad = producer({ 'kafka.producer.acks': '2', 'kafka.producer.retries': 'many', 'kafka.producer.constructor': 'x' });
  assert.deepEqual(messages(bad, 'error'), ['a1.sinks.k1.kafka.producer.acks: expected all, -1, 0 or 1, got "2"', 'a1.sinks.k1.kafka.producer.retries: expected an integer, got "many"']);
  assert.deepEqual(
    bad.problems.map((p) => p.key),
    ['kafka.producer.acks', 'kafka.producer.retries', 'kafka.producer.constructor'],
  );
});

test('consumer properties: group, offset reset, session/heartbeat/poll timings, fetch sizes; auto commit stays off', () => {
  const s = consumer({
    'kafka.consumer.group.id': 'g4',
    'kafka.consumer.auto.offset.reset': 'latest',
    'kafka.consumer.session.timeout.ms': '6000',
    'kafka.consumer.heartbeat.interval.ms': '500',
    'kafka.consumer.max.poll.interval.ms': '90000',
    'kafka.consumer.fetch.max.wait.ms': '500',
    'kafka.consumer.fetch.min.bytes': '1',
    'kafka.consumer.fetch.max.bytes': '1048576',
    'kafka.consumer.max.partition.fetch.bytes': '65536',
    'kafka.consumer.isolation.level': 'read_uncommitted',
    'kafka.consumer.enable.auto.commit': 'true',
    'kafka.consumer.max.poll.records': '10',
  });
  assert.equal(s.fromBeginning, false);
  assert.deepEqual(s.consumer, {
    groupId: 'g4',
    sessionTimeout: 6000,
    heartbeatInterval: 500,
    rebalanceTimeout: 90000,
    maxWaitTimeInMs: 500,
    minBytes: 1,
    maxBytes: 1048576,
    maxBytesPerPartition: 65536,
    readUncommitted: true,
  });
  assert.deepEqual(messages(s, 'warning'), [
    'a1.sinks.k1.kafka.consumer.enable.auto.commit: true: offsets are committed only after the channel commit (at-least-once); auto commit stays off',
    'a1.sinks.k1.kafka.consumer.max.poll.records: kafkajs hands over what one fetch returned; batchSize bounds each channel batch; ignored',
  ]);
  assert.equal(consumer({ 'kafka.consumer.auto.offset.reset': 'smallest' }).fromBeginning, true);
  assert.deepEqual(messages(consumer({ 'kafka.consumer.auto.offset.reset': 'none' }), 'error'), [
    'a1.sinks.k1.kafka.consumer.auto.offset.reset: expected earliest or latest (kafkajs has no "none"), got "none"',
  ]);
});

test('security: SASL (PLAIN, SCRAM) from sasl.jaas.config, TLS from PEM files; settings for another protocol are warned about, GSSAPI and JKS are errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-opts-'));
  try {
    const ca = path.join(dir, 'ca.pem');
    fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const jks = path.join(dir, 'store.jks');
    fs.writeFileSync(jks, Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));

    const sasl = producer({
      // ssl.* before security.protocol: the order in the file does not matter.
      'kafka.producer.ssl.truststore.location': ca,
      'kafka.producer.ssl.endpoint.identification.algorithm': '',
      'kafka.producer.security.protocol': 'SASL_SSL',
      'kafka.producer.sasl.mechanism': 'SCRAM-SHA-512',
      'kafka.producer.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s3cret";',
    });
    assert.deepEqual(sasl.problems, []);
    assert.deepEqual(sasl.client.sasl, { mechanism: 'scram-sha-512', username: 'alice', password: 's3cret' });
    const tls = sasl.client.ssl as { ca: string[]; checkServerIdentity: () => undefined };
    assert.match(tls.ca[0]!, /BEGIN CERTIFICATE/);
    assert.equal(tls.checkServerIdentity(), undefined);

    assert.equal(producer({ 'kafka.producer.security.protocol': 'SSL' }).client.ssl, true);

    const plain = producer({ 'kafka.producer.ssl.truststore.location': ca, 'kafka.producer.sasl.mechanism': 'PLAIN' });
    assert.equal(plain.client.ssl, undefined);
    assert.equal(plain.client.sasl, undefined);
    assert.deepEqual(messages(plain, 'warning'), [
      'a1.sinks.k1.kafka.producer.ssl.truststore.location: ssl settings apply only with kafka.producer.security.protocol = SSL or SASL_SSL (it is PLAINTEXT); ignored',
      'a1.sinks.k1.kafka.producer.sasl.mechanism: sasl settings apply only with kafka.producer.security.protocol = SASL_PLAINTEXT or SASL_SSL (it is PLAINTEXT); ignored',
    ]);

    const errors = messages(producer({ 'kafka.producer.security.protocol': 'SASL_PLAINTEXT', 'kafka.producer.sasl.mechanism': 'GSSAPI', 'kafka.producer.ssl.keystore.location': jks }), 'error');
    assert.equal(errors.length, 3);
    assert.match(
      errors[0]!,
      /^a1\.sinks\.k1\.kafka\.producer\.sasl\.mechanism: expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 \(kafkajs has no Kerberos \(GSSAPI\) login from a job file\), got "GSSAPI"$/,
    );
    assert.match(
      errors[1]!,
      /^a1\.sinks\.k1\.kafka\.producer\.ssl\.keystore\.location: expected a PEM or PKCS12 file \(.*store\.jks is a Java KeyStore, which Node cannot read; convert it with: keytool -importkeystore/,
    );
    assert.match(errors[2]!, /^a1\.sinks\.k1\.kafka\.producer\.security\.protocol = SASL_PLAINTEXT needs a1\.sinks\.k1\.kafka\.producer\.sasl\.mechanism/);
    assert.match(
      messages(producer({ 'kafka.producer.security.protocol': 'SASL_SSL', 'kafka.producer.sasl.mechanism': 'PLAIN' }), 'error')[0]!,
      /needs a1\.sinks\.k1\.kafka\.producer\.sasl\.jaas\.config with username/,
    );
    assert.match(messages(producer({ 'kafka.producer.ssl.truststore.location': path.join(dir, 'missing.pem') }), 'error')[0]!, /ssl\.truststore\.location: expected a readable file \(ENOENT/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('deprecated key names warn with the key that replaces them, and say when the new key wins', () => {
  const ctx = ctxOf({ brokerList: 'h:1', topic: 't', 'kafka.topic': 'u' });
  assert.deepEqual(
    deprecatedKeys(ctx, [
      ['brokerList', 'kafka.bootstrap.servers'],
      ['topic', 'kafka.topic'],
      ['batchSize', 'flumeBatchSize'],
    ]).map((p) => [p.severity, p.key, p.message]),
    [
      ['warning', 'brokerList', 'a1.sinks.k1.brokerList is deprecated; use a1.sinks.k1.kafka.bootstrap.servers'],
      ['warning', 'topic', 'a1.sinks.k1.topic is deprecated; use a1.sinks.k1.kafka.topic (ignored: a1.sinks.k1.kafka.topic is set)'],
    ],
  );
});

test('with TLS on, stores the component does not set come from -Djavax.net.ssl.* (over FLUME_SSL_*), as Flume injects them', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kafka-opts-'));
  const saved = process.env.FLUME_SSL_TRUSTSTORE_PATH;
  try {
    const pem = (name: string, body: string): string => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`);
      return file;
    };
    const byFlag = pem('flag.pem', 'RkxBRw==');
    const byEnv = pem('env.pem', 'RU5W');
    const own = pem('own.pem', 'T1dO');
    const keys = path.join(dir, 'keys.pem');
    fs.writeFileSync(keys, '-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n');
    process.env.FLUME_SSL_TRUSTSTORE_PATH = byEnv;
    const ca = (s: ReturnType<typeof producer>): string => String((s.client.ssl as { ca?: string[] }).ca?.[0] ?? '');

    assert.match(ca(producer({ 'kafka.producer.security.protocol': 'SSL' })), /RU5W/, 'the environment, when no flag is given');
    setSystemProperties({ 'javax.net.ssl.trustStore': byFlag, 'javax.net.ssl.keyStore': keys, 'javax.net.ssl.keyStorePassword': 'pw' });
    const s = producer({ 'kafka.producer.security.protocol': 'SSL' });
    assert.deepEqual(s.problems, []);
    assert.match(ca(s), /RkxBRw==/, 'the flag wins over the environment');
    const opts = s.client.ssl as { key?: Buffer; cert?: Buffer; passphrase?: string };
    assert.match(String(opts.key), /PRIVATE KEY/);
    assert.equal(opts.passphrase, 'pw');
    assert.match(ca(producer({ 'kafka.producer.security.protocol': 'SSL', 'kafka.producer.ssl.truststore.location': own })), /T1dO/, 'the component key wins');
    assert.equal(producer({}).client.ssl, undefined, 'global settings never turn TLS on');
    setSystemProperties({ 'javax.net.ssl.trustStore': path.join(dir, 'missing.pem') });
    assert.match(
      messages(producer({ 'kafka.producer.security.protocol': 'SSL' }), 'error')[0]!,
      /a1\.sinks\.k1\.kafka\.producer\.security\.protocol: the global -Djavax\.net\.ssl\.trustStore or FLUME_SSL_TRUSTSTORE_PATH = ".*missing\.pem" cannot be used: expected a readable file/,
    );
  } finally {
    setSystemProperties({});
    if (saved === undefined) delete process.env.FLUME_SSL_TRUSTSTORE_PATH;
    else process.env.FLUME_SSL_TRUSTSTORE_PATH = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
