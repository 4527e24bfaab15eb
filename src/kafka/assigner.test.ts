import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssignerProtocol, type Cluster, type Logger } from 'kafkajs';
import { RangeAssigner } from './assigner.js';

const { MemberMetadata, MemberAssignment } = AssignerProtocol;

function fakeCluster(partitions: Record<string, number>): { cluster: Cluster; loaded: string[][] } {
  const loaded: string[][] = [];
  const cluster = {
    async addMultipleTargetTopics(topics: string[]) {
      loaded.push(topics);
    },
    findTopicPartitionMetadata(topic: string) {
      // Out of order on purpose: the assigner sorts.
      return Array.from({ length: partitions[topic] ?? 0 }, (_, i) => ({ partitionId: (partitions[topic] ?? 0) - 1 - i }));
    },
  } as unknown as Cluster;
  return { cluster, loaded };
}

async function assign(partitions: Record<string, number>, members: Record<string, string[]>): Promise<Record<string, Record<string, number[]>>> {
  const { cluster } = fakeCluster(partitions);
  const assigner = RangeAssigner({ cluster, groupId: 'g', logger: {} as Logger });
  const group = Object.entries(members).map(([memberId, topics]) => ({ memberId, memberMetadata: assigner.protocol({ topics }).metadata }));
  const out = await assigner.assign({ members: group, topics: [] });
  return Object.fromEntries(out.map((a) => [a.memberId, MemberAssignment.decode(a.memberAssignment)!.assignment]));
}

test('range assigner: Java RangeAssignor ranges per topic, members sorted by id, the first ones get the remainder', async () => {
  assert.deepEqual(await assign({ t: 5 }, { b: ['t'], a: ['t'] }), { a: { t: [0, 1, 2] }, b: { t: [3, 4] } });
  assert.deepEqual(await assign({ t: 4, u: 3 }, { m1: ['t', 'u'], m2: ['t', 'u'], m3: ['t', 'u'] }), {
    m1: { t: [0, 1], u: [0] },
    m2: { t: [2], u: [1] },
    m3: { t: [3], u: [2] },
  });
  // More members than partitions: the last get nothing, but still an assignment.
  assert.deepEqual(await assign({ t: 1 }, { a: ['t'], b: ['t'] }), { a: { t: [0] }, b: {} });
});

test('range assigner: each topic goes only to the members subscribed to it (a Kafka source and a Kafka channel sharing group "flume")', async () => {
  assert.deepEqual(await assign({ in: 4, chan: 2 }, { source: ['in'], channel: ['chan'], other: ['in'] }), {
    source: { in: [2, 3] },
    channel: { chan: [0, 1] },
    other: { in: [0, 1] },
  });
});

test('range assigner: speaks the Java consumer protocol (name "range", v0 subscription)', () => {
  const { cluster } = fakeCluster({});
  const p = RangeAssigner({ cluster, groupId: 'g', logger: {} as Logger }).protocol({ topics: ['a', 'b'] });
  assert.equal(p.name, 'range');
  // ConsumerProtocolSubscription v0: int16 version, array of strings, nullable bytes user data.
  assert.deepEqual(p.metadata, Buffer.from([0, 0, 0, 0, 0, 2, 0, 1, 0x61, 0, 1, 0x62, 0, 0, 0, 0]));
  assert.deepEqual(MemberMetadata.decode(p.metadata)!.topics, ['a', 'b']);
});
