import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { freePort, tempDir, startAgent, jobText, eventually, type RunningAgent } from '../support/agent.js';

/** A downstream that accepts connections, reads everything, and never answers. */
async function silentPeer(): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('data', () => {});
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** netcat → memory c1 → avro k1 into `peerPort`, with both avro timeouts at 60 s. */
function stuckJob(port: number, peerPort: number, channel: Record<string, number> = {}): string {
  return jobText({
    sources: { r1: { type: 'netcat', bind: '127.0.0.1', port, channels: 'c1' } },
    channels: { c1: { type: 'memory', capacity: 20, transactionCapacity: 10, 'keep-alive': 3, ...channel } },
    sinks: { k1: { type: 'avro', channel: 'c1', hostname: '127.0.0.1', port: peerPort, 'batch-size': 10, 'connect-timeout': 60000, 'request-timeout': 60000 } },
  });
}

/** A client that writes `lines` at once and counts the OK replies. */
function flood(port: number, lines: number): { oks(): number; sock: net.Socket } {
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (got += d));
  sock.on('error', () => {});
  sock.write(Array.from({ length: lines }, (_, i) => `line ${i}`).join('\n') + '\n');
  return { oks: () => got.split('\n').filter((l) => l === 'OK').length, sock };
}

async function timedStop(agent: RunningAgent): Promise<{ code: number | string; ms: number }> {
  const t0 = Date.now();
  const code = await agent.stop();
  return { code, ms: Date.now() - t0 };
}

const GRACE = 2000;
/** The stop may take the grace period, the abandon window (1 s) and a loaded machine's slack; the old code took 19 to 62 s. */
const BOUND = GRACE + 5000;

test('SIGTERM with a full channel and 200 lines queued on a netcat connection ends within the grace period, exit 3 for the lost events', async () => {
  const port = await freePort();
  const peer = await silentPeer();
  const t = tempDir();
  const agent = await startAgent(stuckJob(port, peer.port), { dir: t.dir, extraArgs: [`-Dflume.shutdown.grace.ms=${GRACE}`] });
  const client = flood(port, 200);
  try {
    // The sink holds one batch in a call that is never answered; the channel fills behind it.
    await eventually(() => peer.connections() > 0 && client.oks() >= 20, 15000, 'the channel to fill');
    const { code, ms } = await timedStop(agent);
    assert.ok(ms < BOUND, `the stop took ${ms} ms (grace ${GRACE} ms)`);
    assert.equal(code, 3, agent.stderr());
    // Every event acknowledged with OK is in the channel (the abandoned batch rolled back), and the count says so.
    const m = /channel c1 stopped with (\d+) event\(s\) not delivered/.exec(agent.stderr());
    assert.ok(m, agent.stderr());
    assert.equal(Number(m[1]), client.oks());
    assert.match(agent.stderr(), /shutdown grace period of 2000 ms ended/);
  } finally {
    client.sock.destroy();
    await agent.stop();
    await peer.close();
    t.cleanup();
  }
});

test('SIGTERM while an avro sink waits on a downstream that never answers (request-timeout 60 s) ends within the grace period', async () => {
  const port = await freePort();
  const peer = await silentPeer();
  const t = tempDir();
  const agent = await startAgent(stuckJob(port, peer.port), { dir: t.dir, extraArgs: [`-Dflume.shutdown.grace.ms=${GRACE}`] });
  const client = flood(port, 5);
  try {
    await eventually(() => peer.connections() > 0 && client.oks() === 5, 15000, 'five lines acknowledged and the sink connected');
    const { code, ms } = await timedStop(agent);
    assert.ok(ms < BOUND, `the stop took ${ms} ms (grace ${GRACE} ms)`);
    assert.equal(code, 3);
    assert.match(agent.stderr(), /channel c1 stopped with 5 event\(s\) not delivered/);
    assert.match(agent.stderr(), /stopped with 5 acknowledged event\(s\) not delivered \(c1: 5 event\(s\) lost\); exit code 3/);
  } finally {
    client.sock.destroy();
    await agent.stop();
    await peer.close();
    t.cleanup();
  }
});

test('a second signal exits at once and says what was abandoned, per channel', async () => {
  const port = await freePort();
  const peer = await silentPeer();
  const t = tempDir();
  const agent = await startAgent(stuckJob(port, peer.port), { dir: t.dir, extraArgs: ['-Dflume.shutdown.grace.ms=600000'] });
  const client = flood(port, 7);
  try {
    await eventually(() => peer.connections() > 0 && client.oks() === 7, 15000, 'seven lines acknowledged');
    agent.proc.kill('SIGTERM');
    await agent.waitFor(/stopping agent a1 \(grace period 600000 ms\)/);
    const { code } = await timedStop(agent);
    assert.equal(code, 3);
    // The sink still holds its batch of 7 in the unanswered call: the channel's queue is empty, and the 7 are counted as taken.
    const lines = agent
      .stderr()
      .split('\n')
      .filter((l) => l.includes('Received a second SIGTERM'));
    assert.equal(lines.length, 1, agent.stderr());
    assert.match(lines[0]!, /exiting at once; abandoned c1: 7 event\(s\) lost/);
  } finally {
    client.sock.destroy();
    await agent.stop();
    await peer.close();
    t.cleanup();
  }
});

test('a clean stop within the grace period exits 0 with nothing held', async () => {
  const port = await freePort();
  const t = tempDir();
  const agent = await startAgent(
    jobText({
      sources: { r1: { type: 'netcat', bind: '127.0.0.1', port, channels: 'c1' } },
      channels: { c1: { type: 'memory' } },
      sinks: { k1: { type: 'null', channel: 'c1' } },
    }),
    { dir: t.dir },
  );
  const client = flood(port, 50);
  try {
    await eventually(() => client.oks() === 50, 15000, 'fifty lines acknowledged');
    assert.equal(await agent.stop(), 0);
    assert.doesNotMatch(agent.stderr(), /not delivered|abandon/);
  } finally {
    client.sock.destroy();
    t.cleanup();
  }
});
