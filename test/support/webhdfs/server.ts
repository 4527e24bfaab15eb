/**
 * A WebHDFS server for tests: no HDFS can be installed here, so this stands in for a
 * namenode and one datanode, following the WebHDFS REST API
 * (https://hadoop.apache.org/docs/stable/hadoop-project-dist/hadoop-hdfs/WebHDFS.html):
 *
 * - CREATE (PUT) and APPEND (POST) in two steps: the namenode answers 307 with a
 *   Location on the datanode's port, the data goes there (201 / 200).
 * - RENAME, MKDIRS, DELETE, GETFILESTATUS, LISTSTATUS, with HDFS's JSON shapes.
 * - Errors as `{"RemoteException": {exception, javaClassName, message}}` with the
 *   exception classes HDFS uses, and what HDFS rejects is rejected: APPEND to a missing
 *   file, CREATE over an existing file without overwrite=true, RENAME onto an existing
 *   path (boolean false, as HDFS), a second writer on a file being written.
 *
 * Files live in a temporary directory. Tests can make the next calls fail, stall
 * until released, or take the namenode down and up again.
 */
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

export type Op = 'CREATE' | 'APPEND' | 'RENAME' | 'MKDIRS' | 'DELETE' | 'GETFILESTATUS' | 'LISTSTATUS';

export interface Failure {
  /** Which operation fails; undefined: any. */
  op?: Op;
  /** Fail on the namenode step (default) or the datanode step of CREATE/APPEND. */
  on?: 'namenode' | 'datanode';
  /** How many calls fail (default 1). */
  times?: number;
  status?: number;
  exception?: string;
  javaClassName?: string;
  message?: string;
}

export interface Stall {
  op?: Op;
  on?: 'namenode' | 'datanode';
  times?: number;
}

export interface RequestRecord {
  method: string;
  op: string;
  path: string;
  on: 'namenode' | 'datanode';
  query: Record<string, string>;
  status: number;
}

const CLASSES: Record<string, string> = {
  FileNotFoundException: 'java.io.FileNotFoundException',
  FileAlreadyExistsException: 'org.apache.hadoop.fs.FileAlreadyExistsException',
  AccessControlException: 'org.apache.hadoop.security.AccessControlException',
  IllegalArgumentException: 'java.lang.IllegalArgumentException',
  AlreadyBeingCreatedException: 'org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException',
  SafeModeException: 'org.apache.hadoop.hdfs.server.namenode.SafeModeException',
  IOException: 'java.io.IOException',
  StandbyException: 'org.apache.hadoop.ipc.StandbyException',
  ParentNotDirectoryException: 'org.apache.hadoop.fs.ParentNotDirectoryException',
};

class RemoteError extends Error {
  constructor(
    readonly status: number,
    readonly exception: string,
    message: string,
  ) {
    super(message);
  }
}

export class WebHdfsServer {
  readonly root: string;
  private readonly nn: http.Server;
  private readonly dn: http.Server;
  private nnPort = 0;
  private dnPort = 0;
  private readonly failures: Failure[] = [];
  private readonly stalls: Stall[] = [];
  private readonly stalled = new Set<() => void>();
  /** Files with a datanode write in progress (HDFS's lease). */
  private readonly writing = new Set<string>();
  readonly requests: RequestRecord[] = [];
  /** Bytes received by the datanode (for the benchmark's ceiling). */
  bytesIn = 0;
  private readonly sockets = new Set<import('node:net').Socket>();
  private down = false;
  private readonly scheme: 'http' | 'https';

  private constructor(root: string, tls?: { key: Buffer; cert: Buffer }) {
    this.root = root;
    this.scheme = tls ? 'https' : 'http';
    const make = (h: http.RequestListener): http.Server => (tls ? https.createServer({ key: tls.key, cert: tls.cert }, h) : http.createServer(h));
    this.nn = make((req, res) => void this.namenode(req, res));
    this.dn = make((req, res) => void this.datanode(req, res));
    for (const s of [this.nn, this.dn]) {
      s.keepAliveTimeout = 30_000;
      s.on('connection', (c) => {
        this.sockets.add(c);
        c.on('close', () => this.sockets.delete(c));
      });
    }
  }

  /** Starts a namenode and a datanode on free loopback ports, files under a new temp directory; HTTPS with `tls` (as swebhdfs). */
  static async start(opts: { root?: string; tls?: { key: Buffer; cert: Buffer } } = {}): Promise<WebHdfsServer> {
    const root = opts.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'webhdfs-'));
    const s = new WebHdfsServer(root, opts.tls);
    s.dnPort = await listen(s.dn, 0);
    s.nnPort = await listen(s.nn, 0);
    return s;
  }

  /** The namenode's base URL (what hdfs.webhdfs.url points at). */
  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.nnPort}`;
  }
  get port(): number {
    return this.nnPort;
  }

  /** The next matching calls fail with an HDFS RemoteException (default: 403 IOException). */
  fail(f: Failure = {}): void {
    this.failures.push({ times: 1, on: 'namenode', ...f });
  }

  /** The next matching calls hang (no answer) until release() or stop(). */
  stall(s: Stall = {}): void {
    this.stalls.push({ times: 1, on: 'namenode', ...s });
  }

  /** Answers every stalled call (with a 503 StandbyException, as a namenode failing over). */
  release(): void {
    for (const r of [...this.stalled]) r();
    this.stalled.clear();
    this.stalls.length = 0;
  }

  get stalledCount(): number {
    return this.stalled.size;
  }

  /** Takes the namenode off the network: connections are refused until up(). */
  async takeDown(): Promise<void> {
    this.down = true;
    await new Promise<void>((r) => this.nn.close(() => r()));
    for (const c of this.sockets) if ((c.localPort ?? 0) === this.nnPort) c.destroy();
  }

  async bringUp(): Promise<void> {
    this.down = false;
    await listen(this.nn, this.nnPort);
  }

  /** Local path of an HDFS path. */
  local(p: string): string {
    const norm = path.posix.normalize('/' + p);
    if (norm.split('/').includes('..')) throw new RemoteError(400, 'IllegalArgumentException', `Invalid path name ${p}`);
    return path.join(this.root, norm);
  }

  /** Every file under `dir` (an HDFS path), as HDFS paths, sorted. */
  listFiles(dir = '/'): string[] {
    const out: string[] = [];
    const walk = (d: string): void => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(this.local(d), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = path.posix.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else out.push(p);
      }
    };
    walk(dir);
    return out.sort();
  }

  read(p: string): Buffer {
    return fs.readFileSync(this.local(p));
  }

  async stop(opts: { keepFiles?: boolean } = {}): Promise<void> {
    this.release();
    for (const c of this.sockets) c.destroy();
    await Promise.all([this.down ? Promise.resolve() : new Promise<void>((r) => this.nn.close(() => r())), new Promise<void>((r) => this.dn.close(() => r()))]);
    if (!opts.keepFiles) fs.rmSync(this.root, { recursive: true, force: true });
  }

  private take<T extends { op?: Op; on?: string; times?: number }>(list: T[], op: string, on: string): T | undefined {
    const i = list.findIndex((f) => (f.op === undefined || f.op === op) && f.on === on);
    if (i < 0) return undefined;
    const f = list[i]!;
    if (--f.times! <= 0) list.splice(i, 1);
    return f;
  }

  /** Applies injected stalls and failures; true when the call was answered here. */
  private async inject(op: string, on: 'namenode' | 'datanode', req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    if (this.take(this.stalls, op, on)) {
      await new Promise<void>((resolve) => {
        this.stalled.add(resolve);
        req.socket.once('close', () => {
          this.stalled.delete(resolve);
          resolve();
        });
      });
      if (!res.writableEnded && !req.socket.destroyed) sendError(res, new RemoteError(503, 'StandbyException', 'Operation category WRITE is not supported in state standby'));
      return true;
    }
    const f = this.take(this.failures, op, on);
    if (f) {
      req.resume();
      const ex = f.exception ?? 'IOException';
      sendError(res, new RemoteError(f.status ?? 403, ex, f.message ?? `injected failure of ${op}`), f.javaClassName);
      return true;
    }
    return false;
  }

  private record(req: http.IncomingMessage, on: 'namenode' | 'datanode', url: URL, status: number): void {
    this.requests.push({ method: req.method ?? '', op: url.searchParams.get('op') ?? '', path: hdfsPath(url), on, query: Object.fromEntries(url.searchParams), status });
  }

  private async namenode(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const op = (url.searchParams.get('op') ?? '').toUpperCase();
    res.on('finish', () => this.record(req, 'namenode', url, res.statusCode));
    try {
      if (!url.pathname.startsWith('/webhdfs/v1/') && url.pathname !== '/webhdfs/v1') throw new RemoteError(404, 'IllegalArgumentException', `Invalid URI path ${url.pathname}`);
      if (await this.inject(op, 'namenode', req, res)) return;
      const p = hdfsPath(url);
      const file = this.local(p);
      const expect = (m: string): void => {
        if (req.method !== m) throw new RemoteError(400, 'IllegalArgumentException', `Invalid value for webhdfs parameter "op": ${op} is not a valid ${req.method} operation.`);
      };
      // WebHDFS ignores a body sent to the namenode step; drain it.
      req.resume();
      switch (op) {
        case 'CREATE': {
          expect('PUT');
          const overwrite = url.searchParams.get('overwrite') === 'true';
          const st = statOrNull(file);
          if (st?.isDirectory()) throw new RemoteError(403, 'FileAlreadyExistsException', `${p} already exists as a directory`);
          if (st && !overwrite) throw new RemoteError(403, 'FileAlreadyExistsException', `${p} for client 127.0.0.1 already exists`);
          this.redirect(res, url);
          return;
        }
        case 'APPEND': {
          expect('POST');
          const st = statOrNull(file);
          if (!st) throw new RemoteError(404, 'FileNotFoundException', `File does not exist: ${p}`);
          if (st.isDirectory()) throw new RemoteError(403, 'FileNotFoundException', `Failed to append to non-existent file ${p}: it is a directory`);
          this.redirect(res, url);
          return;
        }
        case 'MKDIRS': {
          expect('PUT');
          const st = statOrNull(file);
          if (st && !st.isDirectory()) throw new RemoteError(403, 'FileAlreadyExistsException', `Path is not a directory: ${p}`);
          fs.mkdirSync(file, { recursive: true });
          sendJson(res, 200, { boolean: true });
          return;
        }
        case 'RENAME': {
          expect('PUT');
          const dest = url.searchParams.get('destination');
          if (!dest || !dest.startsWith('/')) throw new RemoteError(400, 'IllegalArgumentException', `Invalid value for webhdfs parameter "destination": ${dest}`);
          const to = this.local(dest);
          // HDFS answers false (not an error) when the source is missing, the
          // destination exists, or the destination's parent is missing.
          if (!statOrNull(file) || statOrNull(to) || !statOrNull(path.dirname(to))?.isDirectory() || this.writing.has(file)) {
            sendJson(res, 200, { boolean: false });
            return;
          }
          fs.renameSync(file, to);
          sendJson(res, 200, { boolean: true });
          return;
        }
        case 'DELETE': {
          expect('DELETE');
          const st = statOrNull(file);
          if (!st) {
            sendJson(res, 200, { boolean: false });
            return;
          }
          if (st.isDirectory() && fs.readdirSync(file).length > 0 && url.searchParams.get('recursive') !== 'true') {
            throw new RemoteError(403, 'IOException', `${p} is non empty': Directory is not empty`);
          }
          fs.rmSync(file, { recursive: true, force: true });
          sendJson(res, 200, { boolean: true });
          return;
        }
        case 'GETFILESTATUS': {
          expect('GET');
          const st = statOrNull(file);
          if (!st) throw new RemoteError(404, 'FileNotFoundException', `File does not exist: ${p}`);
          sendJson(res, 200, { FileStatus: fileStatus('', st) });
          return;
        }
        case 'LISTSTATUS': {
          expect('GET');
          const st = statOrNull(file);
          if (!st) throw new RemoteError(404, 'FileNotFoundException', `File ${p} does not exist.`);
          const list = st.isDirectory()
            ? fs
                .readdirSync(file)
                .sort()
                .map((n) => fileStatus(n, fs.statSync(path.join(file, n))))
            : [fileStatus('', st)];
          sendJson(res, 200, { FileStatuses: { FileStatus: list } });
          return;
        }
        default:
          throw new RemoteError(400, 'IllegalArgumentException', `Invalid value for webhdfs parameter "op": No enum constant ${op}`);
      }
    } catch (err) {
      req.resume();
      sendError(res, err);
    }
  }

  private redirect(res: http.ServerResponse, url: URL): void {
    const to = new URL(url.pathname + url.search, `${this.scheme}://127.0.0.1:${this.dnPort}`);
    to.searchParams.set('namenoderpcaddress', `127.0.0.1:${this.nnPort}`);
    res.writeHead(307, { Location: to.toString(), 'Content-Length': '0' });
    res.end();
  }

  private async datanode(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const op = (url.searchParams.get('op') ?? '').toUpperCase();
    res.on('finish', () => this.record(req, 'datanode', url, res.statusCode));
    let file: string | undefined;
    try {
      if (await this.inject(op, 'datanode', req, res)) return;
      const p = hdfsPath(url);
      file = this.local(p);
      if (!url.searchParams.get('namenoderpcaddress')) throw new RemoteError(400, 'IllegalArgumentException', 'namenoderpcaddress is not set.');
      if (this.writing.has(file)) {
        file = undefined;
        throw new RemoteError(403, 'AlreadyBeingCreatedException', `Failed to ${op} ${p}: another client is writing it (lease held)`);
      }
      let flags: string;
      if (op === 'CREATE' && req.method === 'PUT') {
        const st = statOrNull(file);
        if (st && url.searchParams.get('overwrite') !== 'true') throw new RemoteError(403, 'FileAlreadyExistsException', `${p} for client 127.0.0.1 already exists`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        flags = 'w';
      } else if (op === 'APPEND' && req.method === 'POST') {
        if (!statOrNull(file)) throw new RemoteError(404, 'FileNotFoundException', `File does not exist: ${p}`);
        flags = 'a';
      } else {
        throw new RemoteError(400, 'IllegalArgumentException', `Invalid operation ${req.method} ${op} on a datanode`);
      }
      this.writing.add(file);
      const target = file;
      // Each chunk is written as it arrives (synchronously: the benchmark measures this
      // server's ceiling, and a thread-pool hop per chunk would lower it), so a client
      // that dies mid-request leaves the bytes it sent, as a datanode does.
      await new Promise<void>((resolve, reject) => {
        const fd = fs.openSync(target, flags);
        let closed = false;
        const close = (err?: Error): void => {
          if (closed) return;
          closed = true;
          fs.closeSync(fd);
          if (err) reject(err);
          else resolve();
        };
        req.on('data', (d: Buffer) => {
          if (closed) return;
          try {
            let off = 0;
            while (off < d.length) off += fs.writeSync(fd, d, off, d.length - off);
            this.bytesIn += d.length;
          } catch (e) {
            close(e as Error);
          }
        });
        req.on('end', () => close());
        req.on('aborted', () => close());
        req.on('error', () => close());
        req.on('close', () => close());
      });
      this.writing.delete(target);
      if (op === 'CREATE') {
        res.writeHead(201, { Location: `hdfs://127.0.0.1:${this.nnPort}${p}`, 'Content-Length': '0' });
      } else {
        res.writeHead(200, { 'Content-Length': '0' });
      }
      res.end();
    } catch (err) {
      if (file) this.writing.delete(file);
      req.resume();
      sendError(res, err);
    }
  }
}

function hdfsPath(url: URL): string {
  return decodeURIComponent(url.pathname.slice('/webhdfs/v1'.length)) || '/';
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

function fileStatus(suffix: string, st: fs.Stats): Record<string, unknown> {
  return {
    accessTime: Math.floor(st.atimeMs),
    blockSize: 134217728,
    childrenNum: st.isDirectory() ? 0 : 0,
    fileId: st.ino,
    group: 'supergroup',
    length: st.isDirectory() ? 0 : st.size,
    modificationTime: Math.floor(st.mtimeMs),
    owner: 'flume',
    pathSuffix: suffix,
    permission: st.isDirectory() ? '755' : '644',
    replication: st.isDirectory() ? 0 : 1,
    storagePolicy: 0,
    type: st.isDirectory() ? 'DIRECTORY' : 'FILE',
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const b = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(b.length) });
  res.end(b);
}

function sendError(res: http.ServerResponse, err: unknown, javaClassName?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const e = err instanceof RemoteError ? err : new RemoteError(500, 'IOException', (err as Error).message);
  sendJson(res, e.status, { RemoteException: { exception: e.exception, javaClassName: javaClassName ?? CLASSES[e.exception] ?? `java.io.${e.exception}`, message: e.message } });
}

function listen(s: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      s.off('error', reject);
      resolve((s.address() as AddressInfo).port);
    });
  });
}
