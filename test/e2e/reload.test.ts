// Live reload of a running agent from its job file, as an operator edits it: the
// difference is applied while events flow, nothing acknowledged is lost, untouched
// components keep running (connections, channel contents, counters), a broken file
// is refused with its line and the running graph stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { eventually, freePort, jobText, startAgent, tcpExchange, tempDir } from '../support/agent.js';

/** A client that keeps one connection open and sends numbered lines, counting the OKs. */
class Sender {
  private sock: net.Socket;
  acked = 0;
  sent = 0;
  closed = false;
  private buf = '';
  constructor(
    port: number,
    private readonly tag: string,
  ) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        assert.equal(line, 'OK');
        this.acked++;
      }
    });
    this.sock.on('close', () => (this.closed = true));
    this.sock.on('error', () => (this.closed = true));
  }
  /** Sends `n` more lines and waits until all sent so far are acknowledged. */
  async send(n: number): Promise<void> {
    for (let k = 0; k < n; k++) this.sock.write(`${this.tag}-${this.sent++}\n`);
    await eventually(() => this.acked === this.sent, 15_000, `${this.tag}: OK for line ${this.sent - 1}`);
  }
  lines(): string[] {
    return Array.from({ length: this.acked }, (_, i) => `${this.tag}-${i}`);
  }
  end(): void {
    this.sock.end();
  }
}

function written(...dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d).sort()) out.push(...fs.readFileSync(path.join(d, f), 'utf8').split('\n').filter(Boolean));
  }
  return out;
}

async function metrics(port: number): Promise<Record<string, Record<string, string>>> {
  return (await (await fetch(`http://127.0.0.1:${port}/metrics`)).json()) as Record<string, Record<string, string>>;
}

test('reload: a changed sink and a new source and sink apply while events flow; a broken file is refused; nothing lost', async () => {
  const t = tempDir();
  const [p1, p2, mport] = [await freePort(), await freePort(), await freePort()];
  const dir = (n: string): string => path.join(t.dir, n);
  for (const d of ['a', 'b', 'c']) fs.mkdirSync(dir(d));
  const v1 = jobText({
    sources: { r1: { type: 'netcat', bind: '127.0.0.1', port: p1, channels: 'c1' } },
    channels: { c1: { type: 'memory', capacity: 10000 } },
    sinks: { k1: { type: 'file_roll', 'sink.directory': dir('a'), 'sink.rollInterval': 0, channel: 'c1' } },
  });
  const v2 = jobText({
    sources: { r1: { type: 'netcat', bind: '127.0.0.1', port: p1, channels: 'c1' }, r2: { type: 'netcat', bind: '127.0.0.1', port: p2, channels: 'c2' } },
    channels: { c1: { type: 'memory', capacity: 10000 }, c2: { type: 'memory' } },
    sinks: {
      k1: { type: 'file_roll', 'sink.directory': dir('b'), 'sink.rollInterval': 0, channel: 'c1' },
      k2: { type: 'file_roll', 'sink.directory': dir('c'), 'sink.rollInterval': 0, channel: 'c2' },
    },
  });
  const agent = await startAgent(v1, { dir: t.dir, extraArgs: ['-i', '1', '-Dflume.monitoring.type=http', `-Dflume.monitoring.port=${mport}`, '-Dflume.monitoring.bind=127.0.0.1'] });
  const job = path.join(t.dir, 'job.conf');
  const s1 = new Sender(p1, 'one');
  try {
    await s1.send(200);
    const before = Number((await metrics(mport))['CHANNEL.c1']!.EventPutSuccessCount);
    assert.equal(before, 200);

    fs.writeFileSync(job, v2);
    await agent.waitFor(/Agent a1 reconfigured: restarted sink k1; added channel c2, sink k2, source r2; removed none; kept channel c1, source r1/, 20_000);
    await s1.send(200);
    assert.equal(s1.closed, false, 'the unchanged source kept its connection');
    const s2 = new Sender(p2, 'two');
    await s2.send(50);
    const m = await metrics(mport);
    assert.equal(m['CHANNEL.c1']!.EventPutSuccessCount, '400', 'the kept channel kept its counters');

    // A broken file: refused with its line, the running graph stays.
    fs.writeFileSync(job, v2.replace('a1.sinks.k2.type = file_roll', 'a1.sinks.k2.type = file_rol'));
    await agent.waitFor(/job\.conf:\d+: error: a1\.sinks\.k2\.type: unknown sink type "file_rol"[\s\S]*has errors and was not applied; the running configuration stays/, 20_000);
    await s1.send(100);
    await s2.send(50);

    // Fixed again, with one more change.
    fs.writeFileSync(job, v2.replace(`a1.sinks.k2.sink.directory = ${dir('c')}`, `a1.sinks.k2.sink.directory = ${dir('c')}\na1.sinks.k2.sink.batchSize = 50`));
    await agent.waitFor(/Agent a1 reconfigured: restarted sink k2; added none; removed none/, 20_000);
    await s1.send(100);
    await s2.send(50);
    s1.end();
    s2.end();
    assert.equal(await agent.stop(), 0);

    const one = written(dir('a'), dir('b'));
    assert.deepEqual([...one].sort(), s1.lines().sort(), 'every line of r1 once, before and after the reloads');
    assert.equal(written(dir('a')).length, 200, 'before the first reload, k1 wrote to a');
    assert.deepEqual([...written(dir('c'))].sort(), s2.lines().sort());
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('reload: a source whose port moves is rebound; another listener keeps its connection', async () => {
  const t = tempDir();
  const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const v = (port: number): string =>
    jobText({
      sources: { r1: { type: 'netcat', bind: '127.0.0.1', port, channels: 'c1' }, r2: { type: 'netcat', bind: '127.0.0.1', port: p2, channels: 'c1' } },
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, channel: 'c1' } },
    });
  const agent = await startAgent(v(p1), { dir: t.dir, extraArgs: ['-i', '1'] });
  const s2 = new Sender(p2, 'r2');
  try {
    await s2.send(10);
    fs.writeFileSync(path.join(t.dir, 'job.conf'), v(p3));
    await agent.waitFor(/reconfigured: restarted source r1;/, 20_000);
    assert.equal(await tcpExchange(p3, 'moved\n', { expectBytes: 3 }), 'OK\n');
    await assert.rejects(tcpExchange(p1, 'old\n'), /ECONNREFUSED/);
    await s2.send(10);
    assert.equal(s2.closed, false);
    s2.end();
    assert.equal(await agent.stop(), 0);
    assert.deepEqual(written(out).sort(), [...s2.lines(), 'moved'].sort());
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('reload: with --no-reload-conf a change waits for SIGHUP, which applies it at once', async () => {
  const t = tempDir();
  const port = await freePort();
  const [a, b] = [path.join(t.dir, 'a'), path.join(t.dir, 'b')];
  fs.mkdirSync(a);
  fs.mkdirSync(b);
  const v = (d: string): string =>
    jobText({
      sources: { r1: { type: 'netcat', bind: '127.0.0.1', port, channels: 'c1' } },
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'file_roll', 'sink.directory': d, 'sink.rollInterval': 0, channel: 'c1' } },
    });
  const agent = await startAgent(v(a), { dir: t.dir, extraArgs: ['--no-reload-conf'] });
  try {
    fs.writeFileSync(path.join(t.dir, 'job.conf'), v(b));
    assert.equal(await tcpExchange(port, 'first\n', { expectBytes: 3 }), 'OK\n');
    await eventually(() => written(a).includes('first'), 10_000, 'the old sink to write');
    agent.proc.kill('SIGHUP');
    await agent.waitFor(/reconfigured: restarted sink k1/, 10_000);
    assert.equal(await tcpExchange(port, 'second\n', { expectBytes: 3 }), 'OK\n');
    assert.equal(await agent.stop(), 0);
    assert.deepEqual(written(a), ['first']);
    assert.deepEqual(written(b), ['second']);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});
