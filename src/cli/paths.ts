import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json is); this file is compiled to dist/src/cli. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
