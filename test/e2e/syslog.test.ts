// The syslog sources end to end: util-linux logger and Debian's rsyslog send to an
// agent whose file_roll sink writes each event as "{headers} body"; every message is
// numbered and must arrive exactly once, with the headers Flume sets.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eventually, freePort, jobText, startAgent, tempDir, type RunningAgent } from '../support/agent.js';
import { startRsyslog } from '../support/rsyslog.js';

const t = tempDir('flume-ts-syslog-');
after(() => t.cleanup());
let seq = 0;

interface Out {
  headers: Record<string, string>;
  body: Buffer;
}

/** Each event file_roll wrote with header_and_text: `{k=v, ...} body`. */
function readEvents(dir: string): Out[] {
  const out: Out[] = [];
  for (const f of fs.readdirSync(dir).sort()) {
    const data = fs.readFileSync(path.join(dir, f));
    let at = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, at);
      if (nl < 0) break;
      const line = data.subarray(at, nl);
      at = nl + 1;
      const close = line.indexOf('} ');
      const headers: Record<string, string> = {};
      const inner = line.subarray(1, close).toString('utf8');
      if (inner) {
        for (const kv of inner.split(', ')) {
          const eq = kv.indexOf('=');
          headers[kv.slice(0, eq)] = kv.slice(eq + 1);
        }
      }
      out.push({ headers, body: line.subarray(close + 2) });
    }
  }
  return out;
}

/** An agent with the given source into memory and a file_roll sink writing headers and body; returns its output directory. */
async function agentWith(source: Record<string, string | number>): Promise<{ agent: RunningAgent; out: string; stop(): Promise<void> }> {
  const dir = path.join(t.dir, `a${seq++}`);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out, { recursive: true });
  const job = jobText({
    sources: { r1: { channels: 'c1', ...source } },
    channels: { c1: { type: 'memory', capacity: 10000, transactionCapacity: 1000 } },
    sinks: { k1: { channel: 'c1', type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.serializer': 'header_and_text', 'sink.batchSize': 100 } },
  });
  const agent = await startAgent(job, { dir });
  return { agent, out, stop: async () => void (await agent.stop()) };
}

async function waitEvents(out: string, n: number, what: string): Promise<Out[]> {
  await eventually(() => readEvents(out).length >= n, 15_000, `${n} events (${what})`).catch((err: Error) => {
    const got = readEvents(out);
    throw new Error(`${err.message}: ${got.length} arrived, the last: ${JSON.stringify(got.slice(-3).map((e) => [e.headers, e.body.toString()]))}`);
  });
  // Anything more (a duplicate) would arrive right behind.
  await new Promise((r) => setTimeout(r, 300));
  return readEvents(out);
}

function logger(args: string[], lines: string[]): void {
  const r = spawnSync('logger', args, { input: lines.join('\n') + '\n', encoding: 'utf8' });
  assert.equal(r.status, 0, `logger ${args.join(' ')}: ${r.stderr}`);
}

const HOST = os.hostname();
const numbered = (tag: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${tag}-${String(i).padStart(4, '0')}`);

/** Every numbered line arrived exactly once, in a body ending with it; returns the events in number order. */
function exactlyOnce(events: Out[], lines: string[]): Out[] {
  const byLine = new Map<string, Out[]>();
  for (const e of events) {
    const m = /(\S+-\d{4})$/.exec(e.body.toString('utf8'));
    assert.ok(m, `unexpected event ${JSON.stringify(e.headers)} ${JSON.stringify(e.body.toString())}`);
    const list = byLine.get(m[1]!) ?? [];
    list.push(e);
    byLine.set(m[1]!, list);
  }
  for (const l of lines) assert.equal(byLine.get(l)?.length, 1, `${l} arrived ${byLine.get(l)?.length ?? 0} times`);
  assert.equal(events.length, lines.length);
  return lines.map((l) => byLine.get(l)![0]!);
}

for (const [name, flags] of [
  ['RFC 5424 over TCP, newline framing', ['--tcp', '--rfc5424']],
  ['RFC 5424 over TCP, octet counting', ['--tcp', '--rfc5424', '--octet-count']],
  ['RFC 3164 over TCP', ['--tcp', '--rfc3164']],
  ['RFC 3164 over TCP, octet counting', ['--tcp', '--rfc3164', '--octet-count']],
] as const) {
  test(`syslogtcp: ${name} from logger: every message once, Facility, Severity, host and timestamp headers`, { timeout: 60_000 }, async () => {
    const port = await freePort();
    const a = await agentWith({ type: 'syslogtcp', host: '127.0.0.1', port, clientIPHeader: 'ip' });
    try {
      const lines = numbered('tcp', 500);
      const before = Date.now() - 1000;
      logger([...flags, '-n', '127.0.0.1', '-P', String(port), '-p', 'local3.warning', '-t', 'flumetest'], lines);
      const events = exactlyOnce(await waitEvents(a.out, lines.length, name), lines);
      for (const [i, e] of events.entries()) {
        assert.equal(e.headers.Facility, '19');
        assert.equal(e.headers.Severity, '4');
        assert.equal(e.headers.priority, '156');
        assert.equal(e.headers.host, HOST);
        assert.equal(e.headers.ip, '127.0.0.1');
        assert.equal(e.headers['flume.syslog.status'], undefined);
        if ((flags as readonly string[]).includes('--rfc5424')) assert.equal(e.headers.version, '1');
        const ts = Number(e.headers.timestamp);
        // RFC 3164 stamps have whole seconds.
        assert.ok(ts >= before - 1000 && ts <= Date.now() + 1000, `timestamp ${e.headers.timestamp}`);
        assert.match(e.body.toString(), new RegExp(`^flumetest.* ${lines[i]}$`));
      }
    } finally {
      await a.stop();
    }
  });
}

for (const [name, flags] of [
  ['RFC 5424', ['--udp', '--rfc5424']],
  ['RFC 3164', ['--udp', '--rfc3164']],
] as const) {
  test(`syslogudp: ${name} from logger: every message once with its headers`, { timeout: 60_000 }, async () => {
    const port = await freePort();
    const a = await agentWith({ type: 'syslogudp', host: '127.0.0.1', port, clientHostnameHeader: 'sender' });
    try {
      const lines = numbered('udp', 200);
      // Loopback UDP does not lose datagrams at this pace.
      logger([...flags, '-n', '127.0.0.1', '-P', String(port), '-p', 'user.err', '-t', 'flumetest'], lines);
      const events = exactlyOnce(await waitEvents(a.out, lines.length, name), lines);
      for (const e of events) {
        assert.equal(e.headers.Facility, '1');
        assert.equal(e.headers.Severity, '3');
        assert.equal(e.headers.host, HOST);
        assert.ok(Number(e.headers.timestamp) > 0);
        assert.ok(e.headers.sender, 'client host name header');
      }
    } finally {
      await a.stop();
    }
  });
}

test('an invalid message arrives with flume.syslog.status = Invalid, an oversize one is cut and marked Incomplete; both are counted, nothing is dropped', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const a = await agentWith({ type: 'syslogtcp', host: '127.0.0.1', port, eventSize: 40 });
  try {
    const s = net.connect(port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.end('this is not syslog\n<13>1 - host1 app - - - ok\n<13>1 - host1 app - - - 0123456789012345678901234567890123456789\n');
    const events = await waitEvents(a.out, 4, 'invalid and incomplete');
    assert.equal(events.length, 4);
    assert.deepEqual(events[0]!.headers, { Facility: '0', Severity: '0', 'flume.syslog.status': 'Invalid' });
    assert.equal(events[0]!.body.toString(), 'this is not syslog');
    assert.equal(events[1]!.body.toString(), 'app - - - ok');
    assert.equal(events[1]!.headers['flume.syslog.status'], undefined);
    assert.equal(events[2]!.headers['flume.syslog.status'], 'Incomplete');
    assert.equal(events[2]!.body.toString(), 'app - - - 0123456789012345');
    // The rest of the cut message follows as a message of its own (as in Flume): not syslog.
    assert.equal(events[3]!.headers['flume.syslog.status'], 'Invalid');
    assert.equal(events[3]!.body.toString(), '678901234567890123456789');
    await a.agent.waitFor(/is not valid syslog; kept with flume\.syslog\.status = Invalid/);
    await a.agent.waitFor(/longer than eventSize \(40 bytes\)/);
  } finally {
    await a.stop();
  }
});

test('rsyslog forwards to syslogtcp (octet-counted) and syslogudp: every message once', { timeout: 90_000 }, async () => {
  const tcpPort = await freePort();
  const udpPort = await freePort();
  const inPort = await freePort();
  const tcpAgent = await agentWith({ type: 'syslogtcp', host: '127.0.0.1', port: tcpPort });
  const udpAgent = await agentWith({ type: 'syslogudp', host: '127.0.0.1', port: udpPort });
  const dir = path.join(t.dir, `rsyslog${seq++}`);
  fs.mkdirSync(dir);
  const rs = await startRsyslog(
    dir,
    `module(load="imtcp")
input(type="imtcp" port="${inPort}" address="127.0.0.1")
*.* action(type="omfwd" target="127.0.0.1" port="${tcpPort}" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
*.* action(type="omfwd" target="127.0.0.1" port="${udpPort}" protocol="udp" template="RSYSLOG_TraditionalForwardFormat" queue.type="LinkedList" queue.dequeueBatchSize="1" queue.dequeueSlowdown="1000")
`,
    inPort,
  );
  try {
    const lines = numbered('rs', 300);
    logger(['--tcp', '--rfc5424', '-n', '127.0.0.1', '-P', String(inPort), '-p', 'daemon.info', '-t', 'viarsyslog'], lines);
    // rsyslog adds nothing of its own to these outputs; anything else would fail exactlyOnce. Its UDP
    // action sends a message per millisecond: a burst would overflow the kernel's receive buffer.
    const tcp = exactlyOnce(await waitEvents(tcpAgent.out, lines.length, 'rsyslog tcp'), lines);
    const udp = exactlyOnce(await waitEvents(udpAgent.out, lines.length, 'rsyslog udp'), lines);
    for (const e of [...tcp, ...udp]) {
      assert.equal(e.headers.Facility, '3');
      assert.equal(e.headers.Severity, '6');
      assert.equal(e.headers.host, HOST);
      assert.ok(Number(e.headers.timestamp) > 0);
    }
    assert.equal(tcp[0]!.headers.version, '1');
  } finally {
    await rs.stop();
    await tcpAgent.stop();
    await udpAgent.stop();
  }
});

test("multiport_syslogtcp: two ports, UTF-8 and ISO-8859-1; the port header tells them apart; bytes not valid in the port's charset are Invalid", { timeout: 60_000 }, async () => {
  const p1 = await freePort();
  const p2 = await freePort();
  const a = await agentWith({ type: 'multiport_syslogtcp', host: '127.0.0.1', ports: `${p1} ${p2}`, portHeader: 'port', [`charset.port.${p2}`]: 'ISO-8859-1', batchSize: 50 });
  try {
    const send = async (port: number, data: Buffer): Promise<void> => {
      const s = net.connect(port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      await new Promise<void>((r) => s.end(data, () => r()));
    };
    const latin1 = Buffer.from('<13>1 2024-01-02T03:04:05Z h\u00f4te app - - - caf\u00e9\n', 'latin1');
    const utf8 = Buffer.from('<14>1 2024-01-02T03:04:05Z h\u00f4te app - - - caf\u00e9\n', 'utf8');
    await send(p2, latin1);
    await send(p1, utf8);
    await send(p1, latin1);
    // And 300 numbered plain messages on both ports.
    const lines = numbered('mp', 300);
    await send(
      p1,
      Buffer.from(
        lines
          .slice(0, 150)
          .map((l) => `<13>Jan  2 03:04:05 h1 tag: ${l}\n`)
          .join(''),
      ),
    );
    await send(
      p2,
      Buffer.from(
        lines
          .slice(150)
          .map((l) => `<13>Jan  2 03:04:05 h2 tag: ${l}\n`)
          .join(''),
      ),
    );
    const events = await waitEvents(a.out, 303, 'multiport');
    const special = events.filter((e) => !/mp-\d{4}$/.test(e.body.toString('latin1')));
    exactlyOnce(
      events.filter((e) => /mp-\d{4}$/.test(e.body.toString('latin1'))),
      lines,
    );
    const byPort = (p: number) => special.filter((e) => e.headers.port === String(p));
    const [iso] = byPort(p2);
    assert.equal(iso!.headers.host, 'h\u00f4te');
    assert.equal(iso!.headers.Priority, '13');
    assert.equal(iso!.headers.timestamp, String(Date.UTC(2024, 0, 2, 3, 4, 5)));
    assert.deepEqual(iso!.body, Buffer.from('app - - - caf\u00e9', 'latin1'));
    const onUtf8 = byPort(p1);
    assert.equal(onUtf8.length, 2);
    const good = onUtf8.find((e) => e.headers.Priority === '14')!;
    assert.equal(good.headers.host, 'h\u00f4te');
    assert.deepEqual(good.body, Buffer.from('app - - - caf\u00e9', 'utf8'));
    const bad = onUtf8.find((e) => e.headers.Priority === undefined)!;
    assert.equal(bad.headers['flume.syslog.status'], 'Invalid');
    assert.deepEqual(bad.body, latin1.subarray(0, latin1.length - 1));
  } finally {
    await a.stop();
  }
});

test('a full channel pauses the TCP sender instead of dropping: every message arrives once the sink catches up', { timeout: 90_000 }, async () => {
  const port = await freePort();
  const dir = path.join(t.dir, `full${seq++}`);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out, { recursive: true });
  // A channel of 50 events behind a sink that takes 10 per batch: the source must wait for it.
  const job = jobText({
    sources: { r1: { type: 'syslogtcp', host: '127.0.0.1', port, channels: 'c1' } },
    channels: { c1: { type: 'memory', capacity: 50, transactionCapacity: 10, 'keep-alive': 0 } },
    sinks: { k1: { channel: 'c1', type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.serializer': 'header_and_text', 'sink.batchSize': 10 } },
  });
  const agent = await startAgent(job, { dir });
  try {
    const lines = numbered('full', 5000);
    const s = net.connect(port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.on('error', (err) => assert.fail(`the source reset the connection: ${err.message}\n${agent.stderr()}`));
    s.end(lines.map((l) => `<13>1 - h app - - - ${l}\n`).join(''));
    exactlyOnce(await waitEvents(out, lines.length, 'full channel'), lines);
  } finally {
    await agent.stop();
  }
});

test('syslogudp: a datagram that is not syslog is kept as Invalid', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const a = await agentWith({ type: 'syslogudp', host: '127.0.0.1', port });
  try {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.send('garbage datagram', port, '127.0.0.1', () => r()));
    s.close();
    const [e] = await waitEvents(a.out, 1, 'udp invalid');
    assert.equal(e!.headers['flume.syslog.status'], 'Invalid');
    assert.equal(e!.body.toString(), 'garbage datagram');
  } finally {
    await a.stop();
  }
});

test('configuration mistakes are refused before start, with the key named', { timeout: 30_000 }, async () => {
  const { spawnFlume, writeJob } = await import('../support/agent.js');
  const dir = path.join(t.dir, `conf${seq++}`);
  fs.mkdirSync(dir);
  const file = writeJob(
    dir,
    jobText({
      sources: {
        r1: { type: 'multiport_syslogtcp', ports: '5140 x', 'charset.default': 'UTF-16', 'charset.port.5140': 'no-such-charset', channels: 'c1' },
        r2: { type: 'syslogtcp', port: 5141, eventSize: 5, channels: 'c1' },
      },
      channels: { c1: { type: 'memory', transactionCapacity: 100 } },
      sinks: { k1: { type: 'null', channel: 'c1' } },
    }),
  );
  const p = spawnFlume(['validate', '-f', file]);
  assert.notEqual(await p.exited, 0);
  const err = p.stdout() + p.stderr();
  assert.match(err, /a1\.sources\.r1\.ports: "x" is not a port number/);
  assert.match(err, /a1\.sources\.r1\.charset\.default: charset "UTF-16" does not write ASCII as ASCII/);
  assert.match(err, /a1\.sources\.r1\.charset\.port\.5140: unknown charset "no-such-charset"/);
  assert.match(err, /a1\.sources\.r2\.eventSize: expected a value of at least 10/);
});

test('the example job jobs/syslog/syslog-logger.conf logs what logger sends over TCP and UDP', { timeout: 60_000 }, async () => {
  const { ROOT, loggedBodies } = await import('../support/agent.js');
  const port = await freePort();
  const dir = path.join(t.dir, `job${seq++}`);
  fs.mkdirSync(dir);
  const job = fs.readFileSync(path.join(ROOT, 'jobs', 'syslog', 'syslog-logger.conf'), 'utf8').replaceAll('port = 5140', `port = ${port}`);
  const agent = await startAgent(job, { dir });
  try {
    logger(['--tcp', '--rfc5424', '-n', '127.0.0.1', '-P', String(port), '-t', 'ex'], ['over-tcp']);
    logger(['--udp', '--rfc3164', '-n', '127.0.0.1', '-P', String(port), '-t', 'ex'], ['over-udp']);
    await eventually(() => loggedBodies(agent.stderr()).length >= 2, 15_000, 'two logged events');
    const bodies = loggedBodies(agent.stderr()).join('\n');
    // The logger sink shows 16 bytes of each body.
    assert.match(bodies, /^ex - - \[timeQual$/m);
    assert.match(bodies, /^ex: over-udp$/m);
    assert.match(agent.stderr(), /headers:\{Facility=1, Severity=5, priority=13, version=1, timestamp=\d+, host=[^,]+, clientIP=127\.0\.0\.1\}/);
  } finally {
    await agent.stop();
  }
});

test('syslogtcp with TLS (a PKCS12 keystore made by openssl): messages over a TLS connection arrive', { timeout: 60_000 }, async () => {
  const { writeServerCerts } = await import('./rpc-support.js');
  const tls = await import('node:tls');
  const dir = path.join(t.dir, `tls${seq++}`);
  fs.mkdirSync(dir);
  const { cert } = writeServerCerts(dir, 'k3y');
  const port = await freePort();
  const a = await agentWith({ type: 'syslogtcp', host: '127.0.0.1', port, ssl: 'true', keystore: path.join(dir, 'server.p12'), 'keystore-password': 'k3y' });
  try {
    const lines = numbered('tls', 100);
    const s = tls.connect({ host: '127.0.0.1', port, ca: cert, servername: 'localhost' });
    await new Promise((r, j) => s.once('secureConnect', r).once('error', j));
    await new Promise<void>((r) => s.end(lines.map((l) => `<13>1 - h app - - - ${l}\n`).join(''), () => r()));
    exactlyOnce(await waitEvents(a.out, lines.length, 'tls'), lines);
  } finally {
    await a.stop();
  }
});

test('syslogudp with a full channel: datagrams are dropped, counted and logged once per interval, not once each', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const dir = path.join(t.dir, `udpfull${seq++}`);
  fs.mkdirSync(dir);
  // The sink sends to an avro source that is not there: the channel of 10 fills and stays full.
  const agent = await startAgent(
    jobText({
      sources: { r1: { type: 'syslogudp', host: '127.0.0.1', port, channels: 'c1' } },
      channels: { c1: { type: 'memory', capacity: 10, transactionCapacity: 10, 'keep-alive': 0 } },
      sinks: { k1: { channel: 'c1', type: 'avro', hostname: '127.0.0.1', port: await freePort(), 'connect-timeout': 500, 'batch-size': 10 } },
    }),
    { dir },
  );
  try {
    const s = dgram.createSocket('udp4');
    for (let i = 0; i < 60; i++) {
      await new Promise<void>((r) => s.send(`<13>1 - h app - - - udp-${i}`, port, '127.0.0.1', () => r()));
      await new Promise((r) => setTimeout(r, 5));
    }
    s.close();
    await agent.waitFor(/Syslog UDP source r1: \d+ message\(s\) dropped: /);
    await new Promise((r) => setTimeout(r, 500));
    const warnings = agent.stderr().match(/message\(s\) dropped/g) ?? [];
    assert.ok(warnings.length <= 2, `${warnings.length} warnings: ${agent.stderr()}`);
  } finally {
    await agent.stop();
  }
});
