// `npm run docs`: writes docs/components/ from the built-in components' declarations.
import fs from 'node:fs';
import path from 'node:path';
import { builtins } from '../builtins.js';
import { docsPages } from './component-docs.js';
import { PACKAGE_ROOT } from '../cli/paths.js';

const dir = path.join(PACKAGE_ROOT, 'docs', 'components');
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });
const pages = docsPages(builtins);
for (const [file, text] of pages) fs.writeFileSync(path.join(dir, file), text);
process.stdout.write(`docs/components: ${pages.size} pages\n`);
