import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FlumeEvent } from '../../core/event.js';
import { CallTooLargeError } from '../call-limits.js';
import { decodeCall, encodeCall } from './protocol.js';

const ev = (body: string, headers: Record<string, string> = {}): FlumeEvent => ({ headers, body: Buffer.from(body) });

for (const protocol of ['compact', 'binary'] as const) {
  test(`${protocol}: a call beyond its limits is refused before its events are built, with its name and seqid`, () => {
    const limits = { maxEvents: 5, maxBytes: 100_000 };
    const body = (frame: Buffer): Buffer => frame.subarray(4);
    const within = decodeCall(protocol, body(encodeCall(protocol, 'appendBatch', 3, [ev('a', { h: 'v' }), ev('')])), limits);
    assert.equal(within.refused, undefined);
    assert.deepEqual(
      within.events!.map((e) => [e.headers, e.body.toString()]),
      [
        [{ h: 'v' }, 'a'],
        [{}, ''],
      ],
    );

    const many = decodeCall(
      protocol,
      body(
        encodeCall(
          protocol,
          'appendBatch',
          4,
          Array.from({ length: 6 }, () => ev('x')),
        ),
      ),
      limits,
    );
    assert.ok(many.refused instanceof CallTooLargeError);
    assert.equal(many.refused.limit, 'events');
    assert.equal(many.events, undefined);
    assert.deepEqual([many.name, many.seqid], ['appendBatch', 4]);

    // 2,000 headers: about 160 KB once decoded.
    const headers = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`h${i}`, '']));
    const wide = decodeCall(protocol, body(encodeCall(protocol, 'append', 5, [ev('x', headers)])), limits);
    assert.equal(wide.refused?.limit, 'bytes');
    assert.deepEqual([wide.name, wide.seqid], ['append', 5]);
  });
}
