// No value of a secret option (passwords, JAAS lines, private keys, the -D / FLUME_SSL_*
// passwords) is printed: not by validate, not by a failed agent start, not in the log
// file, even at DEBUG. Each job below is wrong in a way that makes an error or warning
// about the secret key itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, freePort, tempDir, spawnFlume, writeJob, jobText, eventually } from '../support/agent.js';
import { writeServerCerts } from './rpc-support.js';

const SECRET = 'Zq7-sekrit-PASSW0RD-4711';

/** Runs flume-ng to its end; an agent that started anyway (a warning only) is stopped once its log says so. */
async function run(args: string[], env: NodeJS.ProcessEnv = {}, log?: string): Promise<{ code: number | string; out: string }> {
  const p = spawnFlume(args, { env });
  let exited = false;
  void p.exited.then(() => (exited = true));
  await eventually(() => exited || (log !== undefined && fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('Agent a1 started')), 20000, 'the agent to start or exit');
  const code = await p.stop();
  return { code, out: p.stdout() + p.stderr() };
}

test('a secret value appears nowhere in stdout, stderr or the log file, whatever is wrong with the job', async () => {
  const t = tempDir();
  try {
    const port = await freePort();
    writeServerCerts(t.dir, 'the-right-one');
    const p12 = path.join(t.dir, 'server.p12');
    const kafkaSink = (props: Record<string, string>) =>
      jobText({
        channels: { c1: { type: 'memory' } },
        sinks: { k1: { type: 'org.apache.flume.sink.kafka.KafkaSink', channel: 'c1', 'kafka.bootstrap.servers': '127.0.0.1:9', 'kafka.topic': 't', ...props } },
      });
    const avroSource = (props: Record<string, string | number>) =>
      jobText({
        sources: { r1: { type: 'avro', bind: '127.0.0.1', port, channels: 'c1', ...props } },
        channels: { c1: { type: 'memory' } },
        sinks: { k1: { type: 'null', channel: 'c1' } },
      });
    const cases: { name: string; job: string; env?: NodeJS.ProcessEnv; props?: string[]; expect: RegExp }[] = [
      {
        name: 'a malformed JAAS line',
        job: kafkaSink({
          'kafka.producer.security.protocol': 'SASL_PLAINTEXT',
          'kafka.producer.sasl.mechanism': 'PLAIN',
          'kafka.producer.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" passwd="${SECRET}";`,
        }),
        expect: /sasl\.jaas\.config: expected a JAAS line .* got a value not shown here \(it is secret\)/,
      },
      {
        name: 'a keystore password given where no TLS is on',
        job: kafkaSink({ 'kafka.producer.ssl.keystore.password': SECRET, 'kafka.producer.ssl.key.password': SECRET }),
        expect: /ssl settings apply only with/,
      },
      {
        name: 'a wrong keystore-password on an avro source',
        job: avroSource({ ssl: 'true', keystore: p12, 'keystore-password': SECRET, 'keystore-type': 'PKCS12' }),
        expect: /keystore .* cannot be used/,
      },
      {
        name: 'a missing keystore with its password set',
        job: avroSource({ ssl: 'true', keystore: path.join(t.dir, 'nope.p12'), 'keystore-password': SECRET }),
        expect: /nope\.p12/,
      },
      {
        name: 'a wrong -Djavax.net.ssl.keyStorePassword',
        job: avroSource({ ssl: 'true' }),
        props: [`-Djavax.net.ssl.keyStore=${p12}`, `-Djavax.net.ssl.keyStorePassword=${SECRET}`, `-Djavax.net.ssl.trustStorePassword=${SECRET}`],
        expect: /cannot be used/,
      },
      {
        name: 'a wrong FLUME_SSL_KEYSTORE_PASSWORD',
        job: avroSource({ ssl: 'true' }),
        env: { FLUME_SSL_KEYSTORE_PATH: p12, FLUME_SSL_KEYSTORE_PASSWORD: SECRET, FLUME_SSL_TRUSTSTORE_PASSWORD: SECRET },
        expect: /cannot be used/,
      },
      {
        name: 'a wrong truststore-password on an avro sink',
        job: jobText({
          channels: { c1: { type: 'memory' } },
          sinks: { k1: { type: 'avro', channel: 'c1', hostname: '127.0.0.1', port, ssl: 'true', truststore: p12, 'truststore-password': SECRET } },
        }),
        expect: /truststore/,
      },
    ];
    for (const c of cases) {
      const file = writeJob(t.dir, c.job, 'job.conf');
      const logDir = path.join(t.dir, 'logs');
      fs.rmSync(logDir, { recursive: true, force: true });
      const validate = await run(['validate', '-f', file, ...(c.props ?? [])], c.env);
      const agent = await run(
        ['agent', '-n', 'a1', '-f', file, '-c', path.join(ROOT, 'conf'), `-Dflume.log.dir=${logDir}`, '-Dflume.root.logger=DEBUG,LOGFILE', ...(c.props ?? [])],
        c.env,
        path.join(logDir, 'flume.log'),
      );
      const log = fs.existsSync(path.join(logDir, 'flume.log')) ? fs.readFileSync(path.join(logDir, 'flume.log'), 'utf8') : '';
      const all = `${validate.out}\n${agent.out}\n${log}`;
      // The problem is reported (so the test sees the error path), without the value.
      assert.match(all, c.expect, `${c.name}: the problem is not reported:\n${all}`);
      assert.ok(!all.includes(SECRET), `${c.name}: the secret was printed:\n${all}`);
      assert.ok(!all.includes(SECRET.slice(0, 12)), `${c.name}: part of the secret was printed:\n${all}`);
    }
  } finally {
    t.cleanup();
  }
});
