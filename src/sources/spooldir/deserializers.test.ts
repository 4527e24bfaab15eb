import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AvroDeserializer, crc64Avro } from './avro.js';
import { LineDeserializer } from './line.js';
import type { Deserializer, Position } from './reader.js';

test("CRC-64-AVRO matches the Avro specification's test vectors, as 8 little-endian bytes (Java's SchemaNormalization.parsingFingerprint)", () => {
  // share/test/data/schema-tests.txt: "null" 7195948357588979594, "int" 8247732601305521295, "string" -8142146995180207161.
  for (const [schema, fp] of [
    ['"null"', 7195948357588979594n],
    ['"int"', 8247732601305521295n],
    ['"string"', -8142146995180207161n],
  ] as const) {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(fp);
    assert.equal(crc64Avro(Buffer.from(schema)), b.toString('hex'));
  }
});

async function drain(d: Deserializer, max: number, limit = Infinity): Promise<{ bodies: Buffer[]; end: Position }> {
  const bodies: Buffer[] = [];
  let end: Position = { offset: 0, skip: 0 };
  while (bodies.length < limit) {
    const r = await d.read(Math.min(max, limit - bodies.length));
    bodies.push(...r.events.map((e) => Buffer.from(e.body)));
    end = r.end;
    assert.equal(r.error, undefined);
    if (r.eof) break;
  }
  return { bodies, end };
}

test('AVRO: a read stopped inside a block resumes at the block with the delivered records skipped, not re-sent', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-avro-'));
  try {
    const file = path.join(dir, 'a.avro');
    const py = `
import sys, avro.schema, avro.datafile, avro.io
s = avro.schema.parse('{"type":"record","name":"R","fields":[{"name":"n","type":"int"}]}')
w = avro.datafile.DataFileWriter(open(sys.argv[1], "wb"), avro.io.DatumWriter(), s, codec="deflate")
for i in range(100):
    w.append({"n": i})
    if i % 30 == 29: w.sync()
w.close()`;
    const r = spawnSync('/usr/bin/python3', ['-c', py, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const size = fs.statSync(file).size;
    const fh = await fs.promises.open(file, 'r');
    const all = await drain(new AvroDeserializer(fh, { offset: 0, skip: 0 }, size, 'HASH'), 7);
    assert.equal(all.bodies.length, 100);
    const part = await drain(new AvroDeserializer(fh, { offset: 0, skip: 0 }, size, 'HASH'), 7, 45);
    assert.equal(part.end.skip, 15, 'inside the second block');
    const rest = await drain(new AvroDeserializer(fh, part.end, size, 'HASH'), 7);
    assert.deepEqual([...part.bodies, ...rest.bodies], all.bodies);
    await fh.close();
    // Cut in the middle of the third block: the first two blocks' records come out, then the error.
    const cut = path.join(dir, 'cut.avro');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    const ch = await fs.promises.open(cut, 'r');
    const des = new AvroDeserializer(ch, { offset: 0, skip: 0 }, fs.statSync(cut).size, 'HASH');
    const good: Buffer[] = [];
    let error: Error | undefined;
    for (let i = 0; i < 100 && !error; i++) {
      const r = await des.read(10);
      good.push(...r.events.map((e) => e.body));
      error = r.error;
      if (r.eof) break;
    }
    await ch.close();
    assert.match(String(error?.message), /the block at byte offset \d+ runs past the end of the file/);
    assert.ok(good.length >= 30 && good.length < 100, `${good.length} records before the cut`);
    assert.deepEqual(good, all.bodies.slice(0, good.length));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('LINE: reads cut anywhere (1 MiB chunks, lines across them, a long line without newline) resume exactly at the returned offsets', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-line-'));
  try {
    const file = path.join(dir, 'a.txt');
    const lines = Array.from({ length: 30000 }, (_, i) => `${i} ${'é'.repeat(i % 50)}${'x'.repeat(i % 97)}`);
    lines.push('z'.repeat(5000));
    fs.writeFileSync(file, lines.join('\n'));
    const size = fs.statSync(file).size;
    const fh = await fs.promises.open(file, 'r');
    const settings = { maxLineLength: 2048, input: 'utf-8', output: 'utf8' as const, policy: 'FAIL' as const, onCut: () => undefined };
    const want = [...lines.slice(0, -1), 'z'.repeat(2048), 'z'.repeat(2048), 'z'.repeat(904)];
    let pos: Position = { offset: 0, skip: 0 };
    const got: string[] = [];
    for (let step = 1; ; step = ((step * 7) % 1013) + 1) {
      const r = await new LineDeserializer(fh, pos.offset, size, settings).read(step);
      got.push(...r.events.map((e) => e.body.toString('utf8')));
      pos = r.end;
      if (r.eof) break;
    }
    assert.deepEqual(got, want);
    // One deserializer to the end: lines across its 1 MiB chunks.
    const one = await drain(new LineDeserializer(fh, 0, size, settings), 333);
    assert.deepEqual(
      one.bodies.map((b) => b.toString('utf8')),
      want,
    );
    await fh.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('LINE: maxLineLength 1 with characters of two UTF-16 units makes progress, one character per event', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-line-'));
  try {
    const file = path.join(dir, 'a.txt');
    fs.writeFileSync(file, '😀a😀\n');
    const fh = await fs.promises.open(file, 'r');
    const r = await new LineDeserializer(fh, 0, fs.statSync(file).size, { maxLineLength: 1, input: 'utf-8', output: 'utf8', policy: 'FAIL', onCut: () => undefined }).read(100);
    await fh.close();
    assert.deepEqual(
      r.events.map((e) => e.body.toString('utf8')),
      ['😀', 'a', '😀'],
    );
    assert.ok(r.eof);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
