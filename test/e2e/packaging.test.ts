// What `npm pack` ships: what a user needs and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../support/agent.js';

test("npm pack ships no tests, source maps whose sources are in the package, a LICENSE, the seed jobs' examples, and no prepare script", () => {
  // --ignore-scripts: the list is what matters here, not a rebuild (dist is built by the test run).
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = new Set((JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path));
  assert.deepEqual(
    [...files].filter((f) => /\.test\.|^test\/|^dist\/test\/|^dist\/bench\/|node_modules/.test(f)),
    [],
  );
  for (const f of [
    'LICENSE',
    'README.md',
    'package.json',
    'bin/flume-ng',
    'dist/src/index.js',
    'dist/src/plugin-api/index.js',
    'dist/src/plugin-api/index.d.ts',
    'examples/plugins/atguigu-flume/package.json',
    'jobs/seeds/mysource.conf',
    'docs/plugins.md',
  ]) {
    assert.ok(files.has(f), `${f} is shipped`);
  }
  assert.match(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004/);
  let maps = 0;
  for (const f of files) {
    if (!f.endsWith('.map')) continue;
    maps++;
    const map = JSON.parse(fs.readFileSync(path.join(ROOT, f), 'utf8')) as { sources: string[] };
    for (const s of map.sources) {
      const src = path.posix.normalize(path.posix.join(path.posix.dirname(f), s));
      assert.ok(files.has(src), `${f} points at ${src}, which is shipped`);
    }
  }
  assert.ok(maps > 0);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; engines: { node: string } };
  assert.equal(pkg.scripts.prepare, undefined, 'no prepare script (npm warns on install)');
  assert.ok(pkg.scripts.prepack, 'built in prepack');
  for (const s of ['preinstall', 'install', 'postinstall']) assert.equal(pkg.scripts[s], undefined, `no ${s} script (npm warns about install scripts)`);
  // thrift requires the ESM-only uuid: require(esm) is on by default from Node 20.19 (and 22.12).
  assert.equal(pkg.engines.node, '^20.19.0 || >=22.12.0');
});
