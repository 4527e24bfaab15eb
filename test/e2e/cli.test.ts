import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, spawnFlume, tempDir, writeJob } from '../support/agent.js';

const BAD = `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = localhost
a1.sources.r1.port = 44444
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = lots
a1.channels.c1.capcity = 1000
a1.sinks.k1.type = loger
a1.sinks.k1.channel = c1
`;

async function run(args: string[]): Promise<{ code: number | string; out: string; err: string }> {
  const p = spawnFlume(args);
  const code = await p.exited;
  return { code, out: p.stdout(), err: p.stderr() };
}

test('a bad job file: the agent does not start, every problem is printed with file:line:key, exit non-zero', async () => {
  const t = tempDir();
  const file = writeJob(t.dir, BAD);
  try {
    const { code, err } = await run(['agent', '-n', 'a1', '-f', file, '-Dflume.root.logger=INFO,console']);
    assert.equal(code, 1);
    assert.match(err, new RegExp(`${file}:9: error: a1\\.channels\\.c1\\.capacity: expected an integer, got "lots"`));
    assert.match(err, new RegExp(`${file}:10: warning: a1\\.channels\\.c1\\.capcity: unknown key .*did you mean "capacity"\\?`));
    assert.match(err, new RegExp(`${file}:11: error: a1\\.sinks\\.k1\\.type: unknown sink type "loger" \\(did you mean "logger"\\?\\)`));
    assert.match(err, /flume-ng: agent a1 not started: 2 errors in /);
    assert.doesNotMatch(err, /Agent a1 started/);
  } finally {
    t.cleanup();
  }
});

test('a missing job file is one clear line and a non-zero exit', async () => {
  const { code, err } = await run(['agent', '-n', 'a1', '-f', '/nonexistent/job.conf']);
  assert.equal(code, 1);
  assert.match(err, /configuration file \/nonexistent\/job\.conf does not exist/);
  assert.match(err, /flume-ng: agent a1 not started/);
});

test('an agent name the file does not define is one clear line and a non-zero exit', async () => {
  const { code, err } = await run(['agent', '-n', 'agent7', '-f', path.join(ROOT, 'jobs', 'flume-netcat-logger.conf')]);
  assert.equal(code, 1);
  assert.match(err, /agent "agent7" is not defined in .*flume-netcat-logger\.conf; it defines "a1"/);
});

test('agent without -n is a usage error', async () => {
  const { code, err } = await run(['agent', '-f', path.join(ROOT, 'jobs', 'flume-netcat-logger.conf')]);
  assert.notEqual(code, 0);
  assert.match(err, /required option '-n, --name <name>' not specified/);
});

test('validate reports every problem without starting anything and exits non-zero on errors', async () => {
  const t = tempDir();
  const file = writeJob(t.dir, BAD);
  try {
    const bad = await run(['validate', '-f', file]);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /:9: error: a1\.channels\.c1\.capacity/);
    assert.match(bad.out, /:10: warning: a1\.channels\.c1\.capcity/);
    assert.match(bad.out, /:11: error: a1\.sinks\.k1\.type/);
    assert.match(bad.out, /agent a1: 2 error\(s\), 1 warning\(s\)/);

    const good = await run(['validate', '-f', path.join(ROOT, 'jobs', 'flume-netcat-logger.conf'), '-n', 'a1']);
    assert.equal(good.code, 0, good.out + good.err);
    assert.match(good.out, /0 error\(s\), 0 warning\(s\)/);
  } finally {
    t.cleanup();
  }
});

test('every job file in jobs/ validates without errors', async () => {
  for (const f of fs.readdirSync(path.join(ROOT, 'jobs'), { recursive: true }) as string[]) {
    if (!f.endsWith('.conf')) continue;
    const r = await run(['validate', '--plugins-path', path.join(ROOT, 'examples', 'plugins'), '-f', path.join(ROOT, 'jobs', f)]);
    assert.equal(r.code, 0, `${f}:\n${r.out}${r.err}`);
  }
});

test('version and help', async () => {
  const v = await run(['version']);
  assert.equal(v.code, 0);
  assert.match(v.out, /^flume-ts \d+\.\d+\.\d+/);
  const h = await run(['help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /agent/);
  assert.match(h.out, /validate/);
});

test('--dryrun prints the planned graph and starts nothing', async () => {
  const t = tempDir();
  try {
    const p = spawnFlume(['agent', '-n', 'a1', '-f', path.join(ROOT, 'jobs', 'flume-netcat-logger.conf'), '--dryrun', `-Dflume.log.dir=${t.dir}`]);
    assert.equal(await p.exited, 0);
    assert.match(p.stdout(), /agent a1: sources r1\(netcat\); channels c1\(memory\); sinks k1\(logger\)/);
  } finally {
    t.cleanup();
  }
});

test('LOGFILE logging writes flume.log in -Dflume.log.dir (named by -Dflume.log.file)', async () => {
  const t = tempDir();
  try {
    const p = spawnFlume([
      'agent',
      '-n',
      'a1',
      '-c',
      path.join(ROOT, 'conf'),
      '-f',
      path.join(ROOT, 'jobs', 'seeds', 'mysource.conf'),
      '--plugins-path',
      path.join(ROOT, 'examples', 'plugins'),
      '-Dflume.root.logger=INFO,LOGFILE',
      `-Dflume.log.dir=${t.dir}`,
      '-Dflume.log.file=agent.log',
    ]);
    const file = path.join(t.dir, 'agent.log');
    const deadline = Date.now() + 10000;
    while (!(fs.existsSync(file) && /hello0/.test(fs.readFileSync(file, 'utf8'))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await p.stop(), 0);
    const log = fs.readFileSync(file, 'utf8');
    assert.match(log, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[INFO - org\.apache\.flume\.node\.Application\] Agent a1 started/m);
    assert.match(log, /\[INFO - org\.apache\.flume\.sink\.LoggerSink\] Event: \{ headers:\{\} body: 68 65 6C 6C 6F 30/);
    assert.doesNotMatch(p.stderr(), /Event:/, 'nothing logged to the console');
  } finally {
    t.cleanup();
  }
});
