import zookeeper from 'node-zookeeper-client';
import type { Logger } from '../../core/logger.js';
import type { JobText } from '../load.js';
import type { ConfigSource } from './types.js';

/** A znode's data is at most 1 MiB in ZooKeeper; a job file is a few kilobytes. */
const SESSION_TIMEOUT_MS = 10_000;

/**
 * The job text held in the znode `<basePath>/<agent>` (Flume's -z/-p), watched: a
 * change to the znode reloads. While the ensemble is away the agent keeps its graph
 * (logged once per outage); when the session comes back, or a new one replaces an
 * expired one, the znode is read again, so a change made meanwhile is picked up.
 */
export class ZooKeeperConfigSource implements ConfigSource {
  readonly description: string;
  readonly path: string;
  private client: zookeeper.Client | undefined;
  private onChange: (() => void) | undefined;
  private outage = false;
  private renew: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly connect: string,
    basePath: string,
    agent: string,
    private readonly logger: Logger,
  ) {
    this.path = `${basePath.replace(/\/+$/, '')}/${agent}`;
    this.description = `zookeeper ${connect}${this.path}`;
  }

  private ensureClient(): zookeeper.Client {
    if (this.client) return this.client;
    const c = zookeeper.createClient(this.connect, { sessionTimeout: SESSION_TIMEOUT_MS, spinDelay: 1000, retries: 3 });
    c.on('state', (s: zookeeper.State) => {
      if (this.closed) return;
      if (s === zookeeper.State.DISCONNECTED) {
        if (!this.outage) this.logger.warn(`Lost the connection to ZooKeeper (${this.connect}); the running configuration stays until it is back`);
        this.outage = true;
        // Disconnected for longer than the session can live: the session is gone even if no
        // server said so (an ensemble that lost its state answers nothing useful).
        if (!this.renew) {
          this.renew = setTimeout(() => {
            this.renew = undefined;
            if (this.closed || this.client !== c || !this.outage) return;
            this.logger.warn(`ZooKeeper session lost (disconnected for longer than its ${SESSION_TIMEOUT_MS / 1000} s timeout); opening a new one`);
            c.close();
            this.client = undefined;
            this.ensureClient();
            this.onChange?.();
          }, SESSION_TIMEOUT_MS * 1.5);
          this.renew.unref();
        }
      } else if (s === zookeeper.State.SYNC_CONNECTED) {
        if (this.renew) clearTimeout(this.renew);
        this.renew = undefined;
        if (this.outage) {
          this.logger.info(`Connected to ZooKeeper (${this.connect}) again; reading ${this.path}`);
          this.outage = false;
          this.onChange?.();
        }
      } else if (s === zookeeper.State.EXPIRED) {
        this.logger.warn(`ZooKeeper session expired; opening a new one and reading ${this.path} again`);
        c.close();
        this.client = undefined;
        this.outage = true;
        this.ensureClient();
      }
    });
    c.connect();
    this.client = c;
    return c;
  }

  read(): Promise<JobText[]> {
    const c = this.ensureClient();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.description}: no answer from ZooKeeper within ${SESSION_TIMEOUT_MS / 1000} s`)), SESSION_TIMEOUT_MS);
      c.getData(
        this.path,
        (event) => {
          // A one-shot watch: each read sets the next one.
          if (event.getType() === zookeeper.Event.NODE_DATA_CHANGED || event.getType() === zookeeper.Event.NODE_CREATED || event.getType() === zookeeper.Event.NODE_DELETED) this.onChange?.();
        },
        (err, data) => {
          clearTimeout(timer);
          if (err) {
            const code = (err as { getCode?: () => number }).getCode?.();
            if (code === zookeeper.Exception.NO_NODE) {
              // getData sets no watch on a missing znode: watch for its creation instead.
              c.exists(
                this.path,
                () => this.onChange?.(),
                () => {},
              );
              reject(new Error(`${this.description}: the znode does not exist (publish it with flume-ng conf put)`));
            } else {
              reject(new Error(`${this.description}: ${String(err)}`));
            }
            return;
          }
          resolve([{ name: this.description, text: (data ?? Buffer.alloc(0)).toString('utf8') }]);
        },
      );
    });
  }

  watch(onChange: () => void): () => Promise<void> {
    this.onChange = onChange;
    return async () => this.close();
  }

  close(): void {
    this.closed = true;
    this.onChange = undefined;
    if (this.renew) clearTimeout(this.renew);
    this.client?.close();
    this.client = undefined;
  }
}

/** Writes `text` to `<basePath>/<agent>`, creating the path (flume-ng conf put). */
export function zkPut(connect: string, znode: string, text: string): Promise<void> {
  return withClient(connect, (c, done) => {
    c.mkdirp(znode, (err) => {
      if (err) return done(err);
      c.setData(znode, Buffer.from(text, 'utf8'), -1, (e) => done(e ?? undefined));
    });
  });
}

/** Reads `<basePath>/<agent>` (flume-ng conf get). */
export function zkGet(connect: string, znode: string): Promise<string> {
  let out = '';
  return withClient(connect, (c, done) => {
    c.getData(znode, (err, data) => {
      if (err) return done(err);
      out = (data ?? Buffer.alloc(0)).toString('utf8');
      done();
    });
  }).then(() => out);
}

function withClient(connect: string, fn: (c: zookeeper.Client, done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = zookeeper.createClient(connect, { sessionTimeout: SESSION_TIMEOUT_MS, spinDelay: 500, retries: 2 });
    const timer = setTimeout(() => {
      c.close();
      reject(new Error(`no answer from ZooKeeper at ${connect} within ${SESSION_TIMEOUT_MS / 1000} s`));
    }, SESSION_TIMEOUT_MS);
    c.once('connected', () => {
      fn(c, (err) => {
        clearTimeout(timer);
        c.close();
        if (err) reject(new Error(`ZooKeeper ${connect}: ${(err as Error).message ?? String(err)}`));
        else resolve();
      });
    });
    c.connect();
  });
}
