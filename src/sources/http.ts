/**
 * Flume's http source on Node's http/https modules: the source needs one route, a
 * streamed body it can count and refuse, and the answer after the channel commit, so a
 * web framework would add nothing. The handlers are an interface here with Flume's two
 * built-ins, chosen by their Java class names.
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { TextDecoder } from 'node:util';
import {
  ChannelError,
  ErrorCodes,
  RateLimitedLog,
  createEvent,
  defineSource,
  opt,
  type ChannelProcessor,
  type Context,
  type EventDrivenSource,
  type FlumeEvent,
  type Logger,
  type OptionProblem,
  type Options,
  type SourceCounter,
} from '../plugin-api/index.js';
import { SERVER_TLS_OPTIONS, serverTlsOptions, serverTlsProblems } from '../rpc/tls.js';

const JSON_HANDLER = 'org.apache.flume.source.http.JSONHandler';
const BLOB_HANDLER = 'org.apache.flume.sink.solr.morphline.BlobHandler';
const HANDLER_PREFIX = 'handler.';
const DEFAULT_MAX_BLOB = 100_000_000;

export const options = {
  bind: opt.string('0.0.0.0', 'Address to listen on.'),
  port: opt.requiredInteger('TCP port to listen on.', { min: 0, max: 65535 }),
  handler: opt.string(
    JSON_HANDLER,
    `How a request becomes events: ${JSON_HANDLER} (a JSON array of {"headers": {...}, "body": "..."}) or ${BLOB_HANDLER} (the whole body is one event). handler.* keys configure it.`,
  ),
  maxRequestBytes: opt.integer(
    16 * 1024 * 1024,
    'Largest request body the JSON handler accepts, in bytes; a larger one is refused with 413 as soon as it is seen (Content-Length) or counted (chunked), without being read whole. The BlobHandler uses handler.maxBlobLength instead.',
    { min: 1, max: 1024 * 1024 * 1024 },
  ),
  ...SERVER_TLS_OPTIONS,
  ssl: { ...SERVER_TLS_OPTIONS.ssl, deprecatedAliases: ['enableSSL'] },
  'keystore-password': { ...SERVER_TLS_OPTIONS['keystore-password'], deprecatedAliases: ['keystorePassword'] },
  'exclude-protocols': { ...SERVER_TLS_OPTIONS['exclude-protocols'], deprecatedAliases: ['excludeProtocols'] },
};

type HttpSourceOptions = Options<typeof options>;

/** Connections served at once; more wait in the listen backlog. */
const MAX_CONNECTIONS = 1024;
/** Requests one keep-alive connection may make before it is closed. */
const MAX_REQUESTS_PER_CONNECTION = 10_000;
/** The request line and headers, in bytes. */
const MAX_HEADER_BYTES = 16 * 1024;
/** A request must arrive whole within this time (slow senders hold no connection for long). */
const REQUEST_TIMEOUT_MS = 120_000;
const HEADERS_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/** A body the handler refuses: answered 400, nothing of it stored. */
class BadRequest extends Error {}

/** What a handler sees of a request: its body, whole, and what came with it. */
interface HttpRequestData {
  body: Buffer;
  contentType: string | undefined;
  /** The query string's parameters (first value of each). */
  query: URLSearchParams;
}

/** Turns a request into events (Flume's HTTPSourceHandler). */
interface Handler {
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
  getEvents(req: HttpRequestData): FlumeEvent[];
}

/** The charset parameter of a Content-Type, lower-cased, if any. */
function charsetOf(contentType: string | undefined): string | undefined {
  const m = contentType ? /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType) : null;
  return m ? m[1]!.toLowerCase() : undefined;
}

/** Java's UTF-16 and UTF-32 decoders: a byte order mark decides, big-endian without one. */
function decodeWide(body: Buffer, width: 2 | 4): string {
  if (width === 2) {
    if (body[0] === 0xff && body[1] === 0xfe) return new TextDecoder('utf-16le').decode(body.subarray(2));
    const from = body[0] === 0xfe && body[1] === 0xff ? 2 : 0;
    const le = Buffer.from(body.subarray(from));
    le.swap16();
    return new TextDecoder('utf-16le').decode(le);
  }
  let le = false;
  let from = 0;
  if (body.readUInt32BE(0) === 0xfeff) from = 4;
  else if (body.length >= 4 && body.readUInt32LE(0) === 0xfeff) [le, from] = [true, 4];
  let s = '';
  for (let i = from; i + 4 <= body.length; i += 4) {
    const cp = le ? body.readUInt32LE(i) : body.readUInt32BE(i);
    if (cp > 0x10ffff) throw new BadRequest(`invalid UTF-32 code point at byte ${i}`);
    s += String.fromCodePoint(cp);
  }
  return s;
}

/** The body text in the request charset, as Java encodes it (UTF-16 with a big-endian byte order mark, UTF-32 big-endian). */
function encodeAs(charset: 'utf-8' | 'utf-16' | 'utf-32', text: string): Buffer {
  if (charset === 'utf-8') return Buffer.from(text, 'utf8');
  if (charset === 'utf-16') {
    if (text.length === 0) return Buffer.alloc(0);
    const b = Buffer.from('\ufeff' + text, 'utf16le');
    b.swap16();
    return b;
  }
  const cps = Array.from(text, (c) => c.codePointAt(0)!);
  const b = Buffer.alloc(cps.length * 4);
  cps.forEach((cp, i) => b.writeUInt32BE(cp, i * 4));
  return b;
}

/** A header or body value as Gson reads it into a String: scalars as their text; objects and arrays are refused. */
function scalar(v: unknown, what: string): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new BadRequest(`${what} must be a string, not ${Array.isArray(v) ? 'an array' : 'an object'}`);
}

/**
 * Flume's JSONHandler: the body is a JSON array of events, each
 * `{"headers": {"k": "v"}, "body": "text"}`. The request charset (Content-Type
 * charset, UTF-8 when absent) must be UTF-8, UTF-16 or UTF-32; the event body is the
 * text encoded in it, as Flume does.
 */
class JsonHandler implements Handler {
  constructor(readonly maxBytes: number) {}

  getEvents(req: HttpRequestData): FlumeEvent[] {
    const cs = charsetOf(req.contentType) ?? 'utf-8';
    const charset = cs === 'utf-8' || cs === 'utf8' ? 'utf-8' : cs === 'utf-16' ? 'utf-16' : cs === 'utf-32' ? 'utf-32' : undefined;
    if (!charset) throw new BadRequest(`unsupported charset ${cs}: the JSON handler reads UTF-8, UTF-16 and UTF-32 only`);
    let text: string;
    try {
      text = charset === 'utf-8' ? new TextDecoder('utf-8', { fatal: true }).decode(req.body) : decodeWide(req.body, charset === 'utf-16' ? 2 : 4);
    } catch (err) {
      if (err instanceof BadRequest) throw err;
      throw new BadRequest(`the body is not valid ${charset.toUpperCase()}`);
    }
    if (text.trim() === '') throw new BadRequest('the body is empty; expected a JSON array of events');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new BadRequest(`Request has invalid JSON Syntax: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new BadRequest('expected a JSON array of events, e.g. [{"headers": {}, "body": "text"}]');
    const events: FlumeEvent[] = new Array(parsed.length);
    for (let i = 0; i < parsed.length; i++) {
      const e = parsed[i] as unknown;
      if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new BadRequest(`event ${i} is not a JSON object`);
      const o = e as { headers?: unknown; body?: unknown };
      const headers: Record<string, string> = {};
      if (o.headers !== undefined && o.headers !== null) {
        if (typeof o.headers !== 'object' || Array.isArray(o.headers)) throw new BadRequest(`event ${i}: headers must be an object of strings`);
        for (const [k, v] of Object.entries(o.headers as Record<string, unknown>)) {
          const s = scalar(v, `event ${i}: header ${k}`);
          if (s !== undefined) headers[k] = s;
        }
      }
      events[i] = createEvent(encodeAs(charset, scalar(o.body, `event ${i}: body`) ?? ''), headers);
    }
    return events;
  }
}

/**
 * The BlobHandler of Flume's morphline module: the whole body is one event, its
 * headers the query parameters and Content-Type. A body over maxBlobLength is
 * refused (413) where Flume truncates it.
 */
class BlobHandler implements Handler {
  constructor(readonly maxBytes: number) {}

  getEvents(req: HttpRequestData): FlumeEvent[] {
    const headers: Record<string, string> = {};
    if (req.contentType !== undefined) headers['Content-Type'] = req.contentType;
    for (const k of req.query.keys()) if (!(k in headers)) headers[k] = req.query.get(k)!;
    return [createEvent(req.body, headers)];
  }
}

/** The handler keys each handler reads (under handler.). */
const HANDLER_KEYS: Record<string, readonly string[]> = { [JSON_HANDLER]: [], [BLOB_HANDLER]: ['maxBlobLength'] };

function handlerProblems(o: HttpSourceOptions, ctx: Context): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const known = HANDLER_KEYS[o.handler.trim()];
  if (!known) {
    problems.push({
      severity: 'error',
      code: ErrorCodes.CONFIG_VALUE,
      key: 'handler',
      message: `${ctx.fullKey('handler')}: unknown handler "${o.handler}"; known: ${Object.keys(HANDLER_KEYS).join(', ')}`,
    });
    return problems;
  }
  const sub = ctx.subProperties(HANDLER_PREFIX);
  for (const k of sub.keys()) {
    if (!known.includes(k)) {
      problems.push({
        severity: 'warning',
        code: ErrorCodes.CONFIG_UNKNOWN_KEY,
        key: HANDLER_PREFIX + k,
        message: `${ctx.fullKey(HANDLER_PREFIX + k)}: unknown key for handler ${o.handler}, ignored`,
      });
    }
  }
  const raw = sub.getString('maxBlobLength');
  if (raw !== undefined && !(/^\d+$/.test(raw.trim()) && Number(raw) > 0 && Number(raw) <= 2 ** 31 - 1)) {
    problems.push({
      severity: 'error',
      code: ErrorCodes.CONFIG_VALUE,
      key: HANDLER_PREFIX + 'maxBlobLength',
      message: `${ctx.fullKey(HANDLER_PREFIX + 'maxBlobLength')}: expected an integer greater than zero, got "${raw}"`,
    });
  }
  return problems;
}

function makeHandler(o: HttpSourceOptions, ctx: Context): Handler {
  if (o.handler.trim() === BLOB_HANDLER) return new BlobHandler(Number(ctx.subProperties(HANDLER_PREFIX).getString('maxBlobLength') ?? DEFAULT_MAX_BLOB));
  return new JsonHandler(o.maxRequestBytes);
}

/**
 * Flume's http source: POST (and GET, as Flume) requests become events through the
 * handler; all events of a request go into the channels in one batch, and the answer
 * is 200 only after every required channel committed it, 400 when the handler refuses
 * the body (nothing stored), 503 when a channel refuses the batch (full), 413 for a
 * body over the limit (never read whole), 405 for other methods.
 */
class HttpSource implements EventDrivenSource {
  readonly kind = 'event-driven';
  private server: http.Server | undefined;
  private readonly handler: Handler;
  private readonly warnings: RateLimitedLog;
  private readonly tls: ReturnType<typeof serverTlsOptions> | undefined;

  constructor(
    private readonly name: string,
    private readonly o: HttpSourceOptions,
    ctx: Context,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
  ) {
    this.handler = makeHandler(o, ctx);
    this.warnings = new RateLimitedLog(logger);
    this.tls = o.ssl ? serverTlsOptions(ctx, o) : undefined;
  }

  start(): Promise<void> {
    const opts: http.ServerOptions = {
      maxHeaderSize: MAX_HEADER_BYTES,
      requestTimeout: REQUEST_TIMEOUT_MS,
      headersTimeout: HEADERS_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    };
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => void this.serve(req, res);
    const server = this.tls ? https.createServer({ ...opts, ...this.tls }, onRequest) : http.createServer(opts, onRequest);
    server.maxRequestsPerSocket = MAX_REQUESTS_PER_CONNECTION;
    server.maxConnections = MAX_CONNECTIONS;
    server.on('clientError', (err: Error & { code?: string }, socket: net.Socket) => {
      this.counter.EventReadFail++;
      this.warnings.warn('client', `HTTP source ${this.name}: bad request from ${socket.remoteAddress ?? '?'}: ${err.code ?? err.message}`);
      if (socket.writable)
        socket.end(err.code === 'HPE_HEADER_OVERFLOW' ? 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    if (this.tls) server.on('tlsClientError', (err) => this.warnings.warn('tls', `HTTP source ${this.name}: TLS handshake failed: ${err.message}`));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.bind, () => {
        server.off('error', reject);
        server.on('error', (err) => this.logger.error(`HTTP source ${this.name}: ${err.message}`));
        this.server = server;
        const a = server.address() as net.AddressInfo;
        this.logger.info(`HTTP source ${this.name} listening on ${a.address}:${a.port} (${this.tls ? 'https' : 'http'}, handler ${this.o.handler})`);
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    // Requests being stored finish (close waits for them); idle keep-alive connections go now.
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    await closed;
    clearTimeout(force);
    this.warnings.flush();
  }

  private reply(res: http.ServerResponse, status: number, message: string, close = false): void {
    if (res.headersSent) return;
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(message) + 1 };
    if (close) headers.Connection = 'close';
    if (status === 405) headers.Allow = 'GET, POST';
    res.writeHead(status, headers);
    res.end(message + '\n');
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'POST' && req.method !== 'GET') {
      req.resume();
      this.reply(res, 405, `HTTP method ${req.method} is not supported: send events with POST`);
      return;
    }
    const body = await this.readBody(req, res);
    if (body === undefined) return;
    let events: FlumeEvent[];
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      events = this.handler.getEvents({ body, contentType: req.headers['content-type'], query: url.searchParams });
    } catch (err) {
      this.counter.EventReadFail++;
      const bad = err instanceof BadRequest;
      this.warnings.warn('bad', `HTTP source ${this.name}: ${bad ? 'bad request' : 'handler failed'} from ${req.socket.remoteAddress ?? '?'}: ${(err as Error).message}`);
      this.reply(res, bad ? 400 : 500, `Bad request from client. ${(err as Error).message}`);
      return;
    }
    this.counter.AppendBatchReceivedCount++;
    this.counter.EventReceivedCount += events.length;
    try {
      await this.processor.processEventBatch(events);
    } catch (err) {
      if (err instanceof ChannelError) {
        this.counter.ChannelWriteFail++;
        this.warnings.warn('full', `HTTP source ${this.name}: ${events.length} event(s) refused, answered 503: ${(err as Error).message}`);
        this.reply(res, 503, `Error appending event to channel. Channel might be full. ${(err as Error).message}`);
      } else {
        this.counter.GenericProcessingFail++;
        this.logger.error(`HTTP source ${this.name}: unexpected error while storing ${events.length} event(s): ${(err as Error).message}`);
        this.reply(res, 500, `Unexpected error while appending event to channel. ${(err as Error).message}`);
      }
      return;
    }
    this.counter.AppendBatchAcceptedCount++;
    this.counter.EventAcceptedCount += events.length;
    res.writeHead(200, { 'Content-Length': 0 });
    res.end();
  }

  /**
   * The body, counted as it streams: over the handler's limit it is answered 413 at
   * once (from Content-Length when given) and the connection closed, so no more than
   * the limit is ever held.
   */
  private readBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<Buffer | undefined> {
    const max = this.handler.maxBytes;
    const tooLarge = (): void => {
      this.counter.EventReadFail++;
      this.warnings.warn('large', `HTTP source ${this.name}: request body from ${req.socket.remoteAddress ?? '?'} larger than ${max} bytes refused (413)`);
      this.reply(res, 413, `Request body larger than ${max} bytes`, true);
      // Nothing more is read: the connection closes once the answer is out.
      req.pause();
      res.once('finish', () => req.socket.destroySoon());
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      tooLarge();
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      req.on('data', (c: Buffer) => {
        if (done) return;
        size += c.length;
        if (size > max) {
          done = true;
          chunks.length = 0;
          tooLarge();
          resolve(undefined);
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        if (done) return;
        done = true;
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      });
      req.on('error', () => {
        if (done) return;
        done = true;
        resolve(undefined);
      });
      req.on('aborted', () => {
        if (done) return;
        done = true;
        resolve(undefined);
      });
    });
  }
}

export default defineSource({
  type: 'http',
  aliases: ['org.apache.flume.source.http.HTTPSource'],
  description: 'Receives events in HTTP POST requests (JSON events, or the whole body as one event).',
  options,
  prefixes: [HANDLER_PREFIX],
  listens: (o) => [{ host: o.bind, port: o.port, protocol: 'tcp' }],
  validate(o, ctx) {
    const problems = handlerProblems(o, ctx);
    serverTlsProblems(ctx, o, problems);
    return problems;
  },
  create: ({ name, options, context, processor, counter, logger }) => new HttpSource(name, options, context, processor, counter, logger),
});
