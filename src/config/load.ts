import fs from 'node:fs';
import { ErrorCodes } from '../core/errors.js';
import type { Registry } from '../registry/registry.js';
import type { Diagnostic } from './diagnostics.js';
import { buildAgentConfig } from './model.js';
import { planAgent, type AgentPlan } from './plan.js';
import { parseProperties, type Property } from './properties.js';
import { resolveValues } from './resolve.js';

/**
 * Reads the job file(s), picks the named agent and resolves it against the registry.
 * Returns every problem found; `plan` is set only when none of them is an error.
 */
export function loadJob(files: readonly string[], agent: string, registry: Registry): { plan?: AgentPlan; diagnostics: Diagnostic[]; settings?: Record<string, string> } {
  const diagnostics: Diagnostic[] = [];
  const merged = new Map<string, Property>();
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      diagnostics.push({
        severity: 'error', code: ErrorCodes.CONFIG_FILE, file,
        message: code === 'ENOENT' ? `configuration file ${file} does not exist` : `cannot read configuration file ${file}: ${(err as Error).message}`,
      });
      continue;
    }
    const parsed = parseProperties(text, file);
    diagnostics.push(...parsed.diagnostics);
    // Later files override earlier ones, as Flume 1.10+ merges several -f files.
    for (const p of parsed.props) merged.set(p.key, p);
  }
  if (diagnostics.some((d) => d.code === ErrorCodes.CONFIG_FILE)) return { diagnostics };

  const resolved = resolveValues([...merged.values()], agent);
  diagnostics.push(...resolved.diagnostics);
  const { config, diagnostics: modelDiags } = buildAgentConfig(resolved.props, agent);
  diagnostics.push(...modelDiags);
  if (!config) return { diagnostics };
  const { plan, diagnostics: planDiags } = planAgent(config, registry);
  diagnostics.push(...planDiags);
  // Process-wide `flume.*` settings (monitoring) may be written in the job file too.
  const settings: Record<string, string> = {};
  for (const p of resolved.props) if (p.key.startsWith('flume.')) settings[p.key] = p.value;
  return diagnostics.some((d) => d.severity === 'error') ? { diagnostics } : { plan, diagnostics, settings };
}
