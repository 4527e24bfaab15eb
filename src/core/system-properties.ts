/**
 * Flume's `-D<key>=<value>` flags are Java system properties, and some components read
 * them (javax.net.ssl.* for TLS stores, flume.ssl.* for protocol and cipher lists).
 * The launcher sets them here once, before it builds anything; components and plugins
 * read them with systemProperty, as Flume's call System.getProperty.
 */
const properties = new Map<string, string>();

/** Replaces the properties (the launcher calls this with its -D flags). */
export function setSystemProperties(values: Readonly<Record<string, string>>): void {
  properties.clear();
  for (const [k, v] of Object.entries(values)) properties.set(k, v);
}

/** A -D property, or undefined when it was not given. */
export function systemProperty(name: string): string | undefined {
  return properties.get(name);
}
