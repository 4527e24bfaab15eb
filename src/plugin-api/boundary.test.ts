import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Runs from dist/src/plugin-api; the sources are under the repository's src/.
const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src');
const KINDS = ['sources', 'channels', 'sinks', 'selectors', 'interceptors', 'processors', 'serializers'];

test('built-in components use only the plugin API, as plugins do (never src/core directly)', () => {
  const offenders: string[] = [];
  for (const kind of KINDS) {
    for (const f of fs.readdirSync(path.join(SRC, kind))) {
      if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
      const text = fs.readFileSync(path.join(SRC, kind, f), 'utf8');
      for (const m of text.matchAll(/from '(\.\.\/core\/[^']+)'/g)) offenders.push(`src/${kind}/${f} imports ${m[1]}`);
    }
  }
  assert.deepEqual(offenders, []);
});
