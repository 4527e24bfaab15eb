import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { builtins } from '../builtins.js';
import { docsPages } from './component-docs.js';
import { PACKAGE_ROOT } from '../cli/paths.js';

test('docs/components/ is what the declarations generate (run `npm run docs` after changing a component)', () => {
  const dir = path.join(PACKAGE_ROOT, 'docs', 'components');
  const pages = docsPages(builtins);
  const onDisk = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  assert.deepEqual(onDisk, [...pages.keys()].sort(), 'the set of pages differs: run npm run docs');
  for (const [file, text] of pages) assert.equal(fs.readFileSync(path.join(dir, file), 'utf8'), text, `docs/components/${file} is stale: run npm run docs`);
});
