#!/usr/bin/env node
// After `npm install` in a clone: build dist/ when the sources are here and it is missing.
// An installed package ships dist/ already, so this does nothing there.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (!fs.existsSync(path.join(root, 'src', 'cli', 'main.ts')) || fs.existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'))) process.exit(0);
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!fs.existsSync(tsc)) {
  console.error('flume-ts: dist/ is missing and TypeScript is not installed: run `npm install` (with dev dependencies), then `npm run build`');
  process.exit(0);
}
console.log('flume-ts: building dist/ (tsc)');
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
