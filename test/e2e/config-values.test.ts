// Values from the environment and from config filters, as a user keeping secrets out
// of job files would use them: the agent runs with them, and no command prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, freePort, startAgent, tcpExchange, tempDir, writeJob, loggedBodies } from '../support/agent.js';

test('${VAR} and an external config filter fill a running job; the values never show in validate, graph or errors', async () => {
  const t = tempDir();
  const port = await freePort();
  const script = path.join(t.dir, 'vault.sh');
  fs.writeFileSync(script, '#!/bin/sh\n[ "$1" = "capacity" ] && echo 777 && exit 0\n[ "$1" = "bad" ] && echo Zq9-SECRET-lots && exit 0\nexit 1\n', { mode: 0o755 });
  const job = `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.configfilters = vault
a1.configfilters.vault.type = external
a1.configfilters.vault.command = ${script}
a1.sources.r1.type = netcat
a1.sources.r1.bind = \${FLUME_TEST_BIND}
a1.sources.r1.port = \${FLUME_TEST_PORT}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = \${vault['capacity']}
a1.sinks.k1.type = logger
a1.sinks.k1.channel = c1
`;
  const env = { FLUME_TEST_PORT: String(port), FLUME_TEST_BIND: '127.0.0.1' };
  const agent = await startAgent(job, { dir: t.dir, env });
  try {
    assert.equal(await tcpExchange(port, 'through env\n', { expectBytes: 3 }), 'OK\n');
    await agent.waitFor(/through env/);
    assert.deepEqual(loggedBodies(agent.stderr()), ['through env']);
    const graph = spawnSync(process.execPath, [BIN, 'graph', '-n', 'a1', '-f', path.join(t.dir, 'job.conf'), '--format', 'json'], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(graph.status, 0, graph.stderr);
    assert.match(graph.stdout, /"capacity": "\*\*\*"/);
    assert.match(graph.stdout, /"port": "\*\*\*"/);
    assert.doesNotMatch(graph.stdout, /"777"/);
  } finally {
    assert.equal(await agent.stop(), 0);
  }
  try {
    const bad = writeJob(t.dir, job.replace("${vault['capacity']}", "${vault['bad']}").replace('${FLUME_TEST_PORT}', '${FLUME_TEST_UNSET_PORT}'), 'bad.conf');
    const r = spawnSync(process.execPath, [BIN, 'validate', '-f', bad], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /bad\.conf:12: error: a1\.channels\.c1\.capacity: expected an integer, got a value not shown here \(it is secret\)/);
    assert.match(r.stdout, /bad\.conf:9: error: a1\.sources\.r1\.port: environment variable FLUME_TEST_UNSET_PORT is not set/);
    assert.doesNotMatch(r.stdout + r.stderr, /Zq9-SECRET/);
  } finally {
    t.cleanup();
  }
});
