import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { kafkaToolsMissing, kcatConsume, kcatProduce, startKafkaMock, type KafkaMock } from './cluster.js';

// Never skip: a machine without the tools must fail loudly, naming the Debian packages.
function requireTools(): void {
  const missing = kafkaToolsMissing();
  if (missing) assert.fail(missing);
}

/** Pids of the live mock_cluster / kcat processes whose parent is this test process. */
function ourKafkaChildren(): number[] {
  const pids: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid ..." — comm may hold spaces, so split after the last ')'.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) === process.pid && state !== 'Z' && (comm === 'mock_cluster' || comm === 'kcat')) pids.push(Number(e));
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopAndCheck(cluster: KafkaMock): Promise<void> {
  await cluster.stop();
  assert.equal(alive(cluster.pid), false, `mock_cluster ${cluster.pid} still running after stop()`);
  assert.deepEqual(ourKafkaChildren(), [], 'Kafka processes left behind');
}

const lines = Array.from({ length: 100 }, (_, i) => `line-${String(i).padStart(3, '0')} ${'x'.repeat(i % 17)}`);

for (const brokers of [1, 3]) {
  test(`${brokers}-broker mock cluster: 100 lines produced with kcat come back exactly once`, async () => {
    requireTools();
    const cluster = await startKafkaMock({ brokers, topics: [{ name: 'lines', partitions: 3 }] });
    try {
      assert.equal(cluster.brokers.length, brokers);
      for (const b of cluster.brokers) assert.match(b, /^127\.0\.0\.1:\d+$/);

      // Partition p is led by broker p % brokers + 1: one produce per partition
      // makes every broker of the 3-broker cluster take writes and serve reads.
      // (Null-keyed lines would not do: librdkafka's sticky partitioner may put
      // them all in one partition.)
      const partitionOf = (i: number): number => i % 3;
      for (const p of [0, 1, 2]) {
        await kcatProduce(
          cluster.bootstrap,
          'lines',
          lines.filter((_, i) => partitionOf(i) === p),
          { partition: p },
        );
      }
      const got = await kcatConsume(cluster.bootstrap, 'lines', { count: 100, timeoutMs: 20_000, format: '%p|%s' });
      assert.equal(got.length, 100);
      assert.deepEqual([...got].sort(), lines.map((l, i) => `${partitionOf(i)}|${l}`).sort());

      // Nothing beyond the 100.
      const more = await kcatConsume(cluster.bootstrap, 'lines', { count: 101, timeoutMs: 1500, partial: true });
      assert.equal(more.length, 100);
    } finally {
      await stopAndCheck(cluster);
    }
  });
}

test('fixed port: a restarted cluster is an empty one at the same address; key, partition and headers', async () => {
  requireTools();
  const port = await new Promise<number>((resolve, reject) => {
    const s = net.createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port: p } = s.address() as net.AddressInfo;
      s.close(() => resolve(p));
    });
  });
  const first = await startKafkaMock({ port, topics: [{ name: 't', partitions: 2 }] });
  try {
    assert.equal(first.bootstrap, `127.0.0.1:${port}`);
    await kcatProduce(first.bootstrap, 't', ['a', 'b'], { key: 'k1', partition: 1, headers: { src: 'test' } });
    assert.deepEqual(await kcatConsume(first.bootstrap, 't', { count: 2, timeoutMs: 10_000, format: '%p %o %k %h %s' }), ['1 0 k1 src=test a', '1 1 k1 src=test b']);
  } finally {
    await stopAndCheck(first);
  }

  // A second cluster on a busy port fails with the reason, not a hang.
  const second = await startKafkaMock({ port, topics: [{ name: 't', partitions: 2 }] });
  try {
    await assert.rejects(startKafkaMock({ port }), /before announcing BOOTSTRAP[\s\S]*(in use|bind)/i);
    assert.equal(second.bootstrap, `127.0.0.1:${port}`);
    assert.deepEqual(await kcatConsume(second.bootstrap, 't', { count: 1, timeoutMs: 1500, partial: true }), []);
    await kcatProduce(second.bootstrap, 't', ['c'], { partition: 0 });
    assert.deepEqual(await kcatConsume(second.bootstrap, 't', { count: 1, timeoutMs: 10_000, format: '%p %o %s' }), ['0 0 c']);
  } finally {
    await stopAndCheck(second);
  }
});
