import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { JobText } from '../load.js';
import type { ConfigSource } from './types.js';

/** A job file larger than this is refused while it streams in. */
const MAX_BYTES = 16 * 1024 * 1024;
const TIMEOUT_MS = 30_000;

export interface UriOptions {
  user?: string;
  password?: string;
  pollSeconds: number;
  /** CA certificates for https (the global trust store), PEM. */
  ca?: Buffer;
  /** Check the server's host name against its certificate (Flume's --verify-host, default true). */
  verifyHost: boolean;
}

/**
 * A job file served over http(s) (Flume 1.10+'s --conf-uri), also `file:` URIs.
 * Polls every `pollSeconds` (Flume's default: 300 s for http) with If-None-Match and
 * If-Modified-Since, so an unchanged file costs one 304. A failed fetch keeps the last
 * text read, which the agent keeps running.
 */
export class UriConfigSource implements ConfigSource {
  readonly description: string;
  private etag: string | undefined;
  private lastModified: string | undefined;
  private last: JobText | undefined;

  constructor(
    private readonly uri: URL,
    private readonly o: UriOptions,
  ) {
    this.description = uri.href.replace(/\/\/[^@/]*@/, '//');
  }

  async read(): Promise<JobText[]> {
    if (this.uri.protocol === 'file:') {
      const file = decodeURIComponent(this.uri.pathname);
      const text = fs.readFileSync(file, 'utf8');
      return [{ name: file, text }];
    }
    const text = await this.fetch();
    return [{ name: this.description, text }];
  }

  private fetch(): Promise<string> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { Accept: 'text/plain, */*' };
      if (this.last && this.etag) headers['If-None-Match'] = this.etag;
      if (this.last && this.lastModified) headers['If-Modified-Since'] = this.lastModified;
      if (this.o.user !== undefined) headers.Authorization = `Basic ${Buffer.from(`${this.o.user}:${this.o.password ?? ''}`).toString('base64')}`;
      const mod = this.uri.protocol === 'https:' ? https : http;
      const req = mod.request(
        this.uri,
        {
          headers,
          timeout: TIMEOUT_MS,
          ...(this.uri.protocol === 'https:' ? { ca: this.o.ca, ...(this.o.verifyHost ? {} : { checkServerIdentity: () => undefined }) } : {}),
        },
        (res) => {
          if (res.statusCode === 304 && this.last) {
            res.resume();
            return resolve(this.last.text);
          }
          if (res.statusCode !== 200) {
            res.resume();
            return reject(new Error(`${this.description} answered HTTP ${res.statusCode}`));
          }
          const chunks: Buffer[] = [];
          let total = 0;
          res.on('data', (d: Buffer) => {
            total += d.length;
            if (total > MAX_BYTES) {
              req.destroy(new Error(`${this.description} is larger than ${MAX_BYTES / 1024 / 1024} MiB`));
              return;
            }
            chunks.push(d);
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            this.etag = header(res.headers.etag);
            this.lastModified = header(res.headers['last-modified']);
            this.last = { name: this.description, text };
            resolve(text);
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${this.description} did not answer within ${TIMEOUT_MS / 1000} s`)));
      req.on('error', (err) => reject(new Error(`cannot fetch ${this.description}: ${err.message}`)));
      req.end();
    });
  }

  watch(onChange: () => void): () => Promise<void> {
    const timer = setInterval(onChange, this.o.pollSeconds * 1000);
    timer.unref();
    return async () => clearInterval(timer);
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Flume's backup of the last good configuration: `<dir>/.<agent>.properties`. */
export function backupFile(dir: string, agent: string): string {
  return path.join(dir, `.${agent}.properties`);
}
