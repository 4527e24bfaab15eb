import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileJavaFullMatch, compileJavaRegex, fullMatch, groupsOf, javaSplit, translateJavaRegex } from './java-regex.js';

const finds = (java: string, s: string): boolean => compileJavaRegex(java).test(s);

test('plain Java regexes behave the same in JavaScript', () => {
  assert.ok(finds('^\\d+$', '12345'));
  assert.ok(!finds('^\\d+$', '12a45'));
  assert.ok(finds('(?<year>\\d{4})-(\\d{2})', 'on 2024-05'));
  assert.ok(finds('a{2,3}?b', 'xaab'));
  assert.equal(compileJavaRegex('(?<w>\\w+) \\k<w>').exec('hey hey you')?.[0], 'hey hey');
});

test('leading inline flags become JavaScript flags', () => {
  assert.ok(finds('(?i)error', 'An ERROR'));
  assert.ok(finds('(?s)a.b', 'a\nb'));
  assert.ok(!finds('a.b', 'a\nb'));
  assert.ok(finds('(?m)^b', 'a\nb'));
  assert.equal(translateJavaRegex('(?iu)x').flags, 'iu');
});

test('Java $ also matches before a final line terminator, as \\Z; \\z only at the very end', () => {
  assert.ok(finds('abc$', 'abc\n'));
  assert.ok(finds('abc$', 'abc\r\n'));
  assert.ok(!finds('abc$', 'abc\nx'));
  assert.ok(finds('abc\\Z', 'abc\n'));
  assert.ok(!finds('abc\\z', 'abc\n'));
  assert.ok(finds('\\Aabc', 'abc'));
  assert.ok(!finds('(?m)\\Ab', 'a\nb'));
});

test('escaped punctuation, \\Q...\\E, stray ] and } are literal as in Java', () => {
  assert.ok(finds('a\\-b\\"c\\:d', 'a-b"c:d'));
  assert.ok(finds('\\Q1+1=2?\\E', 'is 1+1=2?'));
  assert.ok(!finds('\\Q1+1\\E', '11'));
  assert.ok(finds('a]b}', 'a]b}'));
  assert.ok(finds('[\\Q]-[\\E]+', '-[]'));
  assert.ok(finds('[a\\-z]', '-'));
  assert.ok(!finds('[a\\-z]', 'm'));
});

test('Java-only escapes are translated', () => {
  assert.ok(finds('a\\hb', 'a\tb'));
  assert.ok(finds('\\e\\a', '\x1B\x07'));
  assert.ok(finds('\\0101\\x{42}', 'AB'));
  assert.ok(finds('a\\Rb', 'a\r\nb'));
  assert.ok(finds('^\\v$', '\u2028'));
});

test('POSIX and Unicode property classes', () => {
  assert.ok(finds('^\\p{Alpha}+$', 'abcXYZ'));
  assert.ok(!finds('^\\p{Alpha}+$', 'abé'));
  assert.ok(finds('^[\\p{Digit}x]+$', '1x2'));
  assert.ok(finds('^\\P{Digit}$', 'a'));
  assert.ok(finds('^\\p{L}+$', 'héllo'));
  assert.ok(finds('^\\pL$', 'é'));
  assert.ok(finds('^\\p{IsLatin}+$', 'abc'));
  assert.ok(finds('^\\p{IsLu}$', 'Q'));
  assert.ok(finds('^\\p{Punct}+$', '!?.'));
});

test('what JavaScript cannot run is refused with the reason', () => {
  assert.throws(() => translateJavaRegex('a*+'), /possessive/);
  assert.throws(() => translateJavaRegex('a{2}+'), /possessive/);
  assert.throws(() => translateJavaRegex('(?>a)'), /atomic/);
  assert.throws(() => translateJavaRegex('a(?i)b'), /inline flags/);
  assert.throws(() => translateJavaRegex('(?x)a b'), /comments/);
  assert.throws(() => translateJavaRegex('\\p{javaLowerCase}'), /java\.lang\.Character/);
  assert.throws(() => translateJavaRegex('\\p{InGreek}'), /blocks/);
  assert.throws(() => translateJavaRegex('[a-z&&[^e]]'), /nested|intersection/);
  assert.throws(() => translateJavaRegex('\\G'), /not supported/);
  assert.throws(() => translateJavaRegex('('), /Unterminated group|unterminated/i);
  assert.throws(() => translateJavaRegex('[a'), /unclosed/);
});

test('full match, split and group counting follow Java', () => {
  const re = compileJavaFullMatch('x-.*|y');
  assert.ok(fullMatch(re, 'x-abc'));
  assert.ok(fullMatch(re, 'y'));
  assert.ok(!fullMatch(re, 'yy'));
  assert.ok(!fullMatch(re, 'ax-'));
  assert.deepEqual(javaSplit('a, b ,c,,', compileJavaRegex('\\s*,\\s*')), ['a', 'b', 'c']);
  assert.deepEqual(javaSplit(',a', compileJavaRegex(',')), ['', 'a']);
  assert.deepEqual(javaSplit('a;b,c', compileJavaRegex('(;|,)')), ['a', 'b', 'c']);
  assert.deepEqual(javaSplit('abc', compileJavaRegex('')), ['a', 'b', 'c']);
  assert.deepEqual(javaSplit('', compileJavaRegex(',')), ['']);
  assert.deepEqual(groupsOf(compileJavaRegex('(a)(?:b)(?<n>c)')), { count: 2, names: ['n'] });
});
