import type { JobText } from '../load.js';

/**
 * Where an agent's job text comes from: files (-f), URIs (-u), a ZooKeeper znode
 * (-z/-p). `read()` gives the current text; `watch()` calls back when it may have
 * changed (the caller reads again and compares, so a spurious call costs one read).
 */
export interface ConfigSource {
  /** For log lines: the file, URI or znode. */
  readonly description: string;
  /** The current text(s); throws with a one-line message when the source cannot be read. */
  read(): Promise<JobText[]>;
  /** Starts watching; the returned function stops it. */
  watch(onChange: () => void): () => Promise<void>;
  /** Releases what the source holds open (a ZooKeeper session). */
  close?(): void;
}
