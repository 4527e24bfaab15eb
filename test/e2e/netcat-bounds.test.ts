// netcat and netcatudp under hostile or bursty clients: a client that never reads its
// replies must not grow the agent, and a burst of datagrams into a full channel must
// not write one warning per datagram.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { freePort, jobText, netcatJob, startAgent, tcpExchange, tempDir, type RunningAgent } from '../support/agent.js';

/** The agent's peak resident set so far, in MB. */
function peakRssMb(agent: RunningAgent): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${agent.proc.pid}/status`, 'utf8'));
  assert.ok(m, 'VmHWM in /proc/<pid>/status');
  return Number(m[1]) / 1024;
}

test('netcat: a client that sends lines and never reads the OK replies is no longer read from; memory stays bounded; others are served', { timeout: 120_000 }, async () => {
  const port = await freePort();
  const { dir, cleanup } = tempDir();
  const agent = await startAgent(netcatJob(port, { type: 'null' }, { channel: { capacity: 10000, transactionCapacity: 1000 } }), { dir });
  const hostile = net.connect(port, '127.0.0.1');
  hostile.on('error', () => {});
  try {
    await new Promise<void>((r) => hostile.once('connect', () => r()));
    const base = peakRssMb(agent);
    // Send 60 MB of empty lines (180 MB of replies, never read), as fast as the
    // agent takes them; stop when it has taken nothing for 2 s.
    const chunk = Buffer.alloc(64 * 1024, '\n');
    const total = 60 * 1024 * 1024;
    let sent = 0;
    let stalled = false;
    while (sent < total && !stalled) {
      if (hostile.write(chunk)) {
        sent += chunk.length;
        continue;
      }
      sent += chunk.length;
      stalled = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => {
          hostile.off('drain', onDrain);
          resolve(true);
        }, 2000);
        const onDrain = (): void => {
          clearTimeout(t);
          resolve(false);
        };
        hostile.once('drain', onDrain);
      });
    }
    assert.ok(stalled, `the agent read all ${sent} bytes from a client that never reads its replies`);
    // What was read (a few MB: socket buffers and a queue of lines) is stored and
    // answered; the replies wait in a bounded buffer.
    assert.ok(sent < 20 * 1024 * 1024, `the agent read ${sent} bytes before it stopped reading`);
    // Millions of one-byte lines went through the channel: the garbage collector's slack
    // is most of this (reading all 60 MB and holding its replies took over 400 MB).
    const peak = peakRssMb(agent);
    assert.ok(peak - base < 250, `peak RSS grew by ${Math.round(peak - base)} MB (from ${Math.round(base)} MB)`);
    // Another client is served meanwhile.
    assert.equal(await tcpExchange(port, 'hello\n', { expectBytes: 3 }), 'OK\n');
  } finally {
    hostile.destroy();
    await agent.stop();
    cleanup();
  }
});

test('netcatudp: a burst of datagrams into a full channel logs the first warning, then a count, not one line per datagram', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const { dir, cleanup } = tempDir();
  // No sink drains the channel: after 10 events every datagram is refused.
  const job = jobText({
    sources: { r1: { type: 'netcatudp', bind: '127.0.0.1', port, channels: 'c1' } },
    channels: { c1: { type: 'memory', capacity: 10, transactionCapacity: 10, 'keep-alive': 0 } },
  });
  const agent = await startAgent(job, { dir });
  const udp = dgram.createSocket('udp4');
  try {
    for (let i = 0; i < 2000; i++) {
      await new Promise<void>((resolve, reject) => udp.send(`datagram-${i}\n`, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    }
    await agent.waitFor(/Error processing datagram from 127\.0\.0\.1:\d+/);
    // The agent stops within its grace period: the rate-limited count is flushed then.
    await agent.stop();
    const lines = (agent.stdout() + agent.stderr()).split('\n').filter((l) => /Error processing datagram/.test(l));
    assert.ok(lines.length >= 1 && lines.length <= 3, `${lines.length} warning lines:\n${lines.slice(0, 5).join('\n')}`);
    assert.match(lines.join('\n'), /\(\d+ more like this/);
  } finally {
    udp.close();
    await agent.stop();
    cleanup();
  }
});
