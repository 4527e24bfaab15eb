import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AvroErrorCodes } from './errors.js';
import { ipFilterAccepts, javaHostAddress, parseIpFilterRules } from './ip-filter.js';

test('rules parse as Flume does: trimmed, pattern after the second colon, keywords case-sensitive', () => {
  const rules = parseIpFilterRules(' allow:ip:10.0.* , deny:name:*.example.com,deny:ip:fe80:0:*');
  assert.deepEqual(
    rules.map((r) => [r.allow, r.kind, r.pattern]),
    [
      [true, 'ip', '10.0.*'],
      [false, 'name', '*.example.com'],
      [false, 'ip', 'fe80:0:*'],
    ],
  );
  for (const bad of ['Allow:ip:*', 'allow:IP:*', 'allow:host:*', 'allow', 'allow:ip', '', 'allow:ip:(']) {
    assert.throws(() => parseIpFilterRules(bad), { code: AvroErrorCodes.IP_FILTER_RULE }, bad);
  }
});

test('an ip pattern that can never match (compressed IPv6, upper case, leading zeros) is refused, with the form that works', async () => {
  assert.throws(
    () => parseIpFilterRules('deny:ip:::1'),
    (e: Error) => /never matches; write "0:0:0:0:0:0:0:1"/.test(e.message),
    'compressed',
  );
  assert.throws(() => parseIpFilterRules('allow:ip:127.*,deny:ip:FE80:0:0:0:0:0:0:1'), /lower case.*write "fe80:0:0:0:0:0:0:1"/, 'upper case');
  assert.throws(() => parseIpFilterRules('deny:ip:fe80:0000:*'), /without leading zeros/, 'leading zeros');
  // The form it suggests does match.
  assert.equal(await ipFilterAccepts(parseIpFilterRules('deny:ip:0:0:0:0:0:0:0:1'), '::1'), false);
});

test('patterns: * any run, ? one character, . literal, whole string', async () => {
  const rules = parseIpFilterRules('deny:ip:10.0.0.?,allow:ip:192.168.*');
  assert.equal(await ipFilterAccepts(rules, '10.0.0.5'), false);
  assert.equal(await ipFilterAccepts(rules, '10.0.0.55'), true); // ? is one character; no rule matches
  assert.equal(await ipFilterAccepts(rules, '10x0.0.5'), true); // . is literal
  assert.equal(await ipFilterAccepts(rules, '192.168.1.1'), true);
});

test('the first matching rule decides; no match accepts', async () => {
  const onlyLocal = parseIpFilterRules('allow:name:localhost,deny:ip:*');
  assert.equal(await ipFilterAccepts(onlyLocal, '127.0.0.1'), true);
  assert.equal(await ipFilterAccepts(onlyLocal, '::ffff:127.0.0.1'), true);
  assert.equal(await ipFilterAccepts(onlyLocal, '::1'), true);
  assert.equal(await ipFilterAccepts(onlyLocal, '203.0.113.9'), false);
  const allButLocal = parseIpFilterRules('deny:name:localhost,allow:ip:*');
  assert.equal(await ipFilterAccepts(allButLocal, '127.0.0.1'), false);
  assert.equal(await ipFilterAccepts(allButLocal, '203.0.113.9'), true);
  assert.equal(await ipFilterAccepts(parseIpFilterRules('deny:ip:1.2.3.4'), '5.6.7.8'), true);
});

test('addresses are matched in Java getHostAddress() form', async () => {
  assert.equal(javaHostAddress('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(javaHostAddress('::1'), '0:0:0:0:0:0:0:1');
  assert.equal(javaHostAddress('2001:db8::ff00:42:8329'), '2001:db8:0:0:0:ff00:42:8329');
  assert.equal(javaHostAddress('fe80::1%eth0'), 'fe80:0:0:0:0:0:0:1%eth0');
  assert.equal(javaHostAddress('10.0.0.1'), '10.0.0.1');
  assert.equal(await ipFilterAccepts(parseIpFilterRules('deny:ip:0:0:0:0:0:0:0:1'), '::1'), false);
});
