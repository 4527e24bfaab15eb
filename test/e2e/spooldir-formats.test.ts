import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { eventually, jobText, startAgent, tempDir } from '../support/agent.js';
import { names, outLines, stopMetrics } from './spooldir-support.js';

const PY = '/usr/bin/python3';

test('LINE: long lines cut at maxLineLength characters as Flume does (multi-byte characters kept whole), \\r kept; decodeErrorPolicy REPLACE and IGNORE; ISO-8859-1 input; file and basename headers', async () => {
  const t = tempDir('flume-spool-');
  const out = path.join(t.dir, 'out');
  fs.mkdirSync(out);
  const spools = ['cut', 'replace', 'ignore', 'latin1'].map((n) => path.join(t.dir, n));
  for (const s of spools) fs.mkdirSync(s);
  const common = { type: 'spooldir', channels: 'c1', quietPeriod: 0, pollDelay: 100, fileHeader: true, basenameHeader: true };
  const job = jobText({
    sources: {
      r1: { ...common, spoolDir: spools[0]!, 'deserializer.maxLineLength': 4, fileHeaderKey: 'path', basenameHeaderKey: 'name' },
      r2: { ...common, spoolDir: spools[1]!, decodeErrorPolicy: 'REPLACE' },
      r3: { ...common, spoolDir: spools[2]!, decodeErrorPolicy: 'IGNORE' },
      r4: { ...common, spoolDir: spools[3]!, inputCharset: 'ISO-8859-1' },
    },
    channels: { c1: { type: 'memory' } },
    sinks: { k1: { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.serializer': 'header_and_text', channel: 'c1' } },
  });
  const agent = await startAgent(job, { dir: t.dir });
  try {
    fs.writeFileSync(path.join(spools[0]!, 'cut.txt'), 'abcdefghij\nabcd\n\nx\r\nééééé\n😀😀😀\nlast');
    fs.writeFileSync(path.join(spools[1]!, 'r.txt'), Buffer.from([0x61, 0xff, 0x62, 0x0a, 0x63, 0xe2, 0x82, 0x0a]));
    fs.writeFileSync(path.join(spools[2]!, 'i.txt'), Buffer.from([0x61, 0xff, 0x62, 0x0a, 0x63, 0xe2, 0x82, 0x0a]));
    fs.writeFileSync(path.join(spools[3]!, 'l.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x80, 0x0a]));
    await eventually(() => spools.every((s) => names(s).some((n) => n.endsWith('.COMPLETED'))), 10000, 'four files completed');
    await eventually(() => outLines(out).length === 16, 5000, '16 lines');
    const got = outLines(out);
    const by = (file: string): string[] => got.filter((l) => l.includes(`=${file}`) || l.includes(`/${file}`)).map((l) => l.replace(/^\{[^}]*\} /, ''));
    // Flume's LineDeserializer: 4 characters, then the rest as the next event; an empty line is an empty event;
    // a line of exactly 4 characters is one event (Flume adds an empty one after it).
    assert.deepEqual(by('cut.txt'), ['abcd', 'efgh', 'ij', 'abcd', '', 'x\r', 'éééé', 'é', '😀😀', '😀', 'last']);
    assert.ok(
      got.some((l) => l.startsWith(`{path=${path.join(spools[0]!, 'cut.txt')}, name=cut.txt} abcd`)),
      got.join('\n'),
    );
    assert.deepEqual(by('r.txt'), ['a\uFFFDb', 'c\uFFFD']);
    assert.deepEqual(by('i.txt'), ['ab', 'c']);
    // Java's ISO-8859-1: 0x80 is U+0080 (a WHATWG decoder would read windows-1252's €).
    assert.deepEqual(by('l.txt'), ['café \u0080']);
    assert.ok(
      got.some((l) => l === `{file=${path.join(spools[3]!, 'l.txt')}, basename=l.txt} café \u0080`),
      got.join('\n'),
    );
    assert.match(agent.stderr(), /Line length exceeds max \(4\), truncating line!/);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

test('BLOB (BlobDeserializer$Builder): a file as events of at most maxBlobLength bytes, byte for byte', async () => {
  const t = tempDir('flume-spool-');
  const out = path.join(t.dir, 'out');
  const spool = path.join(t.dir, 'spool');
  fs.mkdirSync(out);
  fs.mkdirSync(spool);
  const data = crypto.randomBytes(2500);
  const small = crypto.randomBytes(300);
  const job = jobText({
    sources: {
      r1: { type: 'spooldir', spoolDir: spool, channels: 'c1', quietPeriod: 0, deserializer: 'org.apache.flume.sink.solr.morphline.BlobDeserializer$Builder', 'deserializer.maxBlobLength': 1000 },
    },
    channels: { c1: { type: 'memory' } },
    sinks: { k1: { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.serializer.appendNewline': false, channel: 'c1' } },
  });
  const agent = await startAgent(job, { dir: t.dir });
  try {
    fs.writeFileSync(path.join(spool, 'a.bin'), data);
    await eventually(() => fs.existsSync(path.join(spool, 'a.bin.COMPLETED')), 10000, 'a.bin completed');
    fs.writeFileSync(path.join(spool, 'b.bin'), small);
    await eventually(() => fs.existsSync(path.join(spool, 'b.bin.COMPLETED')), 10000, 'b.bin completed');
    const written = (): Buffer =>
      Buffer.concat(
        fs
          .readdirSync(out)
          .sort()
          .map((f) => fs.readFileSync(path.join(out, f))),
      );
    await eventually(() => written().length === 2800, 5000, '2800 bytes');
    assert.ok(written().equals(Buffer.concat([data, small])));
    assert.equal(await agent.stop(), 0);
    assert.equal(stopMetrics(agent).EventAcceptedCount, 4);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});

// Writes an Avro container file with Apache Avro's Python implementation (Debian python3-avro):
// 1,000 user records with the given codec (snappy through Debian python3-snappy), a block every 64 records.
const WRITE_AVRO = `
import sys, json, avro.schema, avro.datafile, avro.io
schema = avro.schema.parse(json.dumps({"type": "record", "name": "User", "namespace": "example.avro", "doc": "a user",
  "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}, {"name": "tags", "type": {"type": "array", "items": "string"}}]}))
with open(sys.argv[1], "wb") as f:
    w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec=sys.argv[2])
    for i in range(1000):
        w.append({"id": i, "name": "user-%d" % i, "tags": ["t%d" % j for j in range(i % 4)]})
        if i % 64 == 63:
            w.sync()
    w.close()
`;

// Reads the Flume events file_roll wrote (avro_event serializer), decodes each body as a User,
// and computes the CRC-64-AVRO fingerprint of the schema's canonical form as the Avro spec defines it.
const READ_AVRO = `
import sys, json, io, avro.schema, avro.datafile, avro.io
user = avro.schema.parse(json.dumps({"type": "record", "name": "User", "namespace": "example.avro",
  "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}, {"name": "tags", "type": {"type": "array", "items": "string"}}]}))
EMPTY = 0xc15d213aa4d7a795
table = []
for i in range(256):
    fp = i
    for _ in range(8):
        fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
    table.append(fp & 0xffffffffffffffff)
fp = EMPTY
for b in user.canonical_form.encode("utf-8"):
    fp = (fp >> 8) ^ table[(fp ^ b) & 0xff]
out = {"hash": fp.to_bytes(8, "little").hex(), "events": []}
for name in sorted(sys.argv[1:]):
    with open(name, "rb") as f:
        for e in avro.datafile.DataFileReader(f, avro.io.DatumReader()):
            rec = avro.io.DatumReader(user).read(avro.io.BinaryDecoder(io.BytesIO(e["body"])))
            out["events"].append({"headers": e["headers"], "record": rec})
print(json.dumps(out))
`;

test("AVRO: container files written by python3-avro (null, deflate and snappy codecs, many blocks) gives one event per record, re-encoded, with Flume's schema hash or literal header", async () => {
  const t = tempDir('flume-spool-');
  const out = path.join(t.dir, 'out');
  const hashDir = path.join(t.dir, 'hash');
  const literalDir = path.join(t.dir, 'literal');
  for (const d of [out, hashDir, literalDir]) fs.mkdirSync(d);
  const job = jobText({
    sources: {
      r1: { type: 'spooldir', spoolDir: hashDir, channels: 'c1', quietPeriod: 0, deserializer: 'AVRO', batchSize: 50, basenameHeader: true },
      r2: {
        type: 'spooldir',
        spoolDir: literalDir,
        channels: 'c1',
        quietPeriod: 0,
        deserializer: 'org.apache.flume.serialization.AvroEventDeserializer$Builder',
        'deserializer.schemaType': 'LITERAL',
        basenameHeader: true,
      },
    },
    channels: { c1: { type: 'memory', capacity: 10000, transactionCapacity: 1000 } },
    sinks: { k1: { type: 'file_roll', 'sink.directory': out, 'sink.rollInterval': 0, 'sink.serializer': 'avro_event', 'sink.batchSize': 1000, channel: 'c1' } },
  });
  const agent = await startAgent(job, { dir: t.dir });
  try {
    for (const [dir, codec] of [
      [hashDir, 'deflate'],
      [hashDir, 'snappy'],
      [literalDir, 'null'],
    ] as const) {
      const w = spawnSync(PY, ['-c', WRITE_AVRO, path.join(t.dir, `users-${codec}.avro`), codec], { encoding: 'utf8' });
      assert.equal(w.status, 0, w.stderr);
      fs.renameSync(path.join(t.dir, `users-${codec}.avro`), path.join(dir, `users-${codec}.avro`));
    }
    await eventually(
      () => ['users-deflate', 'users-snappy'].every((n) => fs.existsSync(path.join(hashDir, `${n}.avro.COMPLETED`))) && fs.existsSync(path.join(literalDir, 'users-null.avro.COMPLETED')),
      10000,
      'three files completed',
    );
    assert.equal(await agent.stop(), 0);
    const r = spawnSync(PY, ['-c', READ_AVRO, ...fs.readdirSync(out).map((f) => path.join(out, f))], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { hash: string; events: Array<{ headers: Record<string, string>; record: { id: number; name: string; tags: string[] } }> };
    const want = Array.from({ length: 1000 }, (_, i) => ({ id: i, name: `user-${i}`, tags: Array.from({ length: i % 4 }, (_, j) => `t${j}`) }));
    const hashed = res.events.filter((e) => e.headers.basename === 'users-deflate.avro');
    const snappy = res.events.filter((e) => e.headers.basename === 'users-snappy.avro');
    const literal = res.events.filter((e) => e.headers.basename === 'users-null.avro');
    assert.deepEqual(
      hashed.map((e) => e.record),
      want,
    );
    assert.deepEqual(
      snappy.map((e) => e.record),
      want,
    );
    assert.ok(snappy.every((e) => e.headers['flume.avro.schema.hash'] === res.hash));
    assert.deepEqual(
      literal.map((e) => e.record),
      want,
    );
    assert.ok(
      hashed.every((e) => e.headers['flume.avro.schema.hash'] === res.hash),
      `hash ${hashed[0]?.headers['flume.avro.schema.hash']} vs ${res.hash}`,
    );
    const lit = JSON.parse(literal[0]!.headers['flume.avro.schema.literal']!) as { name: string; fields: unknown[] };
    assert.equal(lit.name, 'User');
    assert.equal(lit.fields.length, 3);
  } finally {
    await agent.stop();
    t.cleanup();
  }
});
