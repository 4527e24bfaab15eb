// Chains of our own agents over Avro, as separate processes: the seed topologies of
// jobs/avro (ports replaced by free ones), failover with a downstream agent killed and
// restarted, and a full downstream channel that the upstream sink retries through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, eventually, freePort, loggedBodies, tcpExchange } from '../support/agent.js';
import { PLUGIN_ARGS, bodies, recordingSink } from '../support/plugins/recorder.js';
import { netcatSource, rpcSinkJob, rpcSourceJob, withAgents } from './rpc-support.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A job of jobs/avro with the seed ports (4141, 4142, 44444), /tmp and the followed log (tail -F <log>) replaced. */
function avroJob(rel: string, ports: Partial<Record<4141 | 4142 | 44444, number>>, dir?: string, log?: string): string {
  let text = fs.readFileSync(path.join(ROOT, 'jobs', 'avro', rel), 'utf8');
  for (const [from, to] of Object.entries(ports)) text = text.replace(new RegExp(`^(\\S+\\.port\\s*=\\s*)${from}$`, 'gm'), `$1${to}`);
  if (dir) text = text.replace(/^(\S+\.sink\.directory\s*=\s*)\/tmp$/gm, `$1${dir}`);
  if (log) {
    assert.match(text, /^\S+\.command = tail -F \/opt\/module\/\S+$/m, `${rel} follows a log of /opt/module`);
    text = text.replace(/^(\S+\.command = tail -F )\/opt\/module\/\S+$/m, `$1${log}`);
  }
  return text;
}

/**
 * Appends `lines` to a log an exec source follows with tail -F. The first line goes
 * alone and must arrive before the rest are written: tail may open the file after it
 * was written (it then prints it among the last lines), and after that it follows.
 */
async function appendLines(log: string, lines: string[], arrived: () => number): Promise<void> {
  fs.appendFileSync(log, `${lines[0]}\n`);
  await eventually(() => arrived() >= 1, 15_000, 'tail -F to pick the first line up');
  for (let i = 1; i < lines.length; i += 10)
    fs.appendFileSync(
      log,
      lines
        .slice(i, i + 10)
        .map((l) => `${l}\n`)
        .join(''),
    );
}

/** Sends each line through a netcat source and checks every line was acknowledged. */
async function send(port: number, lines: string[]): Promise<void> {
  const reply = await tcpExchange(port, lines.map((l) => `${l}\n`).join(''), { expectBytes: 3 * lines.length });
  assert.equal(reply, 'OK\n'.repeat(lines.length));
}

const range = (prefix: string, n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);
const sorted = (xs: string[]): string[] => [...xs].sort();

test('jobs/avro: every job file passes flume-ng validate', () => {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name.endsWith('.conf')) files.push(path.join(d, e.name));
    }
  };
  walk(path.join(ROOT, 'jobs', 'avro'));
  assert.ok(files.length >= 13, files.join(' '));
  for (const f of files) {
    const r = spawnSync(process.execPath, [BIN, 'validate', '-f', f], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${f}:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout + r.stderr, /0 error\(s\), 0 warning\(s\)/, f);
  }
});

test('oup1: one source replicated over two avro sinks to two agents; both get every event', { timeout: 60_000 }, () =>
  withAgents(async (agents) => {
    const [p1, p2] = [await freePort(), await freePort()];
    const files = path.join(agents.dir, 'files');
    fs.mkdirSync(files);
    const log = path.join(agents.dir, 'hive.log');
    fs.writeFileSync(log, '');
    const a2 = await agents.start('a2', avroJob('oup1/flume-avro-hdfs.conf', { 4141: p1 }));
    await agents.start('a3', avroJob('oup1/flume-avro-file.conf', { 4142: p2 }, files));
    await agents.start('a1', avroJob('oup1/flume-exec-avro.conf', { 4141: p1, 4142: p2 }, undefined, log));
    const lines = range('line-', 50);
    await appendLines(log, lines, () => loggedBodies(a2.stderr()).length);
    await eventually(() => loggedBodies(a2.stderr()).length === 50, 15_000, 'a2 to log 50 events');
    const written = (): string =>
      fs
        .readdirSync(files)
        .map((f) => fs.readFileSync(path.join(files, f), 'utf8'))
        .join('');
    await eventually(() => written().split('\n').length - 1 === 50, 15_000, 'a3 to write 50 lines');
    assert.deepEqual(loggedBodies(a2.stderr()), lines);
    assert.equal(written(), lines.map((l) => `${l}\n`).join(''));
  }),
);

test('group2: load_balance over two downstream agents spreads the batches; every event arrives once, also with one agent down', { timeout: 90_000 }, () =>
  withAgents(async (agents) => {
    const [p1, p2, nc] = [await freePort(), await freePort(), await freePort()];
    const a2 = await agents.start('a2', avroJob('group2/flume-avro-console1.conf', { 4141: p1 }));
    const a3 = await agents.start('a3', avroJob('group2/flume-avro-console2.conf', { 4142: p2 }));
    await agents.start('a1', avroJob('group2/flume-netcat-avro.conf', { 4141: p1, 4142: p2, 44444: nc }));
    const got = (): string[] => [...loggedBodies(a2.stderr()), ...loggedBodies(a3.stderr())];
    // One event per batch (each delivered before the next is sent), so the random selector decides 20 times.
    const first = range('lb-', 20);
    for (let i = 0; i < first.length; i++) {
      await send(nc, [first[i]!]);
      await eventually(() => got().length === i + 1, 10_000, `event ${i} to arrive`);
    }
    assert.deepEqual(sorted(got()), sorted(first));
    assert.ok(loggedBodies(a2.stderr()).length > 0 && loggedBodies(a3.stderr()).length > 0, 'both downstream agents got batches');

    // a3 goes away: its sink fails, is backed off, and a2 carries everything.
    const a3Bodies = loggedBodies(a3.stderr());
    assert.equal(await a3.stop(), 0);
    const second = range('lb-down-', 20);
    for (let i = 0; i < second.length; i += 5) await send(nc, second.slice(i, i + 5));
    await eventually(() => loggedBodies(a2.stderr()).length + a3Bodies.length === 40, 20_000, 'all 40 events to arrive');
    assert.deepEqual(sorted([...loggedBodies(a2.stderr()), ...a3Bodies]), sorted([...first, ...second]));
  }),
);

test('group3: two agents send to one avro source; it gets every event of both', { timeout: 60_000 }, () =>
  withAgents(async (agents) => {
    const [p1, nc2] = [await freePort(), await freePort()];
    const log = path.join(agents.dir, 'group.log');
    fs.writeFileSync(log, '');
    const a3 = await agents.start('a3', avroJob('group3/flume5-avro-console.conf', { 4141: p1 }));
    await agents.start('a1', avroJob('group3/flume3-exec-avro.conf', { 4141: p1 }, undefined, log));
    await agents.start('a2', avroJob('group3/flume2-netcat-avro.conf', { 4141: p1, 44444: nc2 }));
    const fromA1 = range('from-a1-', 30);
    const fromA2 = range('from-a2-', 30);
    const fromA1Seen = (): number => loggedBodies(a3.stderr()).filter((b) => b.startsWith('from-a1-')).length;
    await Promise.all([appendLines(log, fromA1, fromA1Seen), send(nc2, fromA2.slice(0, 15)).then(() => send(nc2, fromA2.slice(15)))]);
    await eventually(() => loggedBodies(a3.stderr()).length === 60, 15_000, 'a3 to log 60 events');
    const logged = loggedBodies(a3.stderr());
    assert.deepEqual(sorted(logged), sorted([...fromA1, ...fromA2]));
    // Each sender's events keep their order.
    assert.deepEqual(
      logged.filter((b) => b.startsWith('from-a1-')),
      fromA1,
    );
    assert.deepEqual(
      logged.filter((b) => b.startsWith('from-a2-')),
      fromA2,
    );
  }),
);

test('failover: the preferred downstream agent is killed, the other takes over at once, and gets the work back after a restart; nothing is lost', { timeout: 90_000 }, () =>
  withAgents(async (agents) => {
    const [p1, p2, nc] = [await freePort(), await freePort(), await freePort()];
    const a2 = await agents.start('a2', avroJob('group2/flume-avro-console1.conf', { 4141: p1 }));
    const a3 = await agents.start('a3', avroJob('group2/flume-avro-console2.conf', { 4142: p2 }));
    const a1 = await agents.start('a1', avroJob('failover/flume-netcat-avro.conf', { 4141: p1, 4142: p2, 44444: nc }));

    const before = range('before-', 10);
    await send(nc, before);
    await eventually(() => loggedBodies(a2.stderr()).length === 10, 10_000, 'a2 (preferred) to get the first events');
    assert.equal(loggedBodies(a3.stderr()).length, 0);

    // Kill a2 outright (its channel is empty: everything it acknowledged is logged).
    const a2Bodies = loggedBodies(a2.stderr());
    assert.equal(await a2.stop('SIGKILL'), 'SIGKILL');
    const killedAt = Date.now();
    const during = range('during-', 10);
    await send(nc, during);
    // The failed batch moves to a3 within the same sink-group call: no 5 s pause.
    await eventually(() => loggedBodies(a3.stderr()).length === 10, 15_000, 'a3 to take over');
    await a1.waitFor(/Sink k1 failed and has been sent to failover list/, 5000);
    assert.doesNotMatch(a1.stderr(), /Unable to deliver event/, "the failover happened inside one call, without the runner's back-off");

    // a2 comes back on the same port; once k1's 2 s penalty has passed it gets the work again.
    const a2again = await agents.start('a2', avroJob('group2/flume-avro-console1.conf', { 4141: p1 }));
    await sleep(Math.max(0, killedAt + 2500 - Date.now()));
    const after = range('after-', 10);
    await send(nc, after);
    await eventually(() => loggedBodies(a2again.stderr()).length === 10, 15_000, 'the restarted a2 to get the work back');
    assert.deepEqual(loggedBodies(a3.stderr()), during);
    assert.deepEqual(sorted([...a2Bodies, ...loggedBodies(a3.stderr()), ...loggedBodies(a2again.stderr())]), sorted([...before, ...during, ...after]));
  }),
);

test('a full downstream channel answers FAILED; the upstream avro sink rolls back and retries until it gets through', { timeout: 90_000 }, () =>
  withAgents(async (agents) => {
    const [p1, nc] = [await freePort(), await freePort()];
    const out = path.join(agents.dir, 'delivered.jsonl');
    const down = path.join(agents.dir, 'b.down');
    fs.writeFileSync(down, '');
    // b: a small channel that does not wait for room, drained by a sink that fails while b.down exists.
    const b = await agents.start(
      'b',
      rpcSourceJob('b', 'avro', p1, 'b.channels.c1.capacity = 10\nb.channels.c1.transactionCapacity = 10\nb.channels.c1.keep-alive = 0\nb.sinks = k1\nb.sinks.k1.channel = c1\n') +
        recordingSink('k1', out, { failFile: down, agent: 'b', batchSize: 10 }),
      { extraArgs: PLUGIN_ARGS },
    );
    const a = await agents.start('a', rpcSinkJob('a', 'avro', p1, 'a.sinks.k1.batch-size = 10\n') + netcatSource('a', nc) + 'a.channels.c1.capacity = 1000\na.channels.c1.transactionCapacity = 100\n');
    const lines = range('full-', 30);
    await send(nc, lines);
    // The first 10 fill b's channel; the next batch is refused.
    await a.waitFor(/Rpc sink k1: failed to send events to 127\.0\.0\.1:\d+: appendBatch answered FAILED/, 15_000);
    await b.waitFor(/Avro source r1: unable to process event batch of 10, answering FAILED: Space for commit to queue couldn't be acquired/, 5000);
    assert.equal(bodies(out).length, 0);
    // b's destination recovers; a's retries get through, and nothing is lost or doubled.
    fs.rmSync(down);
    await eventually(() => bodies(out).length === 30, 40_000, 'all 30 events delivered');
    assert.deepEqual(sorted(bodies(out)), sorted(lines));
    // Counted again after both agents stopped: a batch delivered twice, late, would show.
    assert.equal(await a.stop(), 0);
    assert.equal(await b.stop(), 0);
    assert.equal(bodies(out).length, 30);
  }),
);
