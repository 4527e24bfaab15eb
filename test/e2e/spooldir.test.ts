import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { eventually, spawnFlume, startAgent, tempDir } from '../support/agent.js';
import { countLines, names, numbered, outLines, spoolJob, stopMetrics, writeLines } from './spooldir-support.js';

function dirs(): { root: string; spool: string; out: string; cleanup(): void } {
  const t = tempDir('flume-spool-');
  const spool = path.join(t.dir, 'spool');
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(spool);
  fs.mkdirSync(out);
  return { root: t.dir, spool, out, cleanup: t.cleanup };
}

function fdCount(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

test('1,000 files dropped at once all end .COMPLETED, every line delivered once; one undecodable file among them is reported once and set aside, the rest flow', async () => {
  const d = dirs();
  const agent = await startAgent(spoolJob(d.spool, d.out), { dir: d.root });
  try {
    const expected: string[] = [];
    // Written elsewhere and moved in, so all 1,000 appear at once.
    const staging = path.join(d.root, 'staging');
    fs.mkdirSync(staging);
    for (let f = 0; f < 1000; f++) {
      const lines = numbered(`f${f}`, 20);
      expected.push(...lines);
      writeLines(path.join(staging, `file-${String(f).padStart(4, '0')}.log`), lines);
    }
    // The bad file: 5 good lines, a line with bytes that are not UTF-8, then 5 more.
    fs.writeFileSync(
      path.join(staging, 'file-0500-bad.log'),
      Buffer.concat([
        Buffer.from(
          numbered('bad', 5)
            .map((l) => `${l}\n`)
            .join(''),
        ),
        Buffer.from([0x78, 0xff, 0xfe, 0x0a]),
        Buffer.from('after-0\nafter-1\n'),
      ]),
    );
    expected.push(...numbered('bad', 5));
    for (const f of fs.readdirSync(staging)) fs.renameSync(path.join(staging, f), path.join(d.spool, f));

    let maxFds = 0;
    await eventually(
      () => {
        maxFds = Math.max(maxFds, fdCount(agent.proc.pid!));
        return names(d.spool).filter((n) => n.endsWith('.COMPLETED')).length === 1000;
      },
      60000,
      '1,000 files completed',
    );
    await eventually(() => outLines(d.out).length >= expected.length, 20000, 'every line written');
    assert.equal(await agent.stop(), 0);

    const got = countLines(outLines(d.out));
    const missing = expected.filter((l) => !got.has(l));
    const twice = [...got].filter(([, n]) => n > 1).map(([l]) => l);
    assert.deepEqual(missing, [], 'lines lost');
    assert.deepEqual(twice, [], 'lines delivered twice');
    assert.equal(got.size, expected.length, 'nothing else was delivered');
    assert.ok(!got.has('after-0'), 'nothing after the undecodable line');
    const left = names(d.spool).filter((n) => !n.endsWith('.COMPLETED'));
    assert.deepEqual(left, ['.flumespool', 'file-0500-bad.log.FAILED']);
    const reports = agent.stderr().match(/file \S*file-0500-bad\.log is set aside: the line at byte offset 30 is not valid UTF-8 \(decodeErrorPolicy = FAIL\)/g) ?? [];
    assert.equal(reports.length, 1, agent.stderr().slice(-3000));
    const m = stopMetrics(agent);
    assert.equal(m.EventReadFail, 1);
    assert.equal(m.EventAcceptedCount, expected.length);
    assert.ok(maxFds < 60, `the agent held ${maxFds} descriptors at once`);
  } finally {
    await agent.stop();
    d.cleanup();
  }
});

test('deletePolicy = immediate: each file is deleted once its lines are committed', async () => {
  const d = dirs();
  const agent = await startAgent(spoolJob(d.spool, d.out, { deletePolicy: 'immediate', batchSize: 7 }), { dir: d.root });
  try {
    writeLines(path.join(d.spool, 'a.log'), numbered('a', 100));
    writeLines(path.join(d.spool, 'b.log'), numbered('b', 50));
    await eventually(() => names(d.spool).join() === '.flumespool', 10000, 'both files deleted');
    await eventually(() => outLines(d.out).length === 150, 10000, '150 lines');
    assert.deepEqual(outLines(d.out).sort(), [...numbered('a', 100), ...numbered('b', 50)].sort());
  } finally {
    await agent.stop();
    d.cleanup();
  }
});

test('trackingPolicy = tracker_dir with recursiveDirectorySearch: files stay, markers in trackerDir, a restart reads nothing twice', async () => {
  const d = dirs();
  const tracker = path.join(d.root, 'tracker');
  const job = spoolJob(d.spool, d.out, { trackingPolicy: 'tracker_dir', trackerDir: tracker, recursiveDirectorySearch: true });
  fs.mkdirSync(path.join(d.spool, 'sub'));
  fs.mkdirSync(path.join(d.spool, '.hidden'));
  writeLines(path.join(d.spool, 'top.log'), numbered('top', 30));
  writeLines(path.join(d.spool, 'sub', 'deep.log'), numbered('deep', 30));
  writeLines(path.join(d.spool, '.hidden', 'no.log'), numbered('no', 3));
  let agent = await startAgent(job, { dir: d.root });
  try {
    await eventually(() => fs.existsSync(path.join(tracker, 'top.log.COMPLETED')) && fs.existsSync(path.join(tracker, 'sub', 'deep.log.COMPLETED')), 10000, 'two tracker files');
    await eventually(() => outLines(d.out).length === 60, 10000, '60 lines');
    assert.deepEqual(names(d.spool), ['.hidden', 'sub', 'top.log']);
    assert.deepEqual(names(path.join(d.spool, 'sub')), ['deep.log']);
    assert.equal(await agent.stop(), 0);
    agent = await startAgent(job, { dir: d.root });
    writeLines(path.join(d.spool, 'sub', 'new.log'), numbered('new', 5));
    await eventually(() => fs.existsSync(path.join(tracker, 'sub', 'new.log.COMPLETED')), 10000, 'the new file tracked');
    await eventually(() => outLines(d.out).length >= 65, 10000, '65 lines');
    assert.equal(await agent.stop(), 0);
    assert.deepEqual(outLines(d.out).sort(), [...numbered('top', 30), ...numbered('deep', 30), ...numbered('new', 5)].sort());
  } finally {
    await agent.stop();
    d.cleanup();
  }
});

test("includePattern and the seed's ignorePattern ([^ ]*\\.tmp): only matching files are read, the others are left untouched", async () => {
  const d = dirs();
  const agent = await startAgent(spoolJob(d.spool, d.out, { includePattern: '^.*\\\\.(log|tmp)$', ignorePattern: '([^ ]*\\\\.tmp)' }), { dir: d.root });
  try {
    writeLines(path.join(d.spool, 'a.log'), numbered('a', 10));
    writeLines(path.join(d.spool, 'upload.tmp'), numbered('tmp', 10));
    writeLines(path.join(d.spool, 'c.txt'), numbered('txt', 10));
    await eventually(() => fs.existsSync(path.join(d.spool, 'a.log.COMPLETED')), 10000, 'a.log completed');
    // Another scan or two must not touch the others.
    await agent.waitFor(/reading \S+a\.log/);
    writeLines(path.join(d.spool, 'z.log'), numbered('z', 1));
    await eventually(() => fs.existsSync(path.join(d.spool, 'z.log.COMPLETED')), 10000, 'z.log completed');
    assert.deepEqual(names(d.spool), ['.flumespool', 'a.log.COMPLETED', 'c.txt', 'upload.tmp', 'z.log.COMPLETED']);
    await eventually(() => outLines(d.out).length === 11, 5000, '11 lines');
    assert.deepEqual(outLines(d.out), [...numbered('a', 10), 'z-0']);
  } finally {
    await agent.stop();
    d.cleanup();
  }
});

test('a file still being written is not picked up until it has been quiet for quietPeriod; then all of it arrives once', async () => {
  const d = dirs();
  const agent = await startAgent(spoolJob(d.spool, d.out, { quietPeriod: 700 }), { dir: d.root });
  try {
    const file = path.join(d.spool, 'growing.log');
    const fd = fs.openSync(file, 'w');
    // 20 appends, 150 ms apart: longer than pollDelay, shorter than the quiet period.
    for (let i = 0; i < 20; i++) {
      fs.writeSync(
        fd,
        numbered(`g${i}`, 50)
          .map((l) => `${l}\n`)
          .join(''),
      );
      await new Promise((r) => setTimeout(r, 150));
      assert.ok(!agent.stderr().includes('growing.log'), `picked up while written (after ${i + 1} appends)`);
    }
    fs.closeSync(fd);
    await eventually(() => fs.existsSync(`${file}.COMPLETED`), 10000, 'completed');
    await eventually(() => outLines(d.out).length === 1000, 5000, '1000 lines');
    assert.deepEqual(outLines(d.out), Array.from({ length: 20 }, (_, i) => numbered(`g${i}`, 50)).flat());
    assert.doesNotMatch(agent.stderr(), /set aside/);
  } finally {
    await agent.stop();
    d.cleanup();
  }
});

test('a file that grows after pickup: its lines up to the picked-up size arrive once, it is reported and renamed .FAILED, the next file flows', async () => {
  const d = dirs();
  // A 10-event channel and a sink whose directory is gone: the source stalls mid-file.
  const agent = await startAgent(spoolJob(d.spool, d.out, { batchSize: 10 }, { channel: { capacity: 10, transactionCapacity: 10, 'keep-alive': 0 }, sink: { 'sink.batchSize': 10 } }), { dir: d.root });
  try {
    fs.rmSync(d.out, { recursive: true });
    writeLines(path.join(d.spool, 'a.log'), numbered('a', 200));
    await agent.waitFor(/The channel is full or failing/, 10000);
    fs.appendFileSync(path.join(d.spool, 'a.log'), 'late-0\nlate-1\n');
    writeLines(path.join(d.spool, 'b.log'), numbered('b', 10));
    fs.mkdirSync(d.out);
    await eventually(() => fs.existsSync(path.join(d.spool, 'a.log.FAILED')) && fs.existsSync(path.join(d.spool, 'b.log.COMPLETED')), 20000, 'a set aside, b completed');
    await eventually(() => outLines(d.out).length >= 210, 10000, '210 lines');
    assert.deepEqual(outLines(d.out), [...numbered('a', 200), ...numbered('b', 10)]);
    assert.match(agent.stderr(), /file \S+a\.log is set aside: it changed after it was picked up \(size 1090 → 1104 bytes/);
    assert.equal(await agent.stop(), 0);
    assert.equal(stopMetrics(agent).EventReadFail, 1);
  } finally {
    await agent.stop();
    d.cleanup();
  }
});

test('a re-used name, a FIFO, a link to a directory and a corrupt position file: each reported once and set aside, the good file flows', async () => {
  const d = dirs();
  fs.mkdirSync(path.join(d.spool, '.flumespool'));
  fs.writeFileSync(path.join(d.spool, '.flumespool', '.flumespool-main.meta'), 'garbage left by a full disk');
  writeLines(path.join(d.spool, 'reused.log.COMPLETED'), numbered('old', 2));
  writeLines(path.join(d.spool, 'reused.log'), numbered('again', 2));
  fs.mkdirSync(path.join(d.root, 'adir'));
  fs.symlinkSync(path.join(d.root, 'adir'), path.join(d.spool, 'link.log'));
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [path.join(d.spool, 'pipe.log')]);
  writeLines(path.join(d.spool, 'good.log'), numbered('good', 10));
  const agent = await startAgent(spoolJob(d.spool, d.out), { dir: d.root });
  try {
    await eventually(() => fs.existsSync(path.join(d.spool, 'good.log.COMPLETED')), 10000, 'good.log completed');
    await eventually(() => names(d.spool).filter((n) => n.endsWith('.FAILED')).length === 3, 10000, 'three set aside');
    await eventually(() => outLines(d.out).length === 10, 5000, '10 lines');
    // A few more scans: nothing is reported twice.
    writeLines(path.join(d.spool, 'later.log'), numbered('later', 1));
    await eventually(() => fs.existsSync(path.join(d.spool, 'later.log.COMPLETED')), 10000, 'later.log completed');
    assert.equal(await agent.stop(), 0);
    assert.deepEqual(outLines(d.out), [...numbered('good', 10), 'later-0']);
    assert.deepEqual(
      names(d.spool).filter((n) => !n.startsWith('.')),
      ['good.log.COMPLETED', 'later.log.COMPLETED', 'link.log.FAILED', 'pipe.log.FAILED', 'reused.log.COMPLETED', 'reused.log.FAILED'],
    );
    const err = agent.stderr();
    const once = (re: RegExp): void => assert.equal((err.match(new RegExp(re.source, 'g')) ?? []).length, 1, `${re} once in:\n${err.slice(-4000)}`);
    once(/file \S+reused\.log is set aside: the file name was used before: reused\.log\.COMPLETED already exists/);
    once(/file \S+link\.log is set aside: it is a symbolic link to a directory/);
    once(/file \S+pipe\.log is set aside: it is not a regular file/);
    once(/position file \S+\.flumespool-main\.meta cannot be used: neither of its two records passes its checksum; moved aside to \S+\.corrupt-\d+/);
    assert.ok(fs.readdirSync(path.join(d.spool, '.flumespool')).some((n) => n.startsWith('.flumespool-main.meta.corrupt-')));
    const m = stopMetrics(agent);
    assert.equal(m.EventReadFail, 3);
    assert.equal(m.GenericProcessingFail, 1);
  } finally {
    await agent.stop();
    d.cleanup();
  }
});

test('consumeOrder: oldest reads files by modification time (ties by name), youngest the other way round', async () => {
  for (const order of ['oldest', 'youngest'] as const) {
    const d = dirs();
    const base = Date.now() / 1000 - 3600;
    for (const [name, age] of [
      ['b.log', 0],
      ['a.log', 0],
      ['c.log', 10],
      ['d.log', 20],
    ] as const) {
      writeLines(path.join(d.spool, name), [name]);
      fs.utimesSync(path.join(d.spool, name), base + age, base + age);
    }
    const agent = await startAgent(spoolJob(d.spool, d.out, { consumeOrder: order, batchSize: 1 }), { dir: d.root });
    try {
      await eventually(() => outLines(d.out).length === 4, 10000, 'four lines');
      assert.deepEqual(outLines(d.out), order === 'oldest' ? ['a.log', 'b.log', 'c.log', 'd.log'] : ['d.log', 'c.log', 'a.log', 'b.log'], order);
    } finally {
      await agent.stop();
      d.cleanup();
    }
  }
});

test('flume-ng validate: an unknown deserializer, a UTF-16 inputCharset and a bad ignorePattern are errors naming their keys', async () => {
  const d = dirs();
  try {
    const validate = async (source: Record<string, string>): Promise<string> => {
      const file = path.join(d.root, 'job.conf');
      fs.writeFileSync(file, spoolJob(d.spool, d.out, source));
      const v = spawnFlume(['validate', '-f', file, '-n', 'a1']);
      assert.equal(await v.exited, 1);
      return v.stdout() + v.stderr();
    };
    const out = await validate({ deserializer: 'LINES', inputCharset: 'UTF-16' });
    assert.match(out, /a1\.sources\.r1\.deserializer: unknown deserializer "LINES"; known: LINE, AVRO, BLOB, org\.apache\.flume\.serialization\.LineDeserializer\$Builder/);
    assert.match(out, /a1\.sources\.r1\.inputCharset: UTF-16 is not supported/);
    assert.match(await validate({ ignorePattern: '(a*+)' }), /a1\.sources\.r1\.ignorePattern: expected a Java regular expression that JavaScript can run/);
  } finally {
    d.cleanup();
  }
});

test('a position file left by Java Flume (Avro, written here by python3-avro as DurablePositionTracker writes it) is continued: the lines before its offset are not sent again', async () => {
  const d = dirs();
  try {
    const file = path.join(d.spool, 'app.log');
    const lines = numbered('app', 100);
    writeLines(file, lines);
    const offset = lines.slice(0, 40).reduce((n, l) => n + l.length + 1, 0);
    fs.mkdirSync(path.join(d.spool, '.flumespool'));
    const py = `
import sys, json, avro.schema, avro.datafile, avro.io
s = avro.schema.parse(json.dumps({"namespace": "org.apache.flume.serialization", "type": "record", "name": "TransferStateFileMeta", "fields": [{"name": "offset", "type": "long"}]}))
w = avro.datafile.DataFileWriter(open(sys.argv[1], "wb"), avro.io.DatumWriter(), s)
w.set_meta("file", sys.argv[2].encode())
for off in (0, 120, int(sys.argv[3])):
    w.append({"offset": off})
    w.sync()
w.close()`;
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('/usr/bin/python3', ['-c', py, path.join(d.spool, '.flumespool', '.flumespool-main.meta'), file, String(offset)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const agent = await startAgent(spoolJob(d.spool, d.out), { dir: d.root });
    try {
      await eventually(() => fs.existsSync(`${file}.COMPLETED`), 10000, 'app.log completed');
      await eventually(() => outLines(d.out).length === 60, 5000, '60 lines');
      assert.deepEqual(outLines(d.out), lines.slice(40));
      assert.match(agent.stderr(), new RegExp(`resuming \\S+app\\.log at byte offset ${offset}, from the position file Java Flume left`));
    } finally {
      await agent.stop();
    }
  } finally {
    d.cleanup();
  }
});

test('a file the agent may not read (EACCES; when the test runs as root, the agent runs without its permission override) is reported once and set aside, the others flow', async () => {
  const d = dirs();
  const { spawn } = await import('node:child_process');
  const { BIN, ROOT } = await import('../support/agent.js');
  for (const p of [d.root, d.spool, d.out]) fs.chmodSync(p, 0o777);
  writeLines(path.join(d.spool, 'secret.log'), numbered('secret', 3));
  fs.chmodSync(path.join(d.spool, 'secret.log'), 0o000);
  writeLines(path.join(d.spool, 'open.log'), numbered('open', 3));
  const job = path.join(d.root, 'job.conf');
  fs.writeFileSync(job, spoolJob(d.spool, d.out));
  fs.chmodSync(job, 0o644);
  const args = [BIN, 'agent', '-n', 'a1', '-f', job, '-c', path.join(ROOT, 'conf'), '-Dflume.root.logger=INFO,console'];
  const asRoot = process.getuid?.() === 0;
  const proc = asRoot
    ? // Root reads any file: the agent runs without root's permission override instead (it stays
      // root, so it can still read the project wherever the checkout lives).
      spawn('setpriv', ['--bounding-set', '-dac_override,-dac_read_search', '--', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise((r) => proc.on('exit', r));
  try {
    await eventually(
      () => fs.existsSync(path.join(d.spool, 'open.log.COMPLETED')) && fs.existsSync(path.join(d.spool, 'secret.log.FAILED')),
      15000,
      `open.log completed, secret.log set aside:\n${err}`,
    );
    await eventually(() => outLines(d.out).length === 3, 5000, '3 lines');
    assert.deepEqual(outLines(d.out), numbered('open', 3));
    assert.equal((err.match(/file \S+secret\.log is set aside: it cannot be opened: EACCES/g) ?? []).length, 1, err);
  } finally {
    proc.kill('SIGTERM');
    await exited;
    d.cleanup();
  }
});

test('a spoolDir that does not exist stops the agent at start with one clear line', async () => {
  const d = dirs();
  try {
    const file = path.join(d.root, 'job.conf');
    fs.writeFileSync(file, spoolJob(path.join(d.root, 'nope'), d.out));
    const a = spawnFlume(['agent', '-n', 'a1', '-f', file, '-Dflume.root.logger=INFO,console']);
    assert.equal(await a.exited, 1);
    assert.match(a.stderr(), /source r1 failed to start: spoolDir \S+nope cannot be used: ENOENT/);
  } finally {
    d.cleanup();
  }
});
