/**
 * The server side of Flume's Thrift RPC (what ThriftSource runs): framed messages over
 * TCP or TLS, compact or binary protocol. The calls of one connection are answered in
 * order, one at a time, as Java's TThreadPoolServer serves a connection (Thrift
 * clients check that a reply's sequence id is the one they sent last). A broken or
 * hostile connection is closed, logged and counted; it never affects the others.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { FlumeEvent } from '../../core/event.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { ipFilterAccepts, parseIpFilterRules, type IpFilterRule } from '../avro/ip-filter.js';
import { APP_EXCEPTION, DEFAULT_MAX_FRAME_BYTES, ThriftFrameDecoder, decodeCall, encodeException, encodeReply, type ThriftMessageName, type ThriftProtocolName } from './protocol.js';
import { DEFAULT_MAX_TOTAL_FRAME_BYTES, RpcServerCounters, closeServer, listenServer, serverAddress, type RpcServerCommonOptions } from '../server-common.js';
import { DEFAULT_MAX_CALL_BYTES, type CallLimits, type CallTooLargeError } from '../call-limits.js';
import { RateLimitedLog } from '../../core/rate-limit.js';

export interface ThriftRpcServerOptions extends RpcServerCommonOptions {
  /** Must match the clients'. Default 'compact' (Flume's default). maxFrameBytes defaults to 16,384,000 (Java's TFastFramedTransport limit). */
  protocol?: ThriftProtocolName;
}

/** Receives the events of one call; true answers OK, false (or a throw) FAILED. Bodies are views into the frame. */
export type ThriftRpcHandler = (events: FlumeEvent[], kind: ThriftMessageName) => Promise<boolean>;

export class ThriftServerCounters extends RpcServerCounters {
  /** Calls answered with a TApplicationException (unknown method). */
  exceptions = 0;
}

export class ThriftRpcServer {
  readonly counters = new ThriftServerCounters();
  readonly logger: Logger;
  /** Warnings that repeat per connection or per call: first logged, then counted. */
  readonly warnings: RateLimitedLog;
  readonly callLimits: CallLimits;
  private readonly onCallRefused: ThriftRpcServerOptions['onCallRefused'];
  private readonly server: net.Server;
  private readonly connections = new Set<ThriftConnection>();
  private readonly rules: IpFilterRule[] | undefined;
  private closing: Promise<void> | undefined;
  readonly settings: { host: string; port: number; protocol: ThriftProtocolName; maxFrameBytes: number; frameStallTimeout: number; closeTimeout: number; maxTotalFrameBytes: number };
  /** @internal Bytes of unfinished frames held by all connections. */
  framesHeld = 0;

  constructor(
    options: ThriftRpcServerOptions,
    readonly handler: ThriftRpcHandler,
  ) {
    this.settings = Object.freeze({
      host: options.host ?? '0.0.0.0',
      port: options.port,
      protocol: options.protocol ?? 'compact',
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      frameStallTimeout: options.frameStallTimeout ?? 60_000,
      closeTimeout: options.closeTimeout ?? 5000,
      maxTotalFrameBytes: options.maxTotalFrameBytes ?? DEFAULT_MAX_TOTAL_FRAME_BYTES,
    });
    this.logger = options.logger ?? silentLogger;
    this.warnings = new RateLimitedLog(this.logger);
    this.callLimits = options.callLimits ?? { maxEvents: Infinity, maxBytes: DEFAULT_MAX_CALL_BYTES };
    this.onCallRefused = options.onCallRefused;
    this.rules = options.ipFilterRules === undefined ? undefined : parseIpFilterRules(options.ipFilterRules);
    const onSocket = (socket: net.Socket): void => this.onSocket(socket);
    if (options.tls) {
      const secureContext = tls.createSecureContext(options.tls);
      const s = tls.createServer({ ...options.tls, secureContext });
      s.on('secureConnection', onSocket);
      s.on('tlsClientError', (err, socket) => {
        this.counters.connectionsFailed++;
        this.warnings.warn('close:tls', `closing Thrift connection from ${socket.remoteAddress}:${socket.remotePort}: TLS: ${err.message}`);
      });
      this.server = s;
    } else {
      this.server = net.createServer(onSocket);
    }
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<net.AddressInfo> {
    return listenServer(this.server, this.settings.host, this.settings.port, this.logger, 'Thrift');
  }

  /** The bound address (the real port when listening on port 0). */
  address(): net.AddressInfo {
    return serverAddress(this.server, 'Thrift');
  }

  /** Stops accepting, lets running calls answer (up to closeTimeout), then closes every connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= closeServer(this.server, this.connections, this.settings.closeTimeout).finally(() => this.warnings.flush());
    return this.closing;
  }

  /** @internal A call refused by callLimits, answered FAILED. */
  refused(kind: ThriftMessageName, err: CallTooLargeError, remote: string): void {
    this.counters.callsRefused++;
    this.counters.callsFailed++;
    if (this.onCallRefused) this.onCallRefused(kind, err);
    else this.warnings.warn(`refused:${err.limit}`, `Thrift ${kind} from ${remote} answered FAILED: ${err.message}`);
  }

  /** @internal */
  removeConnection(c: ThriftConnection): void {
    if (this.connections.delete(c)) this.counters.connectionsOpen--;
  }

  private onSocket(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    const admit = (): void => {
      this.counters.connectionsAccepted++;
      this.counters.connectionsOpen++;
      this.connections.add(new ThriftConnection(this, socket));
    };
    if (this.rules === undefined) return admit();
    socket.pause();
    socket.on('error', () => socket.destroy());
    const remote = socket.remoteAddress ?? '';
    ipFilterAccepts(this.rules, remote).then(
      (ok) => {
        if (ok && !socket.destroyed && !this.closing) return admit();
        if (!ok) {
          this.counters.connectionsRejected++;
          this.logger.info(`Thrift connection from ${remote} refused by ipFilterRules`);
        }
        socket.destroy();
      },
      () => socket.destroy(),
    );
  }
}

/** Replies written and not yet taken by the client above which a connection is not read. */
const MAX_UNSENT_REPLY_BYTES = 64 * 1024;

class ThriftConnection {
  private readonly decoder: ThriftFrameDecoder;
  private readonly remote: string;
  private readonly queue: Buffer[] = [];
  private running = false;
  private closed = false;
  private stallTimer: NodeJS.Timeout | undefined;
  /** This connection's share of the server's framesHeld. */
  private heldCounted = 0;
  private idle: (() => void) | undefined;
  private readonly closedPromise: Promise<void>;

  constructor(
    private readonly server: ThriftRpcServer,
    private readonly socket: net.Socket,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.decoder = new ThriftFrameDecoder(server.settings.maxFrameBytes);
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.closed = true;
        this.clearStall();
        server.framesHeld -= this.heldCounted;
        this.heldCounted = 0;
        server.removeConnection(this);
        resolve();
      });
    });
    socket.on('error', (err) => this.fail('error', `connection error: ${err.message}`));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.resume();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.server.counters.framesRefused++;
      this.fail('frame', (err as Error).message);
      return;
    }
    // One budget for the unfinished frames of all connections.
    const server = this.server;
    const held = this.decoder.held;
    server.framesHeld += held - this.heldCounted;
    this.heldCounted = held;
    if (held > 0 && server.framesHeld > server.settings.maxTotalFrameBytes) {
      server.counters.framesRefused++;
      this.fail('all-frames', `unfinished frames of all connections hold more than ${server.settings.maxTotalFrameBytes} bytes (max-total-frame-bytes); this one holds ${held}`);
      return;
    }
    for (const f of frames) this.queue.push(f);
    this.server.counters.framesReceived += frames.length;
    // Calls are served one at a time; reading stops while some wait.
    if (this.queue.length > 0) this.socket.pause();
    this.watchStall();
    void this.drain();
  }

  private watchStall(): void {
    if (!this.closed && !this.socket.isPaused() && this.decoder.inFrame) {
      if (this.stallTimer) this.stallTimer.refresh();
      else {
        const ms = this.server.settings.frameStallTimeout;
        this.stallTimer = setTimeout(() => {
          this.stallTimer = undefined;
          if (this.closed || this.socket.isPaused() || !this.decoder.inFrame) return;
          this.server.counters.framesTruncated++;
          this.fail('stall', `no data for ${ms} ms in the middle of a frame`);
        }, ms);
        this.stallTimer.unref();
      }
    } else this.clearStall();
  }

  private clearStall(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  private onEnd(): void {
    if (this.decoder.inFrame) {
      this.server.counters.framesTruncated++;
      this.fail('truncated', 'peer closed the connection in the middle of a frame');
      return;
    }
    if (!this.running && this.queue.length === 0) this.socket.end();
    else this.idle = () => this.socket.end();
  }

  /** Closes this connection for a reason worth a (rate-limited, per `kind`) log line and a count. */
  private fail(kind: string, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.server.counters.connectionsFailed++;
    this.server.warnings.warn(`close:${kind}`, `closing Thrift connection from ${this.remote}: ${reason}`);
    this.socket.destroy();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.closed && this.queue.length > 0) await this.serve(this.queue.shift()!);
      // A client that sends calls and never reads the replies would grow our write
      // buffer without bound: read on only once they are taken.
      if (!this.closed && this.socket.writableLength > MAX_UNSENT_REPLY_BYTES) await this.repliesTaken();
    } finally {
      this.running = false;
    }
    if (this.closed) return;
    if (this.idle) {
      this.idle();
      return;
    }
    this.socket.resume();
    this.watchStall();
  }

  private async serve(body: Buffer): Promise<void> {
    const c = this.server.counters;
    const protocol = this.server.settings.protocol;
    let call;
    try {
      call = decodeCall(protocol, body, this.server.callLimits);
    } catch (err) {
      c.decodeErrors++;
      this.fail('decode', (err as Error).message);
      return;
    }
    if (call.refused) {
      const kind = call.name as ThriftMessageName;
      if (kind === 'append') c.appendReceived++;
      else c.appendBatchReceived++;
      this.write(encodeReply(protocol, kind, call.seqid, 'FAILED'));
      this.server.refused(kind, call.refused, this.remote);
      return;
    }
    if (call.events === undefined) {
      c.exceptions++;
      this.write(encodeException(protocol, call.name, call.seqid, APP_EXCEPTION.UNKNOWN_METHOD, `Invalid method name: '${call.name}'`));
      return;
    }
    const kind = call.name as ThriftMessageName;
    if (kind === 'append') c.appendReceived++;
    else c.appendBatchReceived++;
    c.eventsReceived += call.events.length;
    let ok = false;
    try {
      ok = (await this.server.handler(call.events, kind)) === true;
    } catch (err) {
      this.server.warnings.warn('handler', `Thrift ${kind} handler failed; answering FAILED: ${(err as Error)?.message ?? String(err)}`);
    }
    if (ok) c.callsOk++;
    else c.callsFailed++;
    this.write(encodeReply(protocol, kind, call.seqid, ok ? 'OK' : 'FAILED'));
  }

  /** Resolves when the socket's write buffer drained or the connection closed. */
  private repliesTaken(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private write(frame: Buffer): void {
    if (!this.closed && this.socket.writable) this.socket.write(frame);
  }

  async shutdown(deadline: number): Promise<void> {
    if (this.closed) return this.closedPromise;
    this.socket.pause();
    this.queue.length = 0;
    const left = (): number => Math.max(0, deadline - Date.now());
    if (this.running) {
      await Promise.race([new Promise<void>((resolve) => (this.idle = resolve)), new Promise<void>((resolve) => setTimeout(resolve, left()).unref()), this.closedPromise]);
    }
    if (!this.closed) this.socket.end();
    await Promise.race([this.closedPromise, new Promise<void>((resolve) => setTimeout(resolve, Math.min(1000, left())).unref())]);
    this.socket.destroy();
    await this.closedPromise;
  }
}
