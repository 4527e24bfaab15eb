import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withTransaction } from '../../core/transaction.js';
import { createEvent, SlicedEvent, type FlumeEvent } from '../../core/event.js';
import type { Logger } from '../../core/logger.js';
import { FileChannel, DEFAULT_CACHE_BYTES, type FileChannelConfig } from './channel.js';
import { listLogs, scanLog } from './scan.js';
import { CHECKPOINT_NAME } from './checkpoint.js';
import { spawnSync } from 'node:child_process';
import { eventually, ROOT } from '../../../test/support/agent.js';

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const l = {
    lines,
    isDebugEnabled: false,
    error: (m: string) => void lines.push(`ERROR ${m}`),
    warn: (m: string) => void lines.push(`WARN ${m}`),
    info: (m: string) => void lines.push(`INFO ${m}`),
    debug: () => {},
    child: () => l,
  };
  return l;
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fc-unit-'));
}

function config(base: string, over: Partial<FileChannelConfig> = {}): FileChannelConfig {
  return {
    checkpointDir: path.join(base, 'cp'),
    backupCheckpointDir: undefined,
    dataDirs: [path.join(base, 'data')],
    capacity: 100000,
    transactionCapacity: 1000,
    checkpointIntervalMs: 3600_000,
    maxFileSize: 1 << 30,
    minimumRequiredSpace: 1 << 20,
    keepAliveMs: 0,
    checkpointOnClose: true,
    fsyncPerTransaction: true,
    fsyncIntervalMs: 5000,
    cacheBytes: DEFAULT_CACHE_BYTES,
    ...over,
  };
}

async function open(base: string, over: Partial<FileChannelConfig> = {}): Promise<FileChannel & { log: string[] }> {
  const log = capture();
  const ch = new FileChannel('c1', config(base, over), log) as FileChannel & { log: string[] };
  ch.log = log.lines;
  await ch.start();
  return ch;
}

const ev = (s: string, headers: Record<string, string> = {}): FlumeEvent => createEvent(s, headers);

async function put(ch: FileChannel, bodies: string[]): Promise<void> {
  await withTransaction(ch, (tx) => tx.put(bodies.map((b) => ev(b))));
}

async function takeAll(ch: FileChannel): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const got = await withTransaction(ch, (tx) => tx.take(1000));
    if (got.length === 0) return out;
    for (const e of got) out.push(e.body.toString());
  }
}

const range = (from: number, n: number, prefix = 'e'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);

test('committed puts survive a restart in order, with their headers; uncommitted ones do not', async () => {
  const base = tmp();
  try {
    const ch = await open(base);
    await withTransaction(ch, (tx) => tx.put([ev('a', { h: 'v', ü: 'ß' }), ev('b')]));
    const s = new SlicedEvent(Buffer.from('xxsliceyy'), 2, 7);
    await withTransaction(ch, (tx) => tx.put([s]));
    const tx = ch.transaction();
    await tx.put([ev('never')]);
    // a take that is rolled back returns the event to the head
    await assert.rejects(
      withTransaction(ch, async (t) => {
        assert.deepEqual(
          (await t.take(1)).map((e) => e.body.toString()),
          ['a'],
        );
        throw new Error('sink failed');
      }),
    );
    await ch.stop();
    const again = await open(base);
    const got = await withTransaction(again, (t) => t.take(10));
    assert.deepEqual(
      got.map((e) => e.body.toString()),
      ['a', 'b', 'slice'],
    );
    assert.deepEqual(got[0]!.headers, { h: 'v', ü: 'ß' });
    await again.stop();
    // the takes were committed: nothing comes back
    const third = await open(base);
    assert.equal(third.size, 0);
    await third.stop();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('without a checkpoint on close, the log alone restores puts and takes (replay after a crash)', async () => {
  const base = tmp();
  try {
    const ch = await open(base, { checkpointOnClose: false, dataDirs: [path.join(base, 'd1'), path.join(base, 'd2')] });
    for (let i = 0; i < 10; i++) await put(ch, range(i * 100, 100));
    await withTransaction(ch, (tx) => tx.take(150));
    // an open take at the crash: its events come back
    const open1 = ch.transaction();
    assert.equal((await open1.take(10)).length, 10);
    await ch.stop();
    const again = await open(base, { checkpointOnClose: false, dataDirs: [path.join(base, 'd1'), path.join(base, 'd2')] });
    assert.deepEqual(await takeAll(again), range(150, 850));
    await again.stop();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('a log cut at every byte offset of its last record: everything before it is kept, the channel starts', async () => {
  const base = tmp();
  try {
    const ch = await open(base, { checkpointOnClose: false });
    await put(ch, range(0, 5));
    await put(ch, range(5, 5));
    await put(ch, ['last-one', 'last-two']);
    await ch.stop();
    const [log] = listLogs(path.join(base, 'data'));
    const offsets: number[] = [];
    scanLog(log!.path, log!.id, (r) => offsets.push(r.offset));
    const lastStart = offsets[offsets.length - 1]!;
    const full = fs.readFileSync(log!.path);
    for (let cut = lastStart; cut < full.length; cut++) {
      const b2 = tmp();
      try {
        fs.mkdirSync(path.join(b2, 'data'));
        fs.writeFileSync(path.join(b2, 'data', path.basename(log!.path)), full.subarray(0, cut));
        const c2 = await open(b2, { checkpointOnClose: false });
        const got = await takeAll(c2);
        await c2.stop();
        assert.deepEqual(got, range(0, 10), `cut at ${cut}`);
        if (cut > lastStart)
          assert.ok(
            c2.log.some((l) => /incomplete or damaged record at offset \d+/.test(l)),
            `warning at cut ${cut}`,
          );
        // the torn tail was cut off
        assert.equal(fs.statSync(path.join(b2, 'data', path.basename(log!.path))).size, lastStart);
      } finally {
        fs.rmSync(b2, { recursive: true, force: true });
      }
    }
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('a byte flipped inside a record: the records before and after it are kept, the damage is reported and counted', async () => {
  const base = tmp();
  try {
    const ch = await open(base, { checkpointOnClose: false });
    await put(ch, range(0, 5));
    await put(ch, range(5, 5));
    await put(ch, range(10, 5));
    await ch.stop();
    const [log] = listLogs(path.join(base, 'data'));
    const offsets: number[] = [];
    scanLog(log!.path, log!.id, (r) => offsets.push(r.offset));
    // Flip each byte of the middle record in turn (header and payload).
    const full = fs.readFileSync(log!.path);
    for (let at = offsets[1]!; at < offsets[2]!; at += 7) {
      const b2 = tmp();
      try {
        fs.mkdirSync(path.join(b2, 'data'), { recursive: true });
        const copy = Buffer.from(full);
        copy[at] = copy[at]! ^ 0x5a;
        fs.writeFileSync(path.join(b2, 'data', path.basename(log!.path)), copy);
        const c2 = await open(b2, { checkpointOnClose: false });
        const got = await takeAll(c2);
        assert.deepEqual(got, [...range(0, 5), ...range(10, 5)], `flip at ${at}`);
        assert.equal(c2.counter.ReplayDamageCount, 1);
        assert.ok(
          c2.log.some((l) => l.startsWith('ERROR') && l.includes(`damaged bytes at offset ${offsets[1]}`)),
          c2.log.join('\n'),
        );
        await c2.stop();
      } finally {
        fs.rmSync(b2, { recursive: true, force: true });
      }
    }
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('a damaged checkpoint falls back to the backup, then to a full replay of the logs', async () => {
  const base = tmp();
  const cfg = { backupCheckpointDir: path.join(base, 'backup'), checkpointOnClose: true };
  try {
    const ch = await open(base, cfg);
    await put(ch, range(0, 20));
    await ch.stop();
    // damage the checkpoint: the backup is used
    const cpFile = path.join(base, 'cp', CHECKPOINT_NAME);
    const b = fs.readFileSync(cpFile);
    b[b.length - 10] ^= 0xff;
    fs.writeFileSync(cpFile, b);
    let c2 = await open(base, cfg);
    assert.ok(c2.log.some((l) => /unusable checkpoint .*checksum mismatch/.test(l)));
    assert.ok(c2.log.some((l) => l.includes(`from checkpoint ${path.join(base, 'backup', CHECKPOINT_NAME)}`)));
    await c2.stop();
    // damage both: full replay
    for (const f of [cpFile, path.join(base, 'backup', CHECKPOINT_NAME)]) fs.writeFileSync(f, 'garbage');
    c2 = await open(base, cfg);
    assert.ok(c2.log.some((l) => /no usable checkpoint; replaying all/.test(l)));
    assert.deepEqual(await takeAll(c2), range(0, 20));
    await c2.stop();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('log files whose events are all taken are deleted at the next checkpoint', async () => {
  const base = tmp();
  try {
    const dirs = [path.join(base, 'd1'), path.join(base, 'd2')];
    const ch = await open(base, { maxFileSize: 8192, dataDirs: dirs });
    for (let i = 0; i < 40; i++) await put(ch, range(i * 50, 50, 'x'.repeat(50)));
    const files = (): number => dirs.reduce((n, d) => n + listLogs(d).length, 0);
    assert.ok(files() > 10, `${files()} files`);
    const got = await takeAll(ch);
    assert.equal(got.length, 2000);
    await ch.checkpoint();
    // only each directory's current file is left
    assert.equal(files(), 2);
    await ch.stop();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('events beyond the cache are read back from disk, in order', async () => {
  const base = tmp();
  try {
    const ch = await open(base, { cacheBytes: 1000 });
    for (let i = 0; i < 20; i++) await put(ch, range(i * 100, 100));
    assert.deepEqual(await takeAll(ch), range(0, 2000));
    await ch.stop();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('capacity: a put beyond it fails with a channel-full error after keep-alive', async () => {
  const base = tmp();
  try {
    const ch = await open(base, { capacity: 10, transactionCapacity: 10 });
    await put(ch, range(0, 8));
    await assert.rejects(put(ch, range(8, 3)), /reached it's capacity/);
    assert.equal(ch.counter.EventPutErrorCount, 3);
    await put(ch, range(8, 2));
    assert.equal(ch.size, 10);
    await ch.stop();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('a second channel on the same directories is refused with a lock error', async () => {
  const base = tmp();
  try {
    const ch = await open(base);
    const other = new FileChannel('c2', config(base), capture());
    await assert.rejects(other.start(), /already used by channel c1/);
    await ch.stop();
    const third = await open(base);
    await third.stop();
    // A lock left by a killed agent whose pid now belongs to another process (pid 1 here,
    // started at another time) is stale and taken over; a live owner's is not.
    for (const d of ['cp', 'data']) fs.writeFileSync(path.join(base, d, 'in_use.lock'), '1 1\n');
    const fourth = await open(base);
    await fourth.stop();
    for (const d of ['cp', 'data']) fs.writeFileSync(path.join(base, d, 'in_use.lock'), '1\n');
    await assert.rejects(new FileChannel('c3', config(base), capture()).start(), /is locked by process 1\b/);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

function mountTmpfs(dir: string, size: string): boolean {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return r.status === 0;
}

test('full disk (a 4 MiB tmpfs): puts fail cleanly naming the directory, takes drain, space comes back without a restart', async (t) => {
  const base = tmp();
  const data = path.join(base, 'data');
  fs.mkdirSync(data);
  assert.ok(mountTmpfs(data, '4m'), 'mount -t tmpfs needs root (the tests run as root)');
  try {
    const body = 'z'.repeat(1000);
    const cfg = { dataDirs: [data], maxFileSize: 256 * 1024, minimumRequiredSpace: 1 << 20 };
    const ch = await open(base, cfg);
    let committed = 0;
    let err: Error | undefined;
    for (let i = 0; i < 100 && !err; i++) {
      try {
        await withTransaction(ch, (tx) => tx.put(Array.from({ length: 100 }, (_, k) => ev(`${committed + k} ${body}`))));
        committed += 100;
      } catch (e) {
        err = e as Error;
      }
    }
    assert.ok(err, 'puts never failed');
    assert.equal((err as { code?: string }).code, 'FTS_ERR_CHANNEL_DISK_FULL');
    assert.match(err.message, new RegExp(`${data} has \\d+ bytes usable, below minimumRequiredSpace \\(1048576 bytes\\)`));
    assert.ok(committed >= 1000, `only ${committed} committed`);
    // nothing partial in the logs
    for (const l of listLogs(data)) assert.deepEqual(scanLog(l.path, l.id, () => {}).damage, []);
    // takes drain everything committed, in order
    const got = await takeAll(ch);
    assert.equal(got.length, committed);
    got.forEach((b, i) => assert.ok(b.startsWith(`${i} `), `event ${i}: ${b.slice(0, 10)}`));
    // the emptied files go, and puts work again without a restart
    await eventually(
      async () => {
        try {
          await withTransaction(ch, (tx) => tx.put([ev('after')]));
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      'puts accepted again',
    );
    assert.deepEqual(await takeAll(ch), ['after']);
    await ch.stop();

    // Another program fills the disk between two looks at the free space: the write
    // fails with ENOSPC, is cut back, and what was committed before is intact.
    const c2 = await open(base, { ...cfg, minimumRequiredSpace: 0, maxFileSize: 64 << 20 });
    let n = 0;
    await withTransaction(c2, (tx) => tx.put(Array.from({ length: 10 }, (_, k) => ev(`${n + k} ${body}`))));
    n += 10;
    const filler = path.join(data, 'filler');
    const fd = fs.openSync(filler, 'w');
    try {
      const chunk = Buffer.alloc(4096, 1);
      for (;;) fs.writeSync(fd, chunk);
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    let e2: Error | undefined;
    try {
      await withTransaction(c2, (tx) => tx.put(Array.from({ length: 100 }, (_, k) => ev(`${n + k} ${body}`))));
    } catch (e) {
      e2 = e as Error;
    }
    assert.equal((e2 as { code?: string } | undefined)?.code, 'FTS_ERR_CHANNEL_DISK_FULL', String(e2));
    assert.match(e2!.message, /the disk is full \(ENOSPC\); nothing partial was kept/);
    for (const l of listLogs(data)) assert.deepEqual(scanLog(l.path, l.id, () => {}).damage, []);
    await c2.stop();
    fs.unlinkSync(filler);
    const c3 = await open(base, cfg);
    const again = await takeAll(c3);
    assert.equal(again.length, n);
    await c3.stop();
    t.diagnostic(`${committed} events before the minimumRequiredSpace guard, ${n} before ENOSPC`);
  } finally {
    spawnSync('umount', ['-l', data]);
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('encryption: payloads are AES-CTR encrypted at rest, replay and reads from disk decrypt them, a missing key is a clear start error', async () => {
  const base = tmp();
  try {
    const k0 = path.join(base, 'key-0');
    const k1 = path.join(base, 'key-1');
    fs.writeFileSync(k0, '00112233445566778899aabbccddeeff\n');
    fs.writeFileSync(k1, Buffer.alloc(32, 7));
    const enc = (active: string) => ({
      encryption: {
        active,
        keyFiles: new Map([
          ['key-0', k0],
          ['key-1', k1],
        ]),
      },
      checkpointOnClose: false,
      cacheBytes: 0,
    });
    const ch = await open(base, enc('key-0'));
    await withTransaction(ch, (tx) => tx.put([ev('secret-body-one', { user: 'secret-header' }), ev('secret-body-two')]));
    await ch.stop();
    // a new active key: old files stay readable with the old one
    const c2 = await open(base, enc('key-1'));
    await withTransaction(c2, (tx) => tx.put([ev('secret-body-three')]));
    await c2.stop();
    for (const l of listLogs(path.join(base, 'data'))) {
      const bytes = fs.readFileSync(l.path).toString('latin1');
      assert.ok(!bytes.includes('secret'), `${l.path} holds plain text`);
    }
    const c3 = await open(base, enc('key-1'));
    const got = await withTransaction(c3, (tx) => tx.take(10));
    assert.deepEqual(
      got.map((e) => e.body.toString()),
      ['secret-body-one', 'secret-body-two', 'secret-body-three'],
    );
    assert.deepEqual(got[0]!.headers, { user: 'secret-header' });
    await c3.stop();
    // without key-0 the files it wrote cannot be read: the channel refuses to start, naming the key
    const only1 = { encryption: { active: 'key-1', keyFiles: new Map([['key-1', k1]]) }, checkpointOnClose: false };
    const c4 = new FileChannel('c1', config(base, only1), capture());
    await assert.rejects(c4.start(), /encrypted with key key-0, which is not configured/);
    // a key file of the wrong size
    fs.writeFileSync(k1, 'short');
    const c5 = new FileChannel('c1', config(base, enc('key-1')), capture());
    await assert.rejects(c5.start(), /key key-1 in .*: expected 16, 24 or 32 bytes/);
    // the integrity check works without keys (checksums only)
    for (const l of listLogs(path.join(base, 'data'))) assert.deepEqual(scanLog(l.path, l.id, () => {}, 0, undefined, true).damage, []);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('encryption keys from a PKCS12 key store (keytool -genseckey -storetype PKCS12); a JCEKS store is refused with the command that converts it', async () => {
  const base = tmp();
  const fixtures = path.join(ROOT, 'test', 'fixtures', 'file-channel');
  try {
    const store = (file: string) => ({
      encryption: {
        active: 'key-1',
        keyFiles: new Map([
          ['key-0', ''],
          ['key-1', ''],
        ]),
        store: { file: path.join(fixtures, file), passwordFile: path.join(fixtures, 'keystore.password'), keyPasswordFiles: new Map<string, string>() },
      },
      checkpointOnClose: false,
      cacheBytes: 0,
    });
    const ch = await open(base, store('keys.p12'));
    await withTransaction(ch, (tx) => tx.put([ev('in the store')]));
    await ch.stop();
    const again = await open(base, store('keys.p12'));
    assert.deepEqual(
      (await withTransaction(again, (tx) => tx.take(5))).map((e) => e.body.toString()),
      ['in the store'],
    );
    await again.stop();
    const jceks = new FileChannel('c1', config(base, store('keys.jceks')), capture());
    await assert.rejects(jceks.start(), /is a Java JCEKS key store, which only Java reads; convert it to PKCS12 with: keytool -importkeystore -srckeystore \S+keys\.jceks -srcstoretype JCEKS/);
    const wrong = store('keys.p12');
    wrong.encryption.store.passwordFile = path.join(base, 'bad.password');
    fs.writeFileSync(wrong.encryption.store.passwordFile, 'nope');
    await assert.rejects(new FileChannel('c1', config(base, wrong), capture()).start(), /key key-0 cannot be decrypted: wrong password/);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});
