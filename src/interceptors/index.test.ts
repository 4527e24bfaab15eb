import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtinRegistry } from '../builtins.js';
import { formatDiagnostic } from '../config/diagnostics.js';
import { loadJob } from '../config/load.js';

function load(extra: string): { plan: ReturnType<typeof loadJob>['plan']; lines: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-ts-int-'));
  const file = path.join(dir, 'job.conf');
  fs.writeFileSync(
    file,
    `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
${extra}`,
  );
  const { plan, diagnostics } = loadJob([file], 'a1', builtinRegistry());
  fs.rmSync(dir, { recursive: true });
  return { plan, lines: diagnostics.map((d) => formatDiagnostic(d).replace(/^.*job\.conf:/, '')) };
}

test("every interceptor resolves by alias (any case) and by Flume's Builder class name", () => {
  const names: Record<string, string> = {
    timestamp: 'org.apache.flume.interceptor.TimestampInterceptor$Builder',
    host: 'org.apache.flume.interceptor.HostInterceptor$Builder',
    static: 'org.apache.flume.interceptor.StaticInterceptor$Builder',
    remove_header: 'org.apache.flume.interceptor.RemoveHeaderInterceptor$Builder',
    uuid: 'org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder',
    search_replace: 'org.apache.flume.interceptor.SearchAndReplaceInterceptor$Builder',
    regex_filter: 'org.apache.flume.interceptor.RegexFilteringInterceptor$Builder',
    regex_extractor: 'org.apache.flume.interceptor.RegexExtractorInterceptor$Builder',
  };
  const r = builtinRegistry();
  for (const [alias, cls] of Object.entries(names)) {
    const def = r.lookup('interceptor', alias);
    assert.ok(def, alias);
    assert.equal(r.lookup('interceptor', alias.toUpperCase()), def);
    assert.equal(r.lookup('interceptor', cls), def, cls);
  }
});

test('a job with a chain of interceptors plans; \\\\d in the file reaches the interceptor as \\d', () => {
  const { plan, lines } = load(`a1.sources.r1.interceptors = i1 i2 i3
a1.sources.r1.interceptors.i1.type = TIMESTAMP
a1.sources.r1.interceptors.i2.type = org.apache.flume.interceptor.RegexFilteringInterceptor$Builder
a1.sources.r1.interceptors.i2.regex = ^\\\\d+$
a1.sources.r1.interceptors.i3.type = search_replace
a1.sources.r1.interceptors.i3.searchPattern = (\\\\d)
a1.sources.r1.interceptors.i3.replaceString = <$1>
`);
  assert.deepEqual(lines, []);
  const s = plan!.sources[0]!;
  assert.deepEqual(
    s.interceptors.map((i) => `${i.name}:${i.def.type}`),
    ['i1:timestamp', 'i2:regex_filter', 'i3:search_replace'],
  );
  assert.equal(s.interceptors[1]!.options.regex, '^\\d+$');
});

test('a regex JavaScript cannot run is a config error naming the key and the value', () => {
  const { plan, lines } = load(`a1.sources.r1.interceptors = i1 i2 i3
a1.sources.r1.interceptors.i1.type = regex_filter
a1.sources.r1.interceptors.i1.regex = a*+
a1.sources.r1.interceptors.i2.type = regex_extractor
a1.sources.r1.interceptors.i2.regex = (
a1.sources.r1.interceptors.i2.serializers = s1
a1.sources.r1.interceptors.i2.serializers.s1.name = x
a1.sources.r1.interceptors.i3.type = remove_header
a1.sources.r1.interceptors.i3.matching = \\\\p{javaLowerCase}
`);
  assert.equal(plan, undefined);
  assert.ok(
    lines.some(
      (l) =>
        l.startsWith('11: error: a1.sources.r1.interceptors.i1.regex: expected a Java regular expression that JavaScript can run (possessive quantifiers') &&
        l.endsWith('got "a*+" [FTS_ERR_CONFIG_VALUE]'),
    ),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => /^13: error: a1\.sources\.r1\.interceptors\.i2\.regex: .*got "\("/.test(l)),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => /^17: error: a1\.sources\.r1\.interceptors\.i3\.matching: .*java\.lang\.Character.*got "\\p\{javaLowerCase\}"/.test(l)),
    lines.join('\n'),
  );
});

test('required keys, bad replacements and misspelt keys are reported', () => {
  const { lines } = load(`a1.sources.r1.interceptors = i1 i2 i3
a1.sources.r1.interceptors.i1.type = search_replace
a1.sources.r1.interceptors.i2.type = search_replace
a1.sources.r1.interceptors.i2.searchPattern = (a)
a1.sources.r1.interceptors.i2.replaceString = $2
a1.sources.r1.interceptors.i3.type = remove_header
a1.sources.r1.interceptors.i3.listSeparator = ;
`);
  assert.ok(
    lines.some((l) => l.includes('error: a1.sources.r1.interceptors.i1.searchPattern is required')),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => l.startsWith('13: error: a1.sources.r1.interceptors.i2.replaceString: no group 2')),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => l.startsWith('15: warning: a1.sources.r1.interceptors.i3.listSeparator: unknown key') && l.includes('fromListSeparator')),
    lines.join('\n'),
  );
});
