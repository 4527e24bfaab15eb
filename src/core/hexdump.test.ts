import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dumpEvent } from './hexdump.js';
import { createEvent } from './event.js';

test('a short body is dumped as Flume prints it', () => {
  assert.equal(dumpEvent(createEvent('aa\r'), 16), '{ headers:{} body: 61 61 0D                                        aa. }');
  assert.equal(dumpEvent(createEvent('Hello world!\r', { k1: 'v1', k2: 'v2' }), 16), '{ headers:{k1=v1, k2=v2} body: 48 65 6C 6C 6F 20 77 6F 72 6C 64 21 0D          Hello world!. }');
});

test('only maxBytes bytes are shown; further lines keep their offset', () => {
  const body = 'abcdefghijklmnopqrstuvwxyz';
  assert.equal(dumpEvent(createEvent(body), 16), '{ headers:{} body: 61 62 63 64 65 66 67 68 69 6A 6B 6C 6D 6E 6F 70 abcdefghijklmnop }');
  assert.equal(
    dumpEvent(createEvent(body), 20),
    '{ headers:{} body: 61 62 63 64 65 66 67 68 69 6A 6B 6C 6D 6E 6F 70 abcdefghijklmnop\n00000010 71 72 73 74                                     qrst }',
  );
});

test('an empty body prints nothing after body:', () => {
  assert.equal(dumpEvent(createEvent(''), 16), '{ headers:{} body: }');
});

test('bytes outside printable ASCII show as dots', () => {
  assert.equal(dumpEvent(createEvent(Buffer.from([0x00, 0x7f, 0xe4, 0x41])), 16), '{ headers:{} body: 00 7F E4 41                                     ...A }');
});
