import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { eventually, startAgent, tempDir, type RunningAgent } from '../support/agent.js';
import { KCAT, kafkaToolsMissing, startKafkaMock, type KafkaMock } from '../support/kafka/cluster.js';
import { consumerTimings } from './kafka-support.js';
import { inJob, positions, seqLines } from './taildir-support.js';

const TOTAL = 200_000;
const ROTATIONS = 20;
const STEP = 100;
const WRITE_POS_MS = 250;

/** Every message of the topic as [produce timestamp, value], read by kcat to the end of the partition. */
function readTopic(bootstrap: string, topic: string): Promise<Array<[number, string]>> {
  return new Promise((resolve, reject) => {
    const p = spawn(KCAT, ['-C', '-q', '-e', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-f', '%T %s\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => chunks.push(d));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (code) => {
      clearTimeout(t);
      if (code !== 0) return reject(new Error(`kcat exited ${code}: ${err}`));
      const out: Array<[number, string]> = [];
      for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
        const sp = line.indexOf(' ');
        if (sp > 0) out.push([Number(line.slice(0, sp)), line.slice(sp + 1)]);
      }
      resolve(out);
    });
  });
}

function tally(messages: Array<[number, string]>): Map<number, number[]> {
  const seen = new Map<number, number[]>();
  for (const [ts, v] of messages) {
    const m = /^seq=(\d+) /.exec(v);
    if (!m) throw new Error(`unexpected message: ${v.slice(0, 80)}`);
    const n = Number(m[1]);
    const l = seen.get(n);
    if (l) l.push(ts);
    else seen.set(n, [ts]);
  }
  return seen;
}

test('TAILDIR: 200,000 lines through 10 rename and 10 copytruncate rotations and a truncation, agent killed -9 twice: every line arrives, duplicates only from batches the position file had not recorded', {
  timeout: 240_000,
}, async () => {
  const missingTools = kafkaToolsMissing();
  if (missingTools) assert.fail(missingTools);
  const t = tempDir('flume-taildir-rot-');
  const logs = path.join(t.dir, 'logs');
  fs.mkdirSync(logs);
  const posFile = path.join(t.dir, 'pos', 'taildir_position.json');
  let kafka: KafkaMock | undefined;
  const agents: RunningAgent[] = [];
  try {
    // The Kafka channel is the durable channel here: what it committed survives the kills. The mock keeps about 5 MB per partition: ten hold the 20 MB of this test.
    kafka = await startKafkaMock({ topics: [{ name: 'taildir', partitions: 10 }] });
    // Rotated names alternate between ones the group matches (app.log.N) and ones it does not (app.log-N.old).
    const job = `a1.sources = r1
a1.channels = c1
a1.sources.r1.type = TAILDIR
a1.sources.r1.filegroups = f1
a1.sources.r1.filegroups.f1 = ${logs}/${inJob('app\\.log(\\.\\d+)?')}
a1.sources.r1.positionFile = ${posFile}
a1.sources.r1.writePosInterval = ${WRITE_POS_MS}
a1.sources.r1.batchSize = 500
a1.sources.r1.backoffSleepIncrement = 100
a1.sources.r1.maxBackoffSleep = 500
a1.sources.r1.channels = c1
a1.channels.c1.type = org.apache.flume.channel.kafka.KafkaChannel
a1.channels.c1.kafka.bootstrap.servers = ${kafka.bootstrap}
a1.channels.c1.kafka.topic = taildir
a1.channels.c1.parseAsFlumeEvent = false
${consumerTimings('a1.channels.c1')}`;
    const start = async (): Promise<RunningAgent> => {
      const a = await startAgent(job, { dir: t.dir });
      agents.push(a);
      return a;
    };
    let agent = await start();

    const log = path.join(logs, 'app.log');
    let written = 0;
    let fd = fs.openSync(log, 'a');
    const perSegment = Math.ceil(TOTAL / (ROTATIONS + 1));
    const writer = (async () => {
      let rotation = 0;
      let truncatedOnce = false;
      while (written < TOTAL) {
        const n = Math.min(STEP, TOTAL - written);
        fs.writeSync(fd, seqLines(written, written + n));
        written += n;
        if (!truncatedOnce && written >= perSegment * 10 + perSegment / 2) {
          // A plain truncation loses what was not read yet, so it waits for the position to say all of it is committed.
          const size = fs.fstatSync(fd).size;
          const ino = fs.fstatSync(fd).ino;
          await eventually(() => positions(posFile).some((p) => p.inode === ino && p.pos === size), 60_000, 'app.log committed before the truncation');
          fs.ftruncateSync(fd, 0);
          truncatedOnce = true;
        }
        if (rotation < ROTATIONS && written >= perSegment * (rotation + 1)) {
          rotation++;
          const target = rotation % 4 < 2 ? `${log}.${rotation}` : `${log}-${rotation}.old`;
          if (rotation % 2 === 1) {
            // Rename and create: the writer appends a little more to the renamed file before it reopens.
            fs.renameSync(log, target);
            const m = Math.min(20, TOTAL - written);
            fs.writeSync(fd, seqLines(written, written + m));
            written += m;
            fs.closeSync(fd);
            fd = fs.openSync(log, 'a');
          } else {
            fs.copyFileSync(log, target);
            fs.ftruncateSync(fd, 0);
          }
        }
        await new Promise((r) => setTimeout(r, 4));
      }
      fs.closeSync(fd);
    })();

    const kills: Array<{ at: number; written: number }> = [];
    for (const at of [0.3, 0.65]) {
      await eventually(() => written >= TOTAL * at, 120_000, `the writer at ${at * 100} %`);
      agent.proc.kill('SIGKILL');
      kills.push({ at: Date.now(), written });
      await agent.exited;
      agent = await start();
    }
    await writer;

    let seen = new Map<number, number[]>();
    await eventually(
      async () => {
        seen = tally(await readTopic(kafka!.bootstrap, 'taildir'));
        return seen.size >= TOTAL;
      },
      90_000,
      'every line in the channel',
    ).catch((e: Error) => {
      const missing: number[] = [];
      for (let i = 0; i < TOTAL && missing.length < 20; i++) if (!seen.has(i)) missing.push(i);
      throw new Error(
        `${e.message}: ${seen.size} of ${TOTAL}; first missing ${missing.join(' ')}\n${agents
          .map((a) =>
            (a.stdout() + a.stderr())
              .split('\n')
              .filter((l) => /TAILDIR|WARN|ERROR/.test(l))
              .slice(-60)
              .join('\n'),
          )
          .join('\n----\n')}`,
      );
    });
    const code = await agent.stop();
    assert.equal(code, 0);
    seen = tally(await readTopic(kafka.bootstrap, 'taildir'));
    const missing = [...Array(TOTAL).keys()].filter((i) => !seen.has(i));
    assert.deepEqual(missing, [], 'no line is lost');
    assert.ok(
      [...seen.keys()].every((n) => n < TOTAL),
      'no line that was never written',
    );

    // A duplicate is a line committed to the channel shortly before a kill, in a batch the
    // position file had not recorded yet (it is written every writePosInterval).
    const dups = [...seen].filter(([, ts]) => ts.length > 1);
    const perKill = kills.map(() => 0);
    const unexplained: string[] = [];
    for (const [n, ts] of dups) {
      const first = Math.min(...ts);
      const k = kills.findIndex((kill) => first <= kill.at + 50 && first >= kill.at - WRITE_POS_MS - 2000);
      if (k < 0 || ts.length > 2) unexplained.push(`seq=${n} sent ${ts.length} times at ${ts.join(', ')}`);
      else perKill[k]!++;
    }
    console.log(
      `TAILDIR rotation test: ${TOTAL} lines, ${ROTATIONS} rotations + 1 truncation, 2 kills; duplicates per kill: ${perKill.join(', ')} (lines committed but not yet in the position file); others: ${unexplained.length}`,
    );
    assert.deepEqual(unexplained.slice(0, 10), [], `kills at ${kills.map((k) => k.at).join(', ')}: duplicates not explained by a kill`);
  } finally {
    for (const a of agents) await a.stop();
    await kafka?.stop();
    t.cleanup();
  }
});
