// TLS between our avro sink and avro source with a self-signed certificate made here
// by openssl: PKCS12 and PEM keystores, PEM and PKCS12 truststores, trust-all-certs,
// TLS with deflate, the protocol and cipher keys, and the mistakes users make.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { createEvent } from '../../src/core/event.js';
import { withTransaction } from '../../src/core/transaction.js';
import { cipherOptions, openSslCipherName, protocolOptions } from '../../src/rpc/tls.js';
import { eventually, freePort, loggedBodies, spawnFlume, tcpExchange, tempDir, writeJob } from '../support/agent.js';
import { selfSignedCert } from '../support/avro/peer.js';
import { inProcessAgent, netcatSource, openssl, rpcSinkJob, rpcSourceJob, withAgents, writeServerCerts } from './rpc-support.js';

const t = tempDir('flume-ts-avro-tls-');
after(() => t.cleanup());
const f = (name: string): string => path.join(t.dir, name);

before(() => {
  const { key, cert } = writeServerCerts(t.dir, 's3cret');
  fs.writeFileSync(f('server.pem'), Buffer.concat([key, cert]));
  openssl(['pkcs12', '-export', '-nokeys', '-in', f('cert.pem'), '-out', f('trust.p12'), '-passout', 'pass:trustme']);
  // Another self-signed certificate nobody trusts.
  fs.writeFileSync(f('other.pem'), selfSignedCert().cert);
});

const receiver = (port: number, keys: string) => rpcSourceJob('b', 'avro', port, `b.sources.r1.ssl = true\n${keys}\n`);

const sender = (port: number, keys: string) => rpcSinkJob('a', 'avro', port, `a.sinks.k1.connect-timeout = 3000\na.sinks.k1.request-timeout = 3000\na.sinks.k1.ssl = true\n${keys}\n`);

const P12 = `b.sources.r1.keystore = ${f('server.p12')}\nb.sources.r1.keystore-password = s3cret\nb.sources.r1.keystore-type = PKCS12`;

/** Puts `n` events into the sender's channel and reports what arrived at the receiver (or undefined when the sender failed). */
async function roundTrip(sourceKeys: string, sinkKeys: string, n = 5): Promise<{ received: string[]; sinkLog: string; sourceLog: string }> {
  const port = await freePort();
  const b = await inProcessAgent(receiver(port, sourceKeys), { name: 'b', dir: t.dir });
  const a = await inProcessAgent(sender(port, sinkKeys), { name: 'a', dir: t.dir });
  try {
    const events = Array.from({ length: n }, (_, i) => createEvent(`tls-${i}`, { i: String(i) }));
    await a.put(events);
    const sinkCounter = () => a.counter('SINK');
    await eventually(() => Number(sinkCounter().EventDrainSuccessCount) === n || Number(sinkCounter().EventWriteFail) > 0, 10_000, 'delivery or failure');
    const bch = b.agent.channels.get('c1')!;
    const received = (await withTransaction(bch, (tx) => tx.take(100))).map((e) => e.body.toString());
    return { received, sinkLog: a.log(), sourceLog: b.log() };
  } finally {
    await a.stop(0);
    await b.stop(0);
  }
}

const five = ['tls-0', 'tls-1', 'tls-2', 'tls-3', 'tls-4'];

test('PKCS12 keystore on the source, PEM truststore on the sink', { timeout: 30_000 }, async () => {
  const r = await roundTrip(P12, `a.sinks.k1.truststore = ${f('cert.pem')}\na.sinks.k1.truststore-type = PEM`);
  assert.deepEqual(r.received, five);
  assert.match(r.sourceLog, /Avro source r1 started on 127\.0\.0\.1:\d+ \(compression none, ssl on\)/);
});

test('PEM keystore (key and certificate in one file) on the source, PKCS12 truststore with a password on the sink', { timeout: 30_000 }, async () => {
  const r = await roundTrip(`b.sources.r1.keystore = ${f('server.pem')}`, `a.sinks.k1.truststore = ${f('trust.p12')}\na.sinks.k1.truststore-password = trustme\na.sinks.k1.truststore-type = PKCS12`);
  assert.deepEqual(r.received, five);
});

test('trust-all-certs accepts the self-signed certificate; TLS and deflate together', { timeout: 30_000 }, async () => {
  const r = await roundTrip(`${P12}\nb.sources.r1.compression-type = deflate`, 'a.sinks.k1.trust-all-certs = true\na.sinks.k1.compression-type = deflate\na.sinks.k1.compression-level = 9');
  assert.deepEqual(r.received, five);
});

test('a sink that does not trust the certificate fails and logs why; nothing reaches the source', { timeout: 30_000 }, async () => {
  const r = await roundTrip(P12, `a.sinks.k1.truststore = ${f('other.pem')}`);
  assert.deepEqual(r.received, []);
  assert.match(r.sinkLog, /Unable to deliver event from k1: Rpc sink k1: failed to send events to 127\.0\.0\.1:\d+: TLS to 127\.0\.0\.1:\d+ failed: self-signed certificate/);
  // The same without ssl on the sink: a plain client against a TLS server.
  const plain = await roundTrip(P12, 'a.sinks.k1.ssl = false');
  assert.deepEqual(plain.received, []);
  assert.match(plain.sinkLog, /failed to send events/);
});

test('protocol keys apply: TLSv1.3-only source vs. a sink that excludes TLSv1.3 fails; both on TLSv1.2 works', { timeout: 30_000 }, async () => {
  const r = await roundTrip(`${P12}\nb.sources.r1.include-protocols = TLSv1.3`, 'a.sinks.k1.trust-all-certs = true\na.sinks.k1.exclude-protocols = SSLv3 TLSv1.3');
  assert.deepEqual(r.received, []);
  assert.match(r.sinkLog, /TLS to 127\.0\.0\.1:\d+ failed/);
  const ok = await roundTrip(`${P12}\nb.sources.r1.include-protocols = TLSv1.2`, 'a.sinks.k1.trust-all-certs = true\na.sinks.k1.include-protocols = TLSv1.2 TLSv1.3');
  assert.deepEqual(ok.received, five);
});

test('cipher suite keys apply, in Java names: a suite the source does not offer fails, a shared one works', { timeout: 30_000 }, async () => {
  const src = `${P12}\nb.sources.r1.include-protocols = TLSv1.2\nb.sources.r1.include-cipher-suites = TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`;
  const bad = await roundTrip(src, 'a.sinks.k1.trust-all-certs = true\na.sinks.k1.exclude-cipher-suites = TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
  assert.deepEqual(bad.received, []);
  const good = await roundTrip(src, 'a.sinks.k1.trust-all-certs = true\na.sinks.k1.include-cipher-suites = TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
  assert.deepEqual(good.received, five);
});

test('a chain of two agent processes over TLS (PKCS12 keystore, PEM truststore)', { timeout: 60_000 }, () =>
  withAgents(async (agents) => {
    const [port, nc] = [await freePort(), await freePort()];
    const b = await agents.start('b', receiver(port, P12) + 'b.sinks = k1\nb.sinks.k1.type = logger\nb.sinks.k1.channel = c1\n', { exitCode: 0 });
    await agents.start('a', sender(port, `a.sinks.k1.truststore = ${f('cert.pem')}`) + netcatSource('a', nc), { exitCode: 0 });
    assert.equal(await tcpExchange(nc, 'secret one\nsecret two\n', { expectBytes: 6 }), 'OK\nOK\n');
    await eventually(() => loggedBodies(b.stderr()).length === 2, 10_000, 'b to log both events');
    assert.deepEqual(loggedBodies(b.stderr()), ['secret one', 'secret two']);
  }),
);

test('keystore mistakes stop the agent with one clear line: wrong password, a JKS file, a missing file', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const run = async (keys: string): Promise<string> => {
    const dir = fs.mkdtempSync(path.join(t.dir, 'bad-'));
    const p = spawnFlume(['agent', '-n', 'b', '-f', writeJob(dir, receiver(port, keys) + 'b.sinks = k1\nb.sinks.k1.type = null\nb.sinks.k1.channel = c1\n'), '-Dflume.root.logger=INFO,console']);
    assert.equal(await p.exited, 1);
    return p.stderr();
  };
  const wrong = await run(`b.sources.r1.keystore = ${f('server.p12')}\nb.sources.r1.keystore-password = nope`);
  assert.match(
    wrong,
    /flume-ng: agent b not started: .*job\.conf:\d+: source r1 failed to start: b\.sources\.r1\.keystore .*server\.p12 cannot be used: mac verify failure \(wrong keystore-password\?\)/,
  );
  fs.writeFileSync(f('server.jks'), Buffer.concat([Buffer.from('feedfeed00000002', 'hex'), Buffer.alloc(64)]));
  const jks = await run(`b.sources.r1.keystore = ${f('server.jks')}\nb.sources.r1.keystore-password = x\nb.sources.r1.keystore-type = JKS`);
  assert.match(jks, /b\.sources\.r1\.keystore: .*server\.jks is a Java JKS store, which Node's TLS cannot read\. Convert it once to PKCS12:/);
  assert.match(jks, /keytool -importkeystore -srckeystore .*server\.jks -srcstoretype JKS -destkeystore .*server\.p12 -deststoretype PKCS12/);
  const missing = await run(`b.sources.r1.keystore = ${f('nope.p12')}`);
  assert.match(missing, /b\.sources\.r1\.keystore: .*nope\.p12 cannot be read: ENOENT/);
});

test('-Djavax.net.ssl.* flags stand in for missing keys and win over FLUME_SSL_*, as in Flume', { timeout: 60_000 }, () =>
  withAgents(async (agents) => {
    const [port, nc] = [await freePort(), await freePort()];
    // The environment names a keystore that does not exist and a certificate nobody trusts: were it used, nothing would arrive.
    const env = { FLUME_SSL_KEYSTORE_PATH: f('missing.p12'), FLUME_SSL_KEYSTORE_PASSWORD: 'wrong', FLUME_SSL_TRUSTSTORE_PATH: f('other.pem') };
    const b = await agents.start('b', receiver(port, '') + 'b.sinks = k1\nb.sinks.k1.type = logger\nb.sinks.k1.channel = c1\n', {
      exitCode: 0,
      env,
      extraArgs: [`-Djavax.net.ssl.keyStore=${f('server.p12')}`, '-Djavax.net.ssl.keyStorePassword=s3cret'],
    });
    await agents.start('a', sender(port, '') + netcatSource('a', nc), { exitCode: 0, env, extraArgs: [`-Djavax.net.ssl.trustStore=${f('cert.pem')}`] });
    assert.equal(await tcpExchange(nc, 'by flag one\nby flag two\n', { expectBytes: 6 }), 'OK\nOK\n');
    await eventually(() => loggedBodies(b.stderr()).length === 2, 10_000, 'b to log both events');
    assert.deepEqual(loggedBodies(b.stderr()), ['by flag one', 'by flag two']);
  }),
);

test('FLUME_SSL_* environment variables stand in for missing keys, as in Flume', { timeout: 30_000 }, async () => {
  const saved = { ...process.env };
  process.env.FLUME_SSL_KEYSTORE_PATH = f('server.p12');
  process.env.FLUME_SSL_KEYSTORE_PASSWORD = 's3cret';
  process.env.FLUME_SSL_TRUSTSTORE_PATH = f('cert.pem');
  try {
    const r = await roundTrip('', '');
    assert.deepEqual(r.received, five);
  } finally {
    for (const k of ['FLUME_SSL_KEYSTORE_PATH', 'FLUME_SSL_KEYSTORE_PASSWORD', 'FLUME_SSL_TRUSTSTORE_PATH']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
});

test("Java cipher suite names map to OpenSSL's (checked against openssl ciphers -stdname)", () => {
  const r = spawnSync('openssl', ['ciphers', '-stdname', 'ALL:COMPLEMENTOFALL'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  let checked = 0;
  for (const line of r.stdout.trim().split('\n')) {
    const [std, , ossl] = line.trim().split(/\s+/);
    if (!std || !ossl) continue;
    const mapped = openSslCipherName(std);
    // Suites outside the mapping (PSK, SRP, anonymous, ARIA) are reported as unknown, never mapped wrongly.
    if (mapped === undefined) continue;
    assert.equal(mapped, ossl, std);
    checked++;
  }
  assert.ok(checked >= 40, `only ${checked} suites checked`);
  assert.equal(openSslCipherName('ECDHE-RSA-AES128-GCM-SHA256'), 'ECDHE-RSA-AES128-GCM-SHA256');
  assert.equal(openSslCipherName('TLS_AES_256_GCM_SHA384'), 'TLS_AES_256_GCM_SHA384');
  assert.equal(openSslCipherName('TLS_PSK_WITH_AES_128_GCM_SHA256'), undefined);
});

test('protocol and cipher settings become Node options', () => {
  assert.deepEqual(protocolOptions([], ['SSLv3']), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
  assert.deepEqual(protocolOptions(['TLSv1.2'], ['SSLv3']), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
  const hole = protocolOptions(['TLSv1.1', 'TLSv1.2', 'TLSv1.3'], ['TLSv1.2']);
  assert.equal(hole.minVersion, 'TLSv1.1');
  assert.equal(hole.maxVersion, 'TLSv1.3');
  assert.ok(hole.secureOptions !== undefined && hole.secureOptions > 0);
  assert.throws(() => protocolOptions(['SSLv3'], []), /no TLS protocol is left/);
  assert.equal(cipherOptions([], []), undefined);
  assert.equal(cipherOptions(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'], []), 'ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256');
  const minus = cipherOptions([], ['TLS_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'])!;
  assert.ok(!minus.split(':').includes('TLS_AES_128_GCM_SHA256'));
  assert.ok(minus.endsWith(':!ECDHE-RSA-AES128-GCM-SHA256'));
  // Node accepts what we produce.
  tls.createSecureContext({ ciphers: minus });
});
