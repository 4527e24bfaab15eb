// examples/sql-source: the seed notes' SQLSource against a real MariaDB. Rows inserted
// while the agent runs arrive once each, across an agent restart and a database restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, eventually, spawnFlume, tempDir, writeJob, type RunningAgent } from '../support/agent.js';
import { startMariaDb } from '../support/mariadb.js';

const PLUGIN = path.join(ROOT, 'examples', 'sql-source');

test('SQL source: every row once, in id order, across an agent restart and a database restart; offset in flume_meta', async () => {
  const t = tempDir();
  const db = await startMariaDb(t.dir);
  let agent: RunningAgent | undefined;
  try {
    db.sql(`CREATE DATABASE mysqlsource; CREATE TABLE mysqlsource.student (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50));
      CREATE USER 'flume'@'127.0.0.1' IDENTIFIED BY 'pa''ss;word'; GRANT ALL ON mysqlsource.* TO 'flume'@'127.0.0.1';`);
    const out = path.join(t.dir, 'out');
    fs.mkdirSync(out);
    const job = writeJob(
      t.dir,
      [
        'a1.sources = r1',
        'a1.channels = c1',
        'a1.sinks = k1',
        'a1.sources.r1.type = com.atguigu.source.SQLSource',
        `a1.sources.r1.connection.url = jdbc:mysql://127.0.0.1:${db.port}/mysqlsource?useUnicode=true&characterEncoding=utf-8`,
        'a1.sources.r1.connection.user = flume',
        "a1.sources.r1.connection.password = pa'ss;word",
        'a1.sources.r1.table = student',
        'a1.sources.r1.columns.to.select = *',
        'a1.sources.r1.run.query.delay = 100',
        'a1.sources.r1.batchSize = 7',
        'a1.sources.r1.channels = c1',
        'a1.channels.c1.type = memory',
        'a1.sinks.k1.type = file_roll',
        `a1.sinks.k1.sink.directory = ${out}`,
        'a1.sinks.k1.sink.rollInterval = 0',
        'a1.sinks.k1.channel = c1',
      ].join('\n') + '\n',
    );
    const start = async (): Promise<RunningAgent> => {
      const a = spawnFlume(['agent', '-n', 'a1', '-f', job, '--plugins-path', PLUGIN, '-Dflume.root.logger=INFO,console']);
      await a.waitFor(/Agent a1 started/, 30000);
      return a;
    };
    let n = 0;
    const insert = (count: number): void => {
      const values = Array.from({ length: count }, () => `('name ${++n}, "quoted" \\\\ é')`).join(',');
      db.sql(`INSERT INTO student (name) VALUES ${values}`, 'mysqlsource');
    };
    const delivered = (): string[] =>
      fs
        .readdirSync(out)
        .sort()
        .flatMap((f) => fs.readFileSync(path.join(out, f), 'utf8').split('\n').filter(Boolean));
    const expected = (): string[] => Array.from({ length: n }, (_, i) => `${i + 1},name ${i + 1}, "quoted" \\ é,`);
    const waitAll = async (): Promise<void> => {
      await eventually(() => delivered().length >= n || undefined, 30000, `${n} rows delivered`);
    };

    insert(10);
    agent = await start();
    for (let i = 0; i < 5; i++) insert(6);
    await waitAll();
    // Agent restart: rows inserted while it is away come once, after the ones before.
    assert.equal(await agent.stop(), 0);
    insert(9);
    agent = await start();
    insert(4);
    await waitAll();
    assert.match(agent.stderr(), /reading student after id 40\b/);
    // Database restart while the agent runs: it reconnects and resumes where it was.
    await db.restart();
    insert(12);
    await waitAll();
    assert.equal(await agent.stop(), 0);
    agent = undefined;
    assert.deepEqual(delivered(), expected());
    assert.equal(db.sql("SELECT currentIndex FROM flume_meta WHERE source_tab = 'student'", 'mysqlsource').trim(), String(n));
  } finally {
    if (agent) await agent.stop();
    await db.stop();
    t.cleanup();
  }
});
