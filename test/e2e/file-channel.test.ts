import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, tempDir, startAgent, spawnFlume, writeJob, eventually, jobText, tcpExchange, ROOT, type RunningAgent } from '../support/agent.js';

/**
 * A client that sends the numbers 0, 1, 2, ... as lines to a netcat source, a window
 * at a time, and counts a number as acknowledged only when its OK arrived. When the
 * agent dies it reconnects and resends from the first number not acknowledged.
 */
class NumberSender {
  acked = 0;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly port: number,
    private readonly window = 200,
  ) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.session();
      } catch {
        // agent killed or not up yet
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 20));
    }
  }

  private session(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(this.port, '127.0.0.1');
      let inWindow = 0;
      let replies = '';
      const sendWindow = (): void => {
        if (this.stopped) {
          sock.end();
          return;
        }
        let s = '';
        for (let i = 0; i < this.window; i++) s += `${this.acked + i}\n`;
        inWindow = this.window;
        sock.write(s);
      };
      sock.on('connect', sendWindow);
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => {
        replies += d;
        let nl: number;
        while ((nl = replies.indexOf('\n')) >= 0) {
          const line = replies.slice(0, nl);
          replies = replies.slice(nl + 1);
          if (line !== 'OK') {
            sock.destroy();
            return reject(new Error(`reply ${line}`));
          }
          this.acked++;
          inWindow--;
        }
        if (inWindow === 0) sendWindow();
      });
      sock.on('error', reject);
      sock.on('close', () => resolve());
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

function outputNumbers(dir: string): number[] {
  const out: number[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    for (const line of text.split('\n')) if (line !== '') out.push(Number(line));
  }
  return out;
}

type Props = Record<string, string | number>;

function fileChannelProps(base: string): Props {
  return {
    type: 'file',
    checkpointDir: path.join(base, 'cp'),
    dataDirs: `${path.join(base, 'd1')},${path.join(base, 'd2')}`,
    useDualCheckpoints: 'true',
    backupCheckpointDir: path.join(base, 'cp-backup'),
    maxFileSize: 262144,
    checkpointInterval: 700,
    minimumRequiredSpace: 1048576,
    capacity: 100000,
    transactionCapacity: 1000,
  };
}

function crashJob(port: number, base: string, channel: Props): string {
  return jobText({
    sources: { r1: { type: 'netcat', bind: '127.0.0.1', port, channels: 'c1' } },
    channels: { c1: channel },
    sinks: { k1: { type: 'file_roll', channel: 'c1', 'sink.directory': path.join(base, 'out'), 'sink.rollInterval': 0, 'sink.batchSize': 100 } },
  });
}

const SINK_BATCH = 100;
const WINDOW = 200;

/**
 * Kills the agent with SIGKILL at KILLS random moments while a client sends numbers
 * through netcat, restarting it each time; then checks that every number the source
 * acknowledged reached the file_roll sink, and counts the duplicates.
 */
async function crashTest(label: string, KILLS: number, channel: (base: string) => Props): Promise<void> {
  const t = tempDir('flume-fc-crash-');
  const port = await freePort();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const job = writeJob(t.dir, crashJob(port, t.dir, channel(t.dir)));
  const sender = new NumberSender(port, WINDOW);
  const args = ['agent', '-n', 'a1', '-f', job, '-c', path.join(ROOT, 'conf'), '-Dflume.root.logger=INFO,console'];
  let agent: RunningAgent | undefined;
  try {
    for (let k = 0; k < KILLS; k++) {
      agent = spawnFlume(args);
      await agent.waitFor(/Agent a1 started/, 30_000);
      const before = sender.acked;
      // A random moment, once traffic is flowing again.
      await eventually(() => sender.acked > before, 20_000, 'traffic after restart');
      await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 900)));
      agent.proc.kill('SIGKILL');
      await agent.exited;
    }
    // Last run: stop sending, let the sink drain everything acknowledged.
    agent = spawnFlume(args);
    await agent.waitFor(/Agent a1 started/, 30_000);
    await sender.stop();
    const acked = sender.acked;
    const seen = new Set<number>();
    await eventually(
      () => {
        seen.clear();
        for (const n of outputNumbers(out)) seen.add(n);
        for (let n = 0; n < acked; n++) if (!seen.has(n)) return false;
        return true;
      },
      60_000,
      `all ${acked} acknowledged numbers in the output`,
    );
    assert.equal(await agent.stop(), 0);
    agent = undefined;
    const all = outputNumbers(out);
    const dups = all.length - new Set(all).size;
    // Each kill may repeat the sink's batch in flight (written, take not committed) and
    // the source's window in flight (committed, OK not yet received).
    const allowed = KILLS * (SINK_BATCH + WINDOW);
    console.log(`${label} crash test: ${acked} numbers acknowledged over ${KILLS} kills, ${all.length} lines written, ${dups} duplicate(s) (allowed ${allowed})`);
    for (let n = 0; n < acked; n++) assert.ok(seen.has(n), `number ${n} was acknowledged and never delivered`);
    assert.ok(dups <= allowed, `${dups} duplicates: more than the events in flight at the kills`);
    assert.ok(acked > KILLS * WINDOW, `too little traffic to mean anything (${acked})`);
  } finally {
    await sender.stop();
    if (agent) await agent.stop('SIGKILL');
    t.cleanup();
  }
}

test('file channel: kill -9 at 20 random moments under load loses no acknowledged event', { timeout: 240_000 }, async () => {
  await crashTest('file channel', 20, fileChannelProps);
});

test('jdbc channel: kill -9 at 6 random moments under load loses no acknowledged event', { timeout: 120_000 }, async () => {
  await crashTest('jdbc channel', 6, (base) => ({ type: 'jdbc', 'driver.url': `jdbc:sqlite:${path.join(base, 'events.sqlite')}` }));
});

test('file channel: a second agent on the same directories exits 1 naming the first', async () => {
  const t = tempDir('flume-fc-lock-');
  try {
    const base = t.dir;
    const mk = (port: number): string =>
      jobText({
        sources: { r1: { type: 'netcat', bind: '127.0.0.1', port, channels: 'c1' } },
        channels: { c1: { type: 'file', checkpointDir: path.join(base, 'cp'), dataDirs: path.join(base, 'data'), minimumRequiredSpace: 1048576 } },
        sinks: { k1: { type: 'null', channel: 'c1' } },
      });
    const port1 = await freePort();
    const first = await startAgent(mk(port1), { dir: t.dir });
    try {
      assert.equal(await tcpExchange(port1, 'one\n', { expectBytes: 3 }), 'OK\n');
      const file2 = writeJob(t.dir, mk(await freePort()), 'second.conf');
      const second = spawnFlume(['agent', '-n', 'a1', '-f', file2, '-c', path.join(ROOT, 'conf')]);
      assert.equal(await second.exited, 1);
      const text = second.stderr() + second.stdout();
      assert.match(text, new RegExp(`locked by process ${first.proc.pid}\\b`));
      assert.match(text, /FTS_ERR_CHANNEL_LOCKED|another agent is using it/);
    } finally {
      assert.equal(await first.stop(), 0);
    }
    // Clean stop released the lock: a new agent starts.
    const port2 = await freePort();
    const again = await startAgent(mk(port2), { dir: t.dir });
    assert.equal(await tcpExchange(port2, 'two\n', { expectBytes: 3 }), 'OK\n');
    assert.equal(await again.stop(), 0);
  } finally {
    t.cleanup();
  }
});

test('durable channel settings Flume users may carry over are checked: encryption, other databases, dual checkpoints', async () => {
  const t = tempDir('flume-fc-validate-');
  try {
    const file = writeJob(
      t.dir,
      jobText({
        sources: { r1: { type: 'seq', channels: 'c1 c2 c3' } },
        channels: {
          c1: {
            type: 'file',
            checkpointDir: path.join(t.dir, 'cp'),
            dataDirs: path.join(t.dir, 'd'),
            useDualCheckpoints: 'true',
            'encryption.activeKey': 'key-0',
            'encryption.cipherProvider': 'AESCTRNOPADDING',
            'encryption.keyProvider': 'JCEKSFILE',
          },
          c2: { type: 'jdbc', 'db.type': 'MYSQL', 'driver.class': 'com.mysql.jdbc.Driver', 'driver.url': 'jdbc:mysql://db/flume' },
          c3: { type: 'spillablememory', memoryCapacity: 10, checkpointDir: path.join(t.dir, 'cp3'), dataDirs: path.join(t.dir, 'd3') },
        },
        sinks: { k1: { type: 'null', channel: 'c1' }, k2: { type: 'null', channel: 'c2' }, k3: { type: 'null', channel: 'c3' } },
      }),
    );
    const p = spawnFlume(['validate', '-f', file]);
    assert.notEqual(await p.exited, 0);
    const out = p.stdout() + p.stderr();
    assert.match(out, /a1\.channels\.c1\.backupCheckpointDir is required when useDualCheckpoints is true/);
    assert.match(out, /a1\.channels\.c1\.encryption\.keyProvider\.keys: list the aliases of every key ever used/);
    assert.match(out, /a1\.channels\.c1\.encryption\.keyProvider\.keyStoreFile: required with JCEKSFILE/);
    assert.match(out, /a1\.channels\.c1\.encryption\.keyProvider\.keyStorePasswordFile: required with JCEKSFILE/);
    assert.match(out, /a1\.channels\.c2\.db\.type: "MYSQL" is not supported: this channel keeps events only in its embedded database/);
    assert.match(out, /a1\.channels\.c2\.driver\.class: only the embedded database is supported/);
    assert.match(out, /a1\.channels\.c2\.driver\.url: only the embedded database is supported/);
    assert.doesNotMatch(out, /channels\.c3/);
  } finally {
    t.cleanup();
  }
});

test("file, SPILLABLEMEMORY and jdbc channels without directories use Flume's places under the home directory (-Duser.home)", async () => {
  const t = tempDir('flume-fc-home-');
  try {
    const out = path.join(t.dir, 'out');
    fs.mkdirSync(out);
    const job = writeJob(
      t.dir,
      jobText({
        sources: { r1: { type: 'seq', totalEvents: 3000, batchSize: 100, channels: 'c1' }, r2: { type: 'seq', totalEvents: 50, channels: 'c2' } },
        channels: { c1: { type: 'SPILLABLEMEMORY', memoryCapacity: 100, overflowTimeout: 0, minimumRequiredSpace: 1048576 }, c2: { type: 'jdbc' } },
        sinks: { k1: { type: 'file_roll', channel: 'c1', 'sink.directory': out, 'sink.rollInterval': 0 }, k2: { type: 'null', channel: 'c2' } },
      }),
    );
    const agent = spawnFlume(['agent', '-n', 'a1', '-f', job, '-c', path.join(ROOT, 'conf'), '-Dflume.root.logger=INFO,console', `-Duser.home=${t.dir}`]);
    try {
      await agent.waitFor(/Agent a1 started/);
      // the sink keeps up with seq or not; either way every number arrives once, in order
      await eventually(() => outputNumbers(out).length >= 3000, 30_000, '3000 events written');
      assert.deepEqual(
        outputNumbers(out),
        Array.from({ length: 3000 }, (_, i) => i),
      );
      assert.ok(fs.existsSync(path.join(t.dir, '.flume', 'file-channel', 'checkpoint', 'checkpoint')));
      assert.ok(fs.readdirSync(path.join(t.dir, '.flume', 'file-channel', 'data')).some((n) => n.startsWith('log-')));
      assert.ok(fs.existsSync(path.join(t.dir, '.flume', 'jdbc-channel', 'c2.sqlite')));
    } finally {
      assert.equal(await agent.stop(), 0);
    }
  } finally {
    t.cleanup();
  }
});

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'file-channel');
const encryptionSettings = (dir: string): Record<string, Props> => ({
  'keys in files': {
    'encryption.activeKey': 'k0',
    'encryption.cipherProvider': 'AESCTRNOPADDING',
    'encryption.keyProvider': 'FILE',
    'encryption.keyProvider.keys': 'k0',
    'encryption.keyProvider.keys.k0.keyFile': path.join(dir, 'k0.key'),
  },
  "Flume's JCEKSFILE settings with a PKCS12 store": {
    'encryption.activeKey': 'key-1',
    'encryption.cipherProvider': 'AESCTRNOPADDING',
    'encryption.keyProvider': 'JCEKSFILE',
    'encryption.keyProvider.keyStoreFile': path.join(FIXTURES, 'keys.p12'),
    'encryption.keyProvider.keyStorePasswordFile': path.join(FIXTURES, 'keystore.password'),
    'encryption.keyProvider.keys': 'key-0 key-1',
    'encryption.keyProvider.keys.key-0.passwordFile': path.join(FIXTURES, 'keystore.password'),
  },
});

for (const variant of ['keys in files', "Flume's JCEKSFILE settings with a PKCS12 store"])
  test(`file channel with encryption.* keys (${variant}): events arrive, the data directory holds no plain text`, async () => {
    const t = tempDir('flume-fc-enc-');
    try {
      const port = await freePort();
      const out = path.join(t.dir, 'out');
      fs.mkdirSync(out);
      fs.writeFileSync(path.join(t.dir, 'k0.key'), '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n');
      const agent = await startAgent(
        jobText({
          sources: { r1: { type: 'netcat', bind: '127.0.0.1', port, channels: 'c1' } },
          channels: {
            c1: {
              type: 'file',
              checkpointDir: path.join(t.dir, 'cp'),
              dataDirs: path.join(t.dir, 'data'),
              minimumRequiredSpace: 1048576,
              ...encryptionSettings(t.dir)[variant],
            },
          },
          sinks: { k1: { type: 'file_roll', channel: 'c1', 'sink.directory': out, 'sink.rollInterval': 0 } },
        }),
        { dir: t.dir },
      );
      try {
        assert.equal(await tcpExchange(port, 'top secret one\ntop secret two\n', { expectBytes: 6 }), 'OK\nOK\n');
        await eventually(
          () =>
            fs
              .readdirSync(out)
              .map((f) => fs.readFileSync(path.join(out, f), 'utf8'))
              .join('') === 'top secret one\ntop secret two\n',
          10_000,
          'events written',
        );
        for (const f of fs.readdirSync(path.join(t.dir, 'data'))) {
          assert.ok(
            !fs
              .readFileSync(path.join(t.dir, 'data', f))
              .toString('latin1')
              .includes('secret'),
            `${f} holds plain text`,
          );
        }
      } finally {
        assert.equal(await agent.stop(), 0);
      }
    } finally {
      t.cleanup();
    }
  });

test('jdbc channel: a second agent on the same database exits 1 saying another agent uses it', async () => {
  const t = tempDir('flume-jdbc-lock-');
  try {
    const mk = (port: number): string =>
      jobText({
        sources: { r1: { type: 'netcat', bind: '127.0.0.1', port, channels: 'c1' } },
        channels: { c1: { type: 'jdbc', 'driver.url': `jdbc:sqlite:${path.join(t.dir, 'db.sqlite')}` } },
        sinks: { k1: { type: 'null', channel: 'c1' } },
      });
    const port1 = await freePort();
    const first = await startAgent(mk(port1), { dir: t.dir });
    try {
      assert.equal(await tcpExchange(port1, 'one\n', { expectBytes: 3 }), 'OK\n');
      const second = spawnFlume(['agent', '-n', 'a1', '-f', writeJob(t.dir, mk(await freePort()), 'second.conf'), '-c', path.join(ROOT, 'conf')]);
      assert.equal(await second.exited, 1);
      assert.match(second.stderr() + second.stdout(), /channel c1 failed to start: jdbc channel c1: cannot open .*db\.sqlite: database is locked \(another agent is using this database\)/);
    } finally {
      assert.equal(await first.stop(), 0);
    }
  } finally {
    t.cleanup();
  }
});

test('netcat → file → avro → avro → file → file_roll over two agents, either killed with kill -9 at random: every acknowledged number arrives', { timeout: 300_000 }, async () => {
  const t = tempDir('flume-fc-chain-');
  const ncPort = await freePort();
  const avroPort = await freePort();
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const chan = (name: string): Props => ({ ...fileChannelProps(path.join(t.dir, name)), useDualCheckpoints: 'false' });
  const jobA = writeJob(
    t.dir,
    jobText({
      sources: { r1: { type: 'netcat', bind: '127.0.0.1', port: ncPort, channels: 'c1' } },
      channels: { c1: chan('a') },
      sinks: { k1: { type: 'avro', channel: 'c1', hostname: '127.0.0.1', port: avroPort, 'batch-size': 100 } },
    }),
    'a.conf',
  );
  const jobB = writeJob(
    t.dir,
    jobText({
      sources: { r1: { type: 'avro', bind: '127.0.0.1', port: avroPort, channels: 'c1' } },
      channels: { c1: chan('b') },
      sinks: { k1: { type: 'file_roll', channel: 'c1', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.batchSize': 100 } },
    }),
    'b.conf',
  );
  const args = (job: string): string[] => ['agent', '-n', 'a1', '-f', job, '-c', path.join(ROOT, 'conf'), '-Dflume.root.logger=INFO,console'];
  const start = async (job: string): Promise<RunningAgent> => {
    const a = spawnFlume(args(job));
    await a.waitFor(/Agent a1 started/, 30_000);
    return a;
  };
  const sender = new NumberSender(ncPort, WINDOW);
  let a: RunningAgent | undefined;
  let b: RunningAgent | undefined;
  const KILLS = 10;
  try {
    b = await start(jobB);
    a = await start(jobA);
    for (let k = 0; k < KILLS; k++) {
      const before = sender.acked;
      await eventually(() => sender.acked > before, 30_000, 'traffic');
      await new Promise((r) => setTimeout(r, 200 + Math.floor(Math.random() * 800)));
      if (Math.random() < 0.5) {
        a.proc.kill('SIGKILL');
        await a.exited;
        a = await start(jobA);
      } else {
        b.proc.kill('SIGKILL');
        await b.exited;
        b = await start(jobB);
      }
    }
    await sender.stop();
    const acked = sender.acked;
    const seen = new Set<number>();
    await eventually(
      () => {
        seen.clear();
        for (const n of outputNumbers(out)) seen.add(n);
        for (let n = 0; n < acked; n++) if (!seen.has(n)) return false;
        return true;
      },
      90_000,
      `all ${acked} acknowledged numbers at the far end`,
    );
    assert.equal(await a.stop(), 0);
    assert.equal(await b.stop(), 0);
    a = b = undefined;
    const all = outputNumbers(out);
    const dups = all.length - new Set(all).size;
    const allowed = KILLS * (WINDOW + 2 * SINK_BATCH);
    console.log(`two-agent chain crash test: ${acked} numbers acknowledged over ${KILLS} kills, ${all.length} lines written, ${dups} duplicate(s) (allowed ${allowed})`);
    assert.ok(dups <= allowed, `${dups} duplicates`);
  } finally {
    await sender.stop();
    if (a) await a.stop('SIGKILL');
    if (b) await b.stop('SIGKILL');
    t.cleanup();
  }
});
