/**
 * The few WebHDFS REST calls the hdfs sink needs, on undici (Node's own HTTP client)
 * with keep-alive connections. Written here rather than taken from the `webhdfs` npm
 * package: that one is built on the deprecated `request` library, whose redirect
 * handling has an open server-side request forgery advisory, and CREATE/APPEND are
 * exactly a redirect (307 from the namenode to a datanode). Here the redirect is
 * followed by hand, once, only to an http(s) URL, and only for those two calls.
 */
import { rootCertificates } from 'node:tls';
import { createRequire } from 'node:module';
import type * as Undici from 'undici';
import type { Dispatcher } from 'undici';

// undici is loaded when a sink first needs it, not with every agent (it weighs about 18 MB).
const requireLazy = createRequire(import.meta.url);
let undiciLib: typeof Undici | undefined;
const undici = (): typeof Undici => (undiciLib ??= requireLazy('undici') as typeof Undici);
import { ErrorCodes, FlumeError } from '../../plugin-api/index.js';

export interface WebHdfsOptions {
  /** The namenode's HTTP(S) base, e.g. http://nn:9870. */
  baseUrl: string;
  /** user.name (simple authentication); undefined: none sent. */
  user?: string;
  /** doas (proxy user). */
  doAs?: string;
  /** Per-call timeout in ms (hdfs.callTimeout). */
  timeoutMs: number;
  /** Extra CA certificates (PEM) for https namenodes/datanodes. */
  ca?: string | Buffer;
}

export interface FileStatus {
  pathSuffix: string;
  type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  length: number;
  modificationTime: number;
}

/** A failed WebHDFS call: the server's exception class and message when it sent one. */
export class WebHdfsError extends FlumeError {
  constructor(
    readonly op: string,
    readonly path: string,
    readonly status: number | undefined,
    readonly exception: string | undefined,
    detail: string,
    /** No connection was made: the call cannot have changed anything. */
    readonly notSent = false,
  ) {
    super(ErrorCodes.HDFS_CALL, `WebHDFS ${op} ${path} failed: ${exception ? `${exception}: ` : ''}${detail}${status ? ` (HTTP ${status})` : ''}`);
  }
}

const MAX_ERROR_BODY = 64 * 1024;
const MAX_JSON_BODY = 64 * 1024 * 1024;

export class WebHdfsClient {
  private readonly base: URL;
  private readonly agent: Undici.Agent;

  constructor(private readonly o: WebHdfsOptions) {
    this.base = new URL(o.baseUrl);
    this.agent = new (undici().Agent)({
      keepAliveTimeout: 30_000,
      connections: 16,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      connect: o.ca ? { ca: [...rootCertificates, o.ca.toString()] } : undefined,
    });
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => {});
  }

  destroy(): void {
    void this.agent.destroy().catch(() => {});
  }

  private url(path: string, op: string, params: Record<string, string> = {}): URL {
    const u = new URL(this.base);
    u.pathname = this.base.pathname.replace(/\/$/, '') + '/webhdfs/v1' + encodePath(path);
    u.searchParams.set('op', op);
    if (this.o.user) u.searchParams.set('user.name', this.o.user);
    if (this.o.doAs) u.searchParams.set('doas', this.o.doAs);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u;
  }

  /** Creates `path` (its parents too) with `data`; fails when it exists unless overwrite. */
  create(path: string, data: Buffer, overwrite = false): Promise<void> {
    return this.twoStep('CREATE', 'PUT', path, data, { overwrite: String(overwrite) });
  }

  /** Appends `data` to an existing file. */
  append(path: string, data: Buffer): Promise<void> {
    return this.twoStep('APPEND', 'POST', path, data);
  }

  /** Renames; false when HDFS refused (source missing, destination exists). */
  async rename(from: string, to: string): Promise<boolean> {
    const r = await this.json('RENAME', 'PUT', from, { destination: to });
    return (r as { boolean?: boolean }).boolean === true;
  }

  async mkdirs(path: string): Promise<boolean> {
    const r = await this.json('MKDIRS', 'PUT', path);
    return (r as { boolean?: boolean }).boolean === true;
  }

  async delete(path: string, recursive = false): Promise<boolean> {
    const r = await this.json('DELETE', 'DELETE', path, { recursive: String(recursive) });
    return (r as { boolean?: boolean }).boolean === true;
  }

  /** The file's status, or undefined when it does not exist. */
  async status(path: string): Promise<FileStatus | undefined> {
    try {
      const r = await this.json('GETFILESTATUS', 'GET', path);
      return (r as { FileStatus: FileStatus }).FileStatus;
    } catch (err) {
      if (err instanceof WebHdfsError && err.exception === 'FileNotFoundException') return undefined;
      throw err;
    }
  }

  /** The entries of a directory, or undefined when it does not exist. */
  async list(path: string): Promise<FileStatus[] | undefined> {
    try {
      const r = await this.json('LISTSTATUS', 'GET', path);
      return (r as { FileStatuses: { FileStatus: FileStatus[] } }).FileStatuses.FileStatus;
    } catch (err) {
      if (err instanceof WebHdfsError && err.exception === 'FileNotFoundException') return undefined;
      throw err;
    }
  }

  private async call(op: string, path: string, url: URL, method: Dispatcher.HttpMethod, body?: Buffer): Promise<Dispatcher.ResponseData> {
    try {
      return await undici().request(url, {
        method,
        body,
        dispatcher: this.agent,
        headers: body ? { 'content-type': 'application/octet-stream' } : undefined,
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { code?: string; cause?: { code?: string } };
      const code = e.code ?? e.cause?.code;
      const what = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${this.o.timeoutMs} ms (hdfs.callTimeout)` : `${code ? code + ' ' : ''}${e.message}`;
      const notSent = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'UND_ERR_CONNECT_TIMEOUT';
      throw new WebHdfsError(op, path, undefined, undefined, `${what} from ${url.host}`, notSent);
    }
  }

  private async twoStep(op: string, method: 'PUT' | 'POST', path: string, data: Buffer, params: Record<string, string> = {}): Promise<void> {
    const first = await this.call(op, path, this.url(path, op, params), method);
    if (first.statusCode !== 307 && first.statusCode !== 302 && first.statusCode !== 303) {
      throw await failure(op, path, first, 'expected a redirect to a datanode');
    }
    await first.body.dump();
    const loc = first.headers.location;
    const where = Array.isArray(loc) ? loc[0] : loc;
    let dn: URL;
    try {
      dn = new URL(where ?? '', this.base);
    } catch {
      throw new WebHdfsError(op, path, first.statusCode, undefined, `the namenode's redirect has no usable Location (${String(where)})`);
    }
    if (dn.protocol !== 'http:' && dn.protocol !== 'https:') {
      throw new WebHdfsError(op, path, first.statusCode, undefined, `the namenode redirected to ${dn.protocol} URL; only http and https are followed`);
    }
    const second = await this.call(op, path, dn, method, data);
    if (second.statusCode !== (op === 'CREATE' ? 201 : 200) && !(second.statusCode >= 200 && second.statusCode < 300)) {
      throw await failure(op, path, second, 'from the datanode');
    }
    await second.body.dump();
  }

  private async json(op: string, method: Dispatcher.HttpMethod, path: string, params: Record<string, string> = {}): Promise<unknown> {
    const r = await this.call(op, path, this.url(path, op, params), method);
    if (r.statusCode !== 200) throw await failure(op, path, r, '');
    const text = await readBounded(r, MAX_JSON_BODY);
    try {
      return JSON.parse(text);
    } catch {
      throw new WebHdfsError(op, path, r.statusCode, undefined, `the answer is not JSON: ${text.slice(0, 200)}`);
    }
  }
}

/** The error of a response: HDFS's RemoteException when the body is one. */
async function failure(op: string, path: string, r: Dispatcher.ResponseData, context: string): Promise<WebHdfsError> {
  let text = '';
  try {
    text = await readBounded(r, MAX_ERROR_BODY);
  } catch {
    // a body that is too long or cut short: report the status alone
  }
  try {
    const j = JSON.parse(text) as { RemoteException?: { exception?: string; message?: string } };
    if (j.RemoteException) return new WebHdfsError(op, path, r.statusCode, j.RemoteException.exception, j.RemoteException.message ?? '');
  } catch {
    // not JSON
  }
  return new WebHdfsError(op, path, r.statusCode, undefined, `${context ? context + ': ' : ''}${text.slice(0, 200) || 'no details'}`);
}

async function readBounded(r: Dispatcher.ResponseData, max: number): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of r.body) {
    n += (chunk as Buffer).length;
    if (n > max) {
      r.body.destroy();
      throw new Error(`answer longer than ${max} bytes`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

function encodePath(p: string): string {
  return p
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

/**
 * Where the WebHDFS API of an `hdfs.path` is: `hdfs://nn:8020/x` → http://nn:9870
 * (Hadoop 3's namenode HTTP port), `webhdfs://nn:port/x` → http://nn:port,
 * `swebhdfs://nn:port/x` → https://nn:port (default 9871). `explicitUrl`
 * (hdfs.webhdfs.url) wins. Returns the base URL and the path inside HDFS.
 */
export function resolveEndpoint(hdfsPath: string, explicitUrl: string | undefined): { baseUrl: string | undefined; path: string; authority: string } {
  const m = /^([a-zA-Z][\w+.-]*):\/\/([^/]*)(\/.*)?$/.exec(hdfsPath);
  if (!m) return { baseUrl: explicitUrl, path: hdfsPath, authority: '' };
  const scheme = m[1]!.toLowerCase();
  const authority = m[2]!;
  const p = m[3] ?? '/';
  if (explicitUrl) return { baseUrl: explicitUrl, path: p, authority };
  const host = authority.replace(/:\d+$/, '');
  const port = /:(\d+)$/.exec(authority)?.[1];
  switch (scheme) {
    case 'hdfs':
      return { baseUrl: `http://${host}:9870`, path: p, authority };
    case 'webhdfs':
      return { baseUrl: `http://${host}:${port ?? 9870}`, path: p, authority };
    case 'swebhdfs':
      return { baseUrl: `https://${host}:${port ?? 9871}`, path: p, authority };
    default:
      throw new FlumeError(ErrorCodes.CONFIG_VALUE, `hdfs.path scheme "${scheme}://" is not supported (hdfs://, webhdfs://, swebhdfs:// or a path with hdfs.webhdfs.url)`);
  }
}
