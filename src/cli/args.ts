/**
 * Flume's launcher passes `-D<key>=<value>` to the JVM as system properties and
 * `-X...`/`-agentlib...`/`-javaagent...` to the JVM itself. We take the -D flags as
 * our settings and accept the JVM flags so old scripts keep working.
 */
export interface SplitArgs {
  rest: string[];
  sysProps: Record<string, string>;
  jvmFlags: string[];
}

export function splitJvmArgs(argv: readonly string[]): SplitArgs {
  const rest: string[] = [];
  const sysProps: Record<string, string> = {};
  const jvmFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('-D') && a.length > 2) {
      const body = a.slice(2);
      const eq = body.indexOf('=');
      if (eq < 0) sysProps[body] = '';
      else sysProps[body.slice(0, eq)] = body.slice(eq + 1).replace(/^=+/, '');
    } else if (a === '-D' && i + 1 < argv.length) {
      const body = argv[++i]!;
      const eq = body.indexOf('=');
      sysProps[eq < 0 ? body : body.slice(0, eq)] = eq < 0 ? '' : body.slice(eq + 1);
    } else if (/^-(X|agentlib|agentpath|javaagent)/.test(a)) {
      jvmFlags.push(a);
    } else {
      rest.push(a);
    }
  }
  return { rest, sysProps, jvmFlags };
}
