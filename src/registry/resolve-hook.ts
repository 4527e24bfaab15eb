/**
 * A module resolve hook that lets plugins import `flume-ts` and `flume-ts/plugin`
 * wherever they live (plugins.d, --plugins-path), and always get this running copy:
 * one registry, one set of classes, whatever the plugin's own node_modules holds.
 */
const ROOT = new URL('../../../', import.meta.url);
const TARGETS: Record<string, string> = {
  'flume-ts': new URL('dist/src/index.js', ROOT).href,
  'flume-ts/plugin': new URL('dist/src/plugin-api/index.js', ROOT).href,
};

interface ResolveResult {
  url: string;
  shortCircuit?: boolean;
  format?: string | null;
}

export async function resolve(specifier: string, context: unknown, next: (specifier: string, context: unknown) => Promise<ResolveResult>): Promise<ResolveResult> {
  const target = TARGETS[specifier];
  if (target) return { url: target, shortCircuit: true, format: 'module' };
  return next(specifier, context);
}
