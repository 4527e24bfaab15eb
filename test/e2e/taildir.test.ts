import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, eventually, jobText, startAgent, tempDir, type RunningAgent } from '../support/agent.js';
import { countSeqs, fdsInto, inJob, outLines, positions, seqLines, taildirJob } from './taildir-support.js';

interface Fixture {
  dir: string;
  logs: string;
  out: string;
  posFile: string;
  start(job: string): Promise<RunningAgent>;
}

/** A temporary directory with logs/ and out/, and every agent started stopped afterwards. */
async function withDirs(body: (f: Fixture) => Promise<void>): Promise<void> {
  const t = tempDir('flume-taildir-');
  const agents: RunningAgent[] = [];
  const logs = path.join(t.dir, 'logs');
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(logs);
  fs.mkdirSync(out);
  try {
    await body({
      dir: t.dir,
      logs,
      out,
      posFile: path.join(t.dir, 'state', 'taildir_position.json'),
      async start(job) {
        const a = await startAgent(job, { dir: t.dir });
        agents.push(a);
        return a;
      },
    });
  } finally {
    for (const a of agents) await a.stop();
    t.cleanup();
  }
}

/** Waits until the output holds exactly `total` distinct seq lines, then checks none is missing or doubled. */
async function expectSeqs(out: string, total: number, what: string): Promise<void> {
  await eventually(() => countSeqs(outLines(out), total).counts.size >= total, 20000, what);
  const c = countSeqs(outLines(out), total);
  assert.deepEqual(c.missing, [], `${what}: missing`);
  assert.deepEqual(c.duplicated, [], `${what}: duplicated`);
  assert.deepEqual(c.foreign, [], `${what}: unexpected lines`);
}

test("TAILDIR continues from a position file written in Java Flume's format, and writes the same format back", async () => {
  await withDirs(async (f) => {
    const log = path.join(f.logs, 'app.log');
    fs.writeFileSync(log, seqLines(0, 10));
    const inode = fs.statSync(log).ino;
    const pos = 4 * 100; // after seq=3
    fs.mkdirSync(path.dirname(f.posFile));
    // Byte for byte what Java Flume 1.11 writes (Gson, compact, no newline).
    fs.writeFileSync(f.posFile, `[{"inode":${inode},"pos":${pos},"file":"${log}"}]`);
    const agent = await f.start(taildirJob({ logs: f.logs, regex: 'app\\.log', out: f.out, posFile: f.posFile }));
    await eventually(() => outLines(f.out).length >= 6, 10000, 'lines after the recorded position');
    fs.appendFileSync(log, seqLines(10, 12));
    await eventually(() => outLines(f.out).length >= 8, 10000, 'appended lines');
    assert.equal(await agent.stop(), 0);
    const c = countSeqs(outLines(f.out), 12);
    assert.deepEqual(c.missing, [0, 1, 2, 3], 'only what Flume had not read yet is sent');
    assert.deepEqual(c.duplicated, []);
    assert.equal(fs.readFileSync(f.posFile, 'utf8'), `[{"inode":${inode},"pos":1200,"file":"${log}"}]`);
  });
});

test('TAILDIR headers: headers.<group>.<key>, fileHeader with fileHeaderKey, byteOffsetHeader; two groups in one directory', async () => {
  await withDirs(async (f) => {
    fs.writeFileSync(path.join(f.logs, 'a.log'), 'alpha\r\nbeta\n');
    fs.writeFileSync(path.join(f.logs, 'b.txt'), 'gamma\n');
    fs.writeFileSync(path.join(f.logs, 'ignored.dat'), 'never\n');
    const job = jobText({
      sources: {
        r1: {
          type: 'TAILDIR',
          channels: 'c1',
          positionFile: f.posFile,
          filegroups: 'g1 g2',
          'filegroups.g1': `${f.logs}/${inJob('.*\\.log')}`,
          'filegroups.g2': `${f.logs}/${inJob('[a-z]\\.txt')}`,
          'headers.g1.topic': 'logs',
          'headers.g1.dc': 'east',
          'headers.g2.topic': 'texts',
          fileHeader: true,
          fileHeaderKey: 'path',
          byteOffsetHeader: true,
        },
      },
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'file_roll', channel: 'c1', 'sink.directory': f.out, 'sink.rollInterval': 0, 'sink.serializer': 'header_and_text' } },
    });
    await f.start(job);
    await eventually(() => outLines(f.out).length >= 3, 10000, 'three events');
    const lines = outLines(f.out);
    const parsed = lines
      .map((l) => {
        const m = /^\{(.*)\} (.*)$/.exec(l)!;
        return { headers: Object.fromEntries(m[1]!.split(', ').map((kv) => kv.split('=') as [string, string])), body: m[2] };
      })
      .sort((a, b) => a.body!.localeCompare(b.body!));
    assert.deepEqual(parsed, [
      { headers: { topic: 'logs', dc: 'east', path: path.join(f.logs, 'a.log'), byteoffset: '0' }, body: 'alpha' },
      { headers: { topic: 'logs', dc: 'east', path: path.join(f.logs, 'a.log'), byteoffset: '7' }, body: 'beta' },
      { headers: { topic: 'texts', path: path.join(f.logs, 'b.txt'), byteoffset: '0' }, body: 'gamma' },
    ]);
  });
});

test('TAILDIR skipToEnd starts files it has no position for at their end', async () => {
  await withDirs(async (f) => {
    const log = path.join(f.logs, 'app.log');
    fs.writeFileSync(log, seqLines(0, 50));
    await f.start(taildirJob({ logs: f.logs, regex: 'app\\.log', out: f.out, posFile: f.posFile, source: { skipToEnd: true } }));
    await eventually(() => positions(f.posFile).some((p) => p.pos === 5000), 10000, 'the position at the end');
    fs.appendFileSync(log, seqLines(50, 60));
    await eventually(() => outLines(f.out).length >= 10, 10000, 'the new lines');
    const c = countSeqs(outLines(f.out), 60);
    assert.equal(c.missing.length, 50);
    assert.ok(
      c.missing.every((n) => n < 50),
      'only lines written after the start',
    );
    assert.deepEqual(c.duplicated, []);
  });
});

test('TAILDIR holds a partial last line until its newline arrives, and its bytes are not in the position', async () => {
  await withDirs(async (f) => {
    const log = path.join(f.logs, 'app.log');
    fs.writeFileSync(log, 'first\nsecond-par');
    await f.start(taildirJob({ logs: f.logs, regex: '.*\\.log', out: f.out, posFile: f.posFile }));
    await eventually(() => outLines(f.out).includes('first'), 10000, 'the complete line');
    // A new file makes the source scan every file again, app.log included.
    fs.writeFileSync(path.join(f.logs, 'other.log'), 'marker\n');
    await eventually(() => outLines(f.out).includes('marker'), 10000, 'the marker');
    await eventually(() => positions(f.posFile).length === 2, 10000, 'positions of both files');
    assert.deepEqual(outLines(f.out).sort(), ['first', 'marker'], 'the partial line is not sent');
    assert.equal(positions(f.posFile).find((p) => p.file === log)?.pos, 6, 'the position stops before the partial line');
    fs.appendFileSync(log, 'tial\nthird\n');
    await eventually(() => outLines(f.out).includes('third'), 10000, 'the completed line');
    assert.deepEqual(outLines(f.out).sort(), ['first', 'marker', 'second-partial', 'third']);
  });
});

test('TAILDIR: rename rotation to a matching name and copytruncate are neither lost nor read again; a new file is picked up', async () => {
  await withDirs(async (f) => {
    const log = path.join(f.logs, 'app.log');
    fs.writeFileSync(log, seqLines(0, 100));
    await f.start(taildirJob({ logs: f.logs, regex: 'app\\.log.*', out: f.out, posFile: f.posFile }));
    await expectSeqs(f.out, 100, 'the first lines');
    // Rename: the writer still appends to its open descriptor after the rename.
    const fd = fs.openSync(log, 'a');
    fs.renameSync(log, log + '.1');
    fs.writeSync(fd, seqLines(100, 110));
    fs.closeSync(fd);
    fs.writeFileSync(log, seqLines(110, 150));
    await expectSeqs(f.out, 150, 'after a rename rotation');
    // copytruncate: lines not read yet are only in the copy when the original is truncated.
    fs.appendFileSync(log, seqLines(150, 160));
    fs.copyFileSync(log, log + '.2');
    fs.truncateSync(log, 0);
    fs.appendFileSync(log, seqLines(160, 170));
    await expectSeqs(f.out, 170, 'after a copytruncate rotation');
    // A plain truncation of the live file.
    fs.truncateSync(log, 0);
    fs.appendFileSync(log, seqLines(170, 180));
    fs.writeFileSync(path.join(f.logs, 'app.log.new'), seqLines(180, 190));
    await expectSeqs(f.out, 190, 'after a truncation and a new file');
  });
});

test('TAILDIR closes idle files (idleTimeout) and opens them again when they grow', async () => {
  await withDirs(async (f) => {
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(f.logs, `f${i}.log`), seqLines(i * 10, i * 10 + 10));
    const agent = await f.start(taildirJob({ logs: f.logs, regex: '.*\\.log', out: f.out, posFile: f.posFile, source: { idleTimeout: 3000, backoffSleepIncrement: 100, maxBackoffSleep: 200 } }));
    await expectSeqs(f.out, 200, 'lines of 20 files');
    const pid = agent.proc.pid!;
    assert.ok(fdsInto(pid, f.logs) > 0, 'files are open while active');
    await eventually(() => fdsInto(pid, f.logs) === 0, 15000, 'every descriptor closed after idleTimeout');
    fs.appendFileSync(path.join(f.logs, 'f3.log'), seqLines(200, 205));
    await expectSeqs(f.out, 205, 'lines added to an idle file');
    await eventually(() => fdsInto(pid, f.logs) === 0, 15000, 'closed again');
  });
});

test('TAILDIR splits a line longer than maxLineLength and says so', async () => {
  await withDirs(async (f) => {
    fs.writeFileSync(path.join(f.logs, 'app.log'), 'a'.repeat(250) + '\nshort\n');
    const agent = await f.start(taildirJob({ logs: f.logs, regex: 'app\\.log', out: f.out, posFile: f.posFile, source: { maxLineLength: 100 } }));
    await eventually(() => outLines(f.out).includes('short'), 10000, 'the short line');
    assert.deepEqual(outLines(f.out), ['a'.repeat(100), 'a'.repeat(100), 'a'.repeat(50), 'short']);
    await agent.waitFor(/longer than maxLineLength \(100\)/);
  });
});

test('TAILDIR refuses a file group without a path or with a bad regex, naming the key', async () => {
  await withDirs(async (f) => {
    const job = jobText({
      sources: { r1: { type: 'TAILDIR', channels: 'c1', filegroups: 'g1 g2', 'filegroups.g2': `${f.logs}/([a-z`, positionFile: f.posFile } },
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'null', channel: 'c1' } },
    });
    const agent = await startAgent(job, { dir: f.dir, ready: /filegroups\.g1 is required[\s\S]*filegroups\.g2|filegroups\.g2[\s\S]*filegroups\.g1 is required/ }).catch((e: Error) => e);
    if (agent instanceof Error) assert.fail(agent.message);
    await agent.stop();
  });
});

test("jobs/taildir/taildir-filegroups.conf (the seed notes' file groups) runs: both groups are read, each with its header", async () => {
  await withDirs(async (f) => {
    const root = path.join(f.dir, 'applog');
    fs.mkdirSync(path.join(root, 'log1'), { recursive: true });
    fs.mkdirSync(path.join(root, 'log2'), { recursive: true });
    fs.writeFileSync(path.join(root, 'log1', 'app-1.log'), 'from-group-one\n');
    fs.writeFileSync(path.join(root, 'log1', 'skipped.txt'), 'not-matched\n');
    fs.writeFileSync(path.join(root, 'log2', 'b.txt'), 'from-group-two\n');
    const text = fs
      .readFileSync(path.join(ROOT, 'jobs', 'taildir', 'taildir-filegroups.conf'), 'utf8')
      .replaceAll('/opt/module/applog', root)
      .replace('/opt/module/flume/taildir_position.json', f.posFile);
    const agent = await f.start(text);
    await agent.waitFor(/from-group-two/);
    await agent.waitFor(/from-group-one/);
    assert.match(agent.stdout() + agent.stderr(), new RegExp(`headers:\\{group=log1, file=${path.join(root, 'log1', 'app-1.log')}\\}`));
    assert.match(agent.stdout() + agent.stderr(), new RegExp(`headers:\\{group=log2, file=${path.join(root, 'log2', 'b.txt')}\\}`));
    assert.doesNotMatch(agent.stdout() + agent.stderr(), /not-matched/);
  });
});
