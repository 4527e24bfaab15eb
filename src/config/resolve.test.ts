import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveValues } from './resolve.js';
import type { Property } from './properties.js';

const props = (lines: Record<string, string>): Property[] => Object.entries(lines).map(([key, value], i) => ({ key, value, file: 'job.conf', line: i + 1 }));

test('${VAR} takes the environment; $${VAR} keeps the text; an unset variable is an error at its line', () => {
  const r = resolveValues(
    props({
      'a1.sources.r1.port': '${PORT}',
      'a1.sources.r1.bind': 'host-${ZONE}.local',
      'a1.sinks.k1.path': '/data/$${KEEP}/x',
      'a1.sinks.k1.other': '${NOPE}',
      'a2.sinks.k1.other': '${ALSO_NOPE}',
    }),
    'a1',
    { PORT: '4545', ZONE: 'eu' },
  );
  const v = Object.fromEntries(r.props.map((p) => [p.key, p]));
  assert.equal(v['a1.sources.r1.port']!.value, '4545');
  assert.equal(v['a1.sources.r1.port']!.secret, true);
  assert.equal(v['a1.sources.r1.bind']!.value, 'host-eu.local');
  assert.equal(v['a1.sinks.k1.path']!.value, '/data/${KEEP}/x');
  assert.equal(v['a1.sinks.k1.path']!.secret, undefined);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.line, d.key, d.message]),
    [[4, 'a1.sinks.k1.other', 'a1.sinks.k1.other: environment variable NOPE is not set (write $${NOPE} for the text ${NOPE})']],
  );
});

test('config filters: env and external (first line of the command), every quoting; hadoop refused; unknown filter named', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-filter-'));
  const script = path.join(dir, 'secret.sh');
  fs.writeFileSync(script, '#!/bin/sh\nif [ "$1" = "db_password" ]; then echo "s3cr3t-value"; echo second-line; exit 0; fi\necho "no such key $1" >&2\nexit 3\n', { mode: 0o755 });
  try {
    process.env.FLUME_TEST_FILTER_VAR = 'from-env';
    const r = resolveValues(
      props({
        'a1.configfilters': 'f1 f2 f3',
        'a1.configfilters.f1.type': 'env',
        'a1.configfilters.f2.type': 'org.apache.flume.configfilter.ExternalProcessConfigFilter',
        'a1.configfilters.f2.command': script,
        'a1.configfilters.f3.type': 'hadoop',
        'a1.sinks.k1.a': "${f1['FLUME_TEST_FILTER_VAR']}",
        'a1.sinks.k1.b': 'pw=${f2["db_password"]};',
        'a1.sinks.k1.c': '${f2[db_password]}',
        'a1.sinks.k1.d': '${f2[missing]}',
        'a1.sinks.k1.e': '${f9[x]}',
      }),
      'a1',
      {},
    );
    const v = Object.fromEntries(r.props.map((p) => [p.key, p.value]));
    assert.equal(v['a1.sinks.k1.a'], 'from-env');
    assert.equal(v['a1.sinks.k1.b'], 'pw=s3cr3t-value;');
    assert.equal(v['a1.sinks.k1.c'], 's3cr3t-value');
    const msgs = r.diagnostics.map((d) => d.message);
    assert.ok(
      msgs.some((m) => /a1\.configfilters\.f3\.type: the hadoop credential store filter .* not supported/.test(m)),
      msgs.join('\n'),
    );
    assert.ok(
      msgs.some((m) => /a1\.sinks\.k1\.d: config filter f2 has no value for "missing" \(.* exited with 3: no such key missing\)/.test(m)),
      msgs.join('\n'),
    );
    assert.ok(
      msgs.some((m) => /a1\.sinks\.k1\.e: refers to config filter "f9", which a1\.configfilters does not list/.test(m)),
      msgs.join('\n'),
    );
    assert.ok(!msgs.join('\n').includes('s3cr3t'));
  } finally {
    delete process.env.FLUME_TEST_FILTER_VAR;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
