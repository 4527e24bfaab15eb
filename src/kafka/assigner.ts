import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

const { MemberMetadata, MemberAssignment } = AssignerProtocol;

/**
 * The Java client's RangeAssignor (protocol name `range`, the default of Java Flume's
 * consumers), for kafkajs. Two things kafkajs' own RoundRobinAssigner does not do:
 *
 * - Each topic is divided among the members subscribed to *it*. kafkajs' assigner gives
 *   out only the leader's topics, to every member, so a group whose members read
 *   different topics (Flume's Kafka source and Kafka channel both default to group
 *   `flume`) leaves some topics unread.
 * - It speaks Java's protocol, so our agents and Java Flume agents can share a group.
 *
 * Per topic, members sorted by id get contiguous ranges of the sorted partitions; the
 * first `partitions % members` get one more.
 */
export const RangeAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'range',
  version: 0,
  async assign({ members }) {
    const subscribers = new Map<string, string[]>();
    for (const m of members) {
      const meta = MemberMetadata.decode(m.memberMetadata);
      for (const topic of meta?.topics ?? []) {
        const list = subscribers.get(topic);
        if (list) list.push(m.memberId);
        else subscribers.set(topic, [m.memberId]);
      }
    }
    // The leader knows the partitions of its own topics; load the others'.
    await cluster.addMultipleTargetTopics([...subscribers.keys()]);
    const assignment = new Map<string, Record<string, number[]>>();
    for (const m of members) assignment.set(m.memberId, {});
    for (const [topic, ids] of subscribers) {
      const partitions = cluster
        .findTopicPartitionMetadata(topic)
        .map((p) => p.partitionId)
        .sort((a, b) => a - b);
      ids.sort();
      const each = Math.floor(partitions.length / ids.length);
      const extra = partitions.length % ids.length;
      for (let i = 0; i < ids.length; i++) {
        const start = i * each + Math.min(i, extra);
        const count = each + (i < extra ? 1 : 0);
        if (count > 0) assignment.get(ids[i]!)![topic] = partitions.slice(start, start + count);
      }
    }
    return members.map((m) => ({
      memberId: m.memberId,
      memberAssignment: MemberAssignment.encode({ version: 0, assignment: assignment.get(m.memberId)!, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: 'range', metadata: MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});
