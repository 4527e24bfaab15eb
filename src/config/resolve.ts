import { spawnSync } from 'node:child_process';
import { ErrorCodes } from '../core/errors.js';
import type { Diagnostic } from './diagnostics.js';
import type { Property } from './properties.js';

/** Bounds of an `external` filter's command: it must answer quickly and briefly. */
const EXTERNAL_TIMEOUT_MS = 10_000;
const EXTERNAL_MAX_OUTPUT = 64 * 1024;

/** Flume's config filter types; hadoop's credential store needs a JVM and is refused. */
const FILTER_TYPES: Record<string, 'env' | 'external' | 'hadoop'> = {
  env: 'env',
  'org.apache.flume.configfilter.environmentvariableconfigfilter': 'env',
  external: 'external',
  'org.apache.flume.configfilter.externalprocessconfigfilter': 'external',
  hadoop: 'hadoop',
  'org.apache.flume.configfilter.hadoopcredentialstoreconfigfilter': 'hadoop',
};

type Filter = (key: string) => { value?: string; error?: string };

/**
 * Fills in the values of an agent's properties that refer to the environment or to a
 * config filter, so passwords stay out of job files:
 *
 * - `${NAME}`: the environment variable NAME, as Flume's EnvVarResolverProperties
 *   (opt-in there, always on here). `$${NAME}` keeps the text `${NAME}`.
 * - `${f1['key']}` (or `${f1["key"]}`, `${f1[key]}`): what config filter f1 of
 *   `<agent>.configfilters = f1` gives for key: `env` (an environment variable) or
 *   `external` (the first line a command prints when given the key).
 *
 * A reference that resolves to nothing is an error naming the file, line and key
 * (Flume leaves the text, or puts an empty string). Every property that received a
 * value this way is marked secret: it is never printed.
 */
export function resolveValues(props: readonly Property[], agent: string, env: NodeJS.ProcessEnv = process.env): { props: Property[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const filters = buildFilters(props, agent, diagnostics);
  const fprefix = `${agent}.configfilters`;
  const out: Property[] = [];
  for (const p of props) {
    const mine = p.key.startsWith(agent + '.') || p.key.startsWith('flume.');
    if (!mine || p.key === fprefix || p.key.startsWith(fprefix + '.') || !p.value.includes('${')) {
      out.push(p);
      continue;
    }
    let secret = false;
    const fail = (message: string): void => {
      diagnostics.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, file: p.file, line: p.line, key: p.key, message: `${p.key}: ${message}` });
    };
    let value = p.value.replace(/\$\{([A-Za-z0-9_.-]+)\[(|'|")([-_a-zA-Z0-9]+)\2\]\}/g, (m, name: string, _q: string, key: string) => {
      const f = filters.get(name);
      if (!f) {
        fail(`refers to config filter "${name}", which ${fprefix} does not list`);
        return m;
      }
      const r = f(key);
      if (r.value === undefined) {
        fail(`config filter ${name} has no value for "${key}"${r.error ? ` (${r.error})` : ''}`);
        return m;
      }
      secret = true;
      return r.value;
    });
    value = value.replace(/(\$?)\$\{(\w+)\}/g, (m, escaped: string, name: string) => {
      if (escaped) return m.slice(1);
      const v = env[name];
      if (v === undefined) {
        fail(`environment variable ${name} is not set (write $\${${name}} for the text \${${name}})`);
        return m;
      }
      secret = true;
      return v;
    });
    out.push(secret ? { ...p, value, secret: true } : value === p.value ? p : { ...p, value });
  }
  return { props: out, diagnostics };
}

function buildFilters(props: readonly Property[], agent: string, diagnostics: Diagnostic[]): Map<string, Filter> {
  const filters = new Map<string, Filter>();
  const listKey = `${agent}.configfilters`;
  const list = props.find((p) => p.key === listKey);
  if (!list) return filters;
  const byKey = new Map(props.map((p) => [p.key, p]));
  for (const name of list.value.split(/\s+/).filter(Boolean)) {
    const typeProp = byKey.get(`${listKey}.${name}.type`);
    const err = (p: Property, message: string): void => {
      diagnostics.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, file: p.file, line: p.line, key: p.key, message });
    };
    if (!typeProp) {
      err(list, `${listKey}.${name}.type is missing: config filter "${name}" needs a type (env or external)`);
      continue;
    }
    const type = FILTER_TYPES[typeProp.value.trim().toLowerCase()];
    if (type === 'env') {
      filters.set(name, (key) => (process.env[key] !== undefined ? { value: process.env[key] } : { error: `environment variable ${key} is not set` }));
    } else if (type === 'external') {
      const cmdProp = byKey.get(`${listKey}.${name}.command`);
      if (!cmdProp) {
        err(typeProp, `${listKey}.${name}.command is required for an external config filter`);
        continue;
      }
      const charset = byKey.get(`${listKey}.${name}.charset`)?.value.trim() ?? 'UTF-8';
      if (
        !Buffer.isEncoding(
          charset
            .toLowerCase()
            .replace(/^iso-8859-1$/, 'latin1')
            .replace(/^us-ascii$/, 'ascii'),
        )
      ) {
        err(byKey.get(`${listKey}.${name}.charset`)!, `${listKey}.${name}.charset: unsupported charset "${charset}"`);
        continue;
      }
      const encoding = charset
        .toLowerCase()
        .replace(/^iso-8859-1$/, 'latin1')
        .replace(/^us-ascii$/, 'ascii') as BufferEncoding;
      const [cmd, ...args] = cmdProp.value.trim().split(/\s+/);
      const cache = new Map<string, { value?: string; error?: string }>();
      filters.set(name, (key) => {
        const hit = cache.get(key);
        if (hit) return hit;
        const r = spawnSync(cmd!, [...args, key], { timeout: EXTERNAL_TIMEOUT_MS, maxBuffer: EXTERNAL_MAX_OUTPUT, stdio: ['ignore', 'pipe', 'pipe'] });
        let res: { value?: string; error?: string };
        if (r.error) res = { error: `${cmdProp.value} failed: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}` };
        else if (r.status !== 0) res = { error: `${cmdProp.value} exited with ${r.status ?? r.signal}: ${r.stderr.toString().trim().split('\n')[0] ?? ''}` };
        else {
          const first = r.stdout.toString(encoding).split(/\r?\n/)[0];
          res = first ? { value: first } : { error: `${cmdProp.value} printed nothing` };
        }
        cache.set(key, res);
        return res;
      });
    } else if (type === 'hadoop') {
      err(typeProp, `${typeProp.key}: the hadoop credential store filter needs a JVM and is not supported by flume-ts; use env or external (a command that prints the secret)`);
    } else {
      err(typeProp, `${typeProp.key}: unknown config filter type "${typeProp.value}" (env, external)`);
    }
  }
  return filters;
}
