import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MultiportParser, SyslogFramer, SyslogParser, parseKeepFields, time5424, type MessageSink } from './parser.js';

const NOW = Date.UTC(2024, 5, 15, 12, 0, 0);
const parser = (keep = 'none'): SyslogParser => new SyslogParser({ keep: parseKeepFields(keep), now: () => NOW });

function parse(msg: string, keep = 'none', p = parser(keep)): { headers: Record<string, string>; body: string; invalid: boolean } {
  const buf = Buffer.from(msg, 'latin1');
  const e = p.parse(buf, 0, buf.length, false);
  return { headers: { ...e.headers }, body: e.body.toString('latin1'), invalid: p.invalid };
}

test('RFC 5424: Facility, Severity, priority, version, timestamp (ms, zone honoured), host; body from APP-NAME on', () => {
  const r = parse('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event');
  assert.deepEqual(r.headers, { Facility: '20', Severity: '5', priority: '165', version: '1', timestamp: String(Date.UTC(2003, 9, 11, 22, 14, 15, 3)), host: 'mymachine.example.com' });
  assert.equal(r.body, 'evntslog - ID47 [exampleSDID@32473 iut="3"] An application event');
  assert.equal(parse('<13>1 2003-08-24T05:14:15.000003-07:00 h app - - - x').headers.timestamp, String(Date.UTC(2003, 7, 24, 12, 14, 15, 0)));
  assert.equal(parse('<13>1 2003-08-24T05:14:15+02:00 h app - - - x').headers.timestamp, String(Date.UTC(2003, 7, 24, 3, 14, 15)));
  // "-" timestamp and host: no headers for them.
  assert.deepEqual(parse('<13>1 - - app - - - hello').headers, { Facility: '1', Severity: '5', priority: '13', version: '1' });
});

test('RFC 3164: the year is guessed as Flume does, local time', () => {
  const r = parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed");
  assert.equal(r.headers.host, 'mymachine');
  assert.equal(r.headers.Facility, '4');
  assert.equal(r.headers.Severity, '2');
  assert.equal(r.body, "su: 'su root' failed");
  // October is more than a month after June 2024: last year.
  assert.equal(r.headers.timestamp, String(new Date(2023, 9, 11, 22, 14, 15).getTime()));
  assert.equal(parse('<34>Jun  5 01:02:03 h x').headers.timestamp, String(new Date(2024, 5, 5, 1, 2, 3).getTime()));
});

test('loggen lines (5424 without version or zone) parse; a message that matches neither form keeps its raw bytes', () => {
  const r = parse('<38>2024-06-15T11:59:00 localhost prg00000[1234]: seq: 0000000000, thread: 0000');
  assert.equal(r.headers.host, 'localhost');
  assert.equal(r.body, 'prg00000[1234]: seq: 0000000000, thread: 0000');
  assert.equal(r.headers.timestamp, String(new Date(2024, 5, 15, 11, 59, 0).getTime()));
  const u = parse('<13>just text');
  assert.deepEqual(u.headers, { Facility: '1', Severity: '5' });
  assert.equal(u.body, '<13>just text');
  assert.equal(u.invalid, false);
});

test('invalid priority: Invalid status, Facility and Severity 0, the whole message as body', () => {
  for (const m of ['no priority', '<>x', '<1234>x', '<1a>x', '<13']) {
    const r = parse(m);
    assert.equal(r.invalid, true, m);
    assert.deepEqual(r.headers, { Facility: '0', Severity: '0', 'flume.syslog.status': 'Invalid' }, m);
    assert.equal(r.body, m);
  }
});

test("keepFields: all keeps the raw message; a field list is put in front in Flume's order", () => {
  const m = '<165>1 2003-10-11T22:14:15.003Z host1 app - - - body';
  assert.equal(parse(m, 'all').body, m);
  assert.equal(parse(m, 'true').body, m);
  assert.equal(parse(m, 'hostname priority').body, '<165>host1 app - - - body');
  assert.equal(parse(m, 'priority version timestamp hostname').body, '<165>1 2003-10-11T22:14:15.003Z host1 app - - - body');
});

test('the host and timestamp caches do not leak one message into the next', () => {
  const p = parser();
  assert.equal(parse('<13>1 2024-01-01T00:00:00Z aaa x', 'none', p).headers.host, 'aaa');
  assert.equal(parse('<13>1 2024-01-01T00:00:01Z bbb x', 'none', p).headers.host, 'bbb');
  assert.equal(parse('<13>1 2024-01-01T00:00:01Z bbb x', 'none', p).headers.timestamp, String(Date.UTC(2024, 0, 1, 0, 0, 1)));
});

test('fractions are fractions of a second', () => {
  const b = Buffer.from('2024-01-01T00:00:00.5Z');
  assert.equal(time5424(b, 0, b.length), Date.UTC(2024, 0, 1, 0, 0, 0, 500));
});

test('multiport rules: Priority/Version headers, timestamp always, strict', () => {
  const p = new MultiportParser({ keep: parseKeepFields('none'), now: () => NOW }, (b, s, e) => b.toString('latin1', s, e));
  const one = (m: string) => {
    const b = Buffer.from(m, 'latin1');
    const e = p.parse(b, 0, b.length, false);
    return { headers: { ...e.headers }, body: e.body.toString('latin1'), invalid: p.invalid };
  };
  const r = one('<165>1 2003-10-11T22:14:15.003Z mymachine app - - - hi');
  assert.deepEqual(r.headers, { Priority: '165', Facility: '20', Severity: '5', Version: '1', timestamp: String(Date.UTC(2003, 9, 11, 22, 14, 15, 3)), host: 'mymachine' });
  assert.equal(r.body, 'app - - - hi');
  assert.equal(one('<13>- h x').headers.timestamp, String(NOW));
  assert.equal(one('<34>Oct 11 22:14:15 mymachine su: x').headers.timestamp, String(Date.UTC(2023, 9, 11, 22, 14, 15)));
  for (const bad of ['x', '<13>', '<13>nohost', '<1234567>x']) assert.deepEqual(one(bad), { headers: { 'flume.syslog.status': 'Invalid' }, body: bad, invalid: true }, bad);
});

class Collect implements MessageSink {
  out: string[] = [];
  message(buf: Buffer, start: number, end: number, incomplete: boolean): void {
    this.out.push((incomplete ? '!' : '') + buf.toString('latin1', start, end));
  }
}

test('framing: newlines and octet counts, split anywhere across reads; eventSize cuts', () => {
  const stream = Buffer.from('<13>a\n\n10 <13>b\nc de<13>last\n11 <13>xxxxxxx<13>tail');
  for (let cut = 0; cut <= stream.length; cut++) {
    const f = new SyslogFramer(2500, true);
    const c = new Collect();
    f.push(stream.subarray(0, cut), c);
    f.push(stream.subarray(cut), c);
    f.end(c);
    assert.deepEqual(c.out, ['<13>a', '<13>b\nc de', '<13>last', '<13>xxxxxxx', '<13>tail'], `cut at ${cut}`);
  }
  const f = new SyslogFramer(10, true);
  const c = new Collect();
  f.push(Buffer.from('<13>0123456789abc\n<13>ok\n'), c);
  assert.deepEqual(c.out, ['!<13>012345', '6789abc', '<13>ok']);
});

test('a syslog event makes its headers when read; they can be replaced and survive a copy of the body', () => {
  const p = parser();
  const buf = Buffer.from('<13>1 2024-01-01T00:00:00Z h1 app x');
  const e = p.parse(buf, 0, buf.length, false, ['ip', '10.0.0.1']);
  assert.equal(e.body.toString(), 'app x');
  e.headers.extra = 'yes';
  assert.equal(e.headers.extra, 'yes');
  assert.equal(e.headers.ip, '10.0.0.1');
  const copy = (e as unknown as { copyTo(b: Buffer, at: number): { headers: Record<string, string>; body: Buffer } }).copyTo(Buffer.alloc(10), 2);
  assert.equal(copy.body.toString(), 'app x');
  assert.deepEqual(copy.headers, { Facility: '1', Severity: '5', priority: '13', version: '1', timestamp: String(Date.UTC(2024, 0, 1)), host: 'h1', ip: '10.0.0.1', extra: 'yes' });
  e.headers = { only: 'this' };
  assert.deepEqual(e.headers, { only: 'this' });
});

test('framing: a stream read in pieces of any size gives the same messages, cuts included', () => {
  const stream = Buffer.from('<13>a\n\n10 <13>b\nc de<13>last\n11 <13>xxxxxxx<13>0123456789abcdefghij\n25 <13>ABCDEFGHIJKLMNOPQRSTU\n<13>tail');
  const whole = (size: number): string[] => {
    const f = new SyslogFramer(12, true);
    const c = new Collect();
    for (let i = 0; i < stream.length; i += size) f.push(stream.subarray(i, i + size), c);
    f.end(c);
    return c.out;
  };
  const expected = whole(stream.length);
  assert.deepEqual(expected, ['<13>a', '<13>b\nc de', '<13>last', '<13>xxxxxxx', '!<13>01234567', '89abcdefghij', '!<13>ABCDEFGH', '!IJKLMNOPQRST', 'U', '<13>tail']);
  for (let size = 1; size < stream.length; size++) assert.deepEqual(whole(size), expected, `pieces of ${size}`);
});
