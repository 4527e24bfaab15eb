/**
 * The server side of Flume's Avro RPC (what AvroSource runs): Netty-framed packs over
 * TCP, optionally TLS and zlib, a stateful handshake per connection, and calls
 * answered by serial as soon as the handler settles, so pipelined calls are served
 * concurrently. A broken connection is closed and counted; it never affects others.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { FlumeEvent } from '../../core/event.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { BinaryReader } from './binary.js';
import { AvroErrorCodes } from './errors.js';
import { DEFAULT_FRAME_LIMITS, FrameDecoder, encodeFrame, packPayload, splitPayload, type DataPack } from './framing.js';
import { ipFilterAccepts, parseIpFilterRules, type IpFilterRule } from './ip-filter.js';
import {
  EMPTY_META,
  HANDSHAKE_RESPONSES,
  KNOWN_PROTOCOL_HASHES,
  LOCAL_PROTOCOL,
  STATUS_PAYLOADS,
  decodeHandshakeRequest,
  encodeSystemErrorPayload,
  handshakeMatch,
  parseRemoteProtocol,
  type MessageName,
  type RemoteProtocol,
} from './protocol.js';
import { checkCompressionLevel, stackLayers, type Compression, type TlsDeflateOrder } from './transport.js';
import { DEFAULT_MAX_TOTAL_FRAME_BYTES, RpcServerCounters, closeServer, listenServer, serverAddress, type RpcServerCommonOptions } from '../server-common.js';
import { CallBudget, CallTooLargeError, DEFAULT_MAX_CALL_BYTES, type CallLimits } from '../call-limits.js';
import { RateLimitedLog } from '../../core/rate-limit.js';

export interface AvroRpcServerOptions extends RpcServerCommonOptions {
  /** Must match the clients' setting: there is no negotiation. Default 'none'. */
  compression?: Compression;
  /** 0..9; AvroSource always uses 6. */
  compressionLevel?: number;
  /** Only with both TLS and deflate; default 'deflate-outside-tls' (Flume >= 1.10). */
  tlsDeflateOrder?: TlsDeflateOrder;
  /** Most buffers one pack may announce (default 65,536). maxFrameBytes defaults to 64 MiB. */
  maxBuffers?: number;
  /** Calls one connection may have running; reading pauses beyond it (default 64). */
  maxPendingCalls?: number;
  /**
   * Estimated heap the decoded calls of one connection may hold while they run;
   * reading pauses beyond it (default 256 MiB).
   */
  maxConnectionBytes?: number;
  /** With deflate: the most bytes one frame may inflate to (default 16 MiB); a larger frame closes the connection. */
  maxInflatedBytes?: number;
  /**
   * With deflate: the most inflated bytes of unfinished frames all connections together
   * may hold (default 64 MiB); the connection that goes beyond it is closed.
   */
  maxTotalInflatedBytes?: number;
}

/**
 * Receives the events of one call. true answers OK, false FAILED; a rejection or a
 * throw also answers FAILED (and is logged), so the client always gets a status.
 * Bodies are views into the received frame (no copy per event).
 */
export type AvroRpcHandler = (events: FlumeEvent[], kind: MessageName) => Promise<boolean>;

export class AvroServerCounters extends RpcServerCounters {
  /** Handshakes completed (BOTH or CLIENT). */
  handshakes = 0;
  /** Handshakes answered NONE (the client must resend with its protocol). */
  handshakesNone = 0;
  /** Calls answered with an Avro system error (unknown message, undecodable parameters). */
  systemErrors = 0;
}

export const DEFAULT_MAX_CONNECTION_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_INFLATED_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_TOTAL_INFLATED_BYTES = 64 * 1024 * 1024;

/** Protocols learned from clients' handshakes, by hash; bounded so clients cannot grow it. */
const MAX_CACHED_PROTOCOLS = 64;
const EMPTY: Buffer = Buffer.alloc(0);

export class AvroRpcServer {
  readonly counters = new AvroServerCounters();
  private readonly server: net.Server;
  private readonly connections = new Set<ServerConnection>();
  private readonly protocols = new Map<string, RemoteProtocol>();
  private readonly rules: IpFilterRule[] | undefined;
  private readonly secureContext: tls.SecureContext | undefined;
  private closing: Promise<void> | undefined;
  /** Resolved options, shared by all connections. */
  readonly settings: {
    readonly host: string;
    readonly port: number;
    readonly compression: Compression;
    readonly compressionLevel: number;
    readonly order: TlsDeflateOrder;
    readonly maxBuffers: number;
    readonly maxFrameBytes: number;
    readonly maxPendingCalls: number;
    readonly closeTimeout: number;
    readonly frameStallTimeout: number;
    readonly maxConnectionBytes: number;
    readonly maxInflatedBytes: number;
    readonly maxTotalInflatedBytes: number;
    readonly maxTotalFrameBytes: number;
  };
  readonly logger: Logger;
  /** Warnings that repeat per connection or per call: first logged, then counted. */
  readonly warnings: RateLimitedLog;
  readonly callLimits: CallLimits;
  /** @internal Bytes (inflated, with deflate) of unfinished frames held by all connections. */
  framesHeld = 0;

  constructor(
    private readonly options: AvroRpcServerOptions,
    readonly handler: AvroRpcHandler,
  ) {
    this.settings = Object.freeze({
      host: options.host ?? '0.0.0.0',
      port: options.port,
      compression: options.compression ?? 'none',
      compressionLevel: checkCompressionLevel(options.compressionLevel ?? 6),
      order: options.tlsDeflateOrder ?? 'deflate-outside-tls',
      maxBuffers: options.maxBuffers ?? DEFAULT_FRAME_LIMITS.maxBuffers,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_FRAME_LIMITS.maxFrameBytes,
      maxPendingCalls: options.maxPendingCalls ?? 64,
      closeTimeout: options.closeTimeout ?? 5000,
      frameStallTimeout: options.frameStallTimeout ?? 60_000,
      maxConnectionBytes: options.maxConnectionBytes ?? DEFAULT_MAX_CONNECTION_BYTES,
      maxInflatedBytes: options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES,
      maxTotalInflatedBytes: options.maxTotalInflatedBytes ?? DEFAULT_MAX_TOTAL_INFLATED_BYTES,
      maxTotalFrameBytes: options.maxTotalFrameBytes ?? DEFAULT_MAX_TOTAL_FRAME_BYTES,
    });
    this.logger = options.logger ?? silentLogger;
    this.warnings = new RateLimitedLog(this.logger);
    this.callLimits = options.callLimits ?? { maxEvents: Infinity, maxBytes: DEFAULT_MAX_CALL_BYTES };
    this.rules = options.ipFilterRules === undefined ? undefined : parseIpFilterRules(options.ipFilterRules);
    this.secureContext = options.tls ? tls.createSecureContext(options.tls) : undefined;
    for (const hash of KNOWN_PROTOCOL_HASHES) this.protocols.set(hash, LOCAL_PROTOCOL);
    // Half-open: after a client's FIN we still answer its running calls and finish
    // our zlib stream before ending our side.
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.onSocket(socket));
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<net.AddressInfo> {
    return listenServer(this.server, this.settings.host, this.settings.port, this.logger, 'Avro');
  }

  /** The bound address (the real port when listening on port 0). */
  address(): net.AddressInfo {
    return serverAddress(this.server, 'Avro');
  }

  /** Stops accepting, lets running calls answer (up to closeTimeout), then closes every connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= closeServer(this.server, this.connections, this.settings.closeTimeout).finally(() => this.warnings.flush());
    return this.closing;
  }

  /** @internal The protocol a client hash stands for, if known. */
  knownProtocol(hashHex: string): RemoteProtocol | undefined {
    return this.protocols.get(hashHex);
  }

  /** @internal */
  learnProtocol(hashHex: string, protocol: RemoteProtocol): void {
    if (this.protocols.size < MAX_CACHED_PROTOCOLS + KNOWN_PROTOCOL_HASHES.size) this.protocols.set(hashHex, protocol);
  }

  /** @internal A call refused by callLimits, answered FAILED. */
  refused(kind: MessageName, err: CallTooLargeError, remote: string): void {
    this.counters.callsRefused++;
    this.counters.callsFailed++;
    if (this.options.onCallRefused) this.options.onCallRefused(kind, err);
    else this.warnings.warn(`refused:${err.limit}`, `Avro RPC ${kind} from ${remote} answered FAILED: ${err.message}`);
  }

  /** @internal */
  removeConnection(c: ServerConnection): void {
    if (this.connections.delete(c)) this.counters.connectionsOpen--;
  }

  private onSocket(socket: net.Socket): void {
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    if (this.rules === undefined) {
      this.admit(socket);
      return;
    }
    // Until the filter decides nothing reads the socket; errors meanwhile just close it.
    const onEarlyError = (): void => void socket.destroy();
    socket.on('error', onEarlyError);
    const remote = socket.remoteAddress ?? '';
    ipFilterAccepts(this.rules, remote).then(
      (ok) => {
        socket.off('error', onEarlyError);
        if (ok && !socket.destroyed && !this.closing) return this.admit(socket);
        if (!ok) {
          this.counters.connectionsRejected++;
          this.logger.info(`Avro RPC connection from ${remote} refused by ipFilterRules`);
        }
        socket.destroy();
      },
      () => socket.destroy(),
    );
  }

  private admit(socket: net.Socket): void {
    const secureContext = this.secureContext;
    const tlsOptions = this.options.tls;
    const { stream, layers } = stackLayers(socket, {
      compression: this.settings.compression,
      compressionLevel: this.settings.compressionLevel,
      order: this.settings.order,
      wrapTls: secureContext === undefined ? undefined : (inner: Duplex) => new tls.TLSSocket(inner as net.Socket, { ...tlsOptions, isServer: true, secureContext }),
    });
    this.counters.connectionsAccepted++;
    this.counters.connectionsOpen++;
    const c = new ServerConnection(this, socket, stream, layers);
    this.connections.add(c);
  }
}

/** One client connection: its decoder, handshake state and running calls. */
class ServerConnection {
  private readonly decoder: FrameDecoder;
  private readonly remote: string;
  private established = false;
  /** The client's protocol once the handshake is done. */
  private protocol: RemoteProtocol = LOCAL_PROTOCOL;
  private pending = 0;
  /** Estimated heap of the decoded calls running (CallBudget), bounded by maxConnectionBytes. */
  private heldBytes = 0;
  /** This connection's share of the server's framesHeld. */
  private heldCounted = 0;
  private readonly inflating: boolean;
  private paused = false;
  /** Our responses are not being read (the write buffer is full). */
  private writeBlocked = false;
  private closed = false;
  private shuttingDown = false;
  private idle: (() => void) | undefined;
  /** Runs while part of a frame is held and reading is not paused by us. */
  private stallTimer: NodeJS.Timeout | undefined;
  readonly closedPromise: Promise<void>;

  constructor(
    private readonly server: AvroRpcServer,
    private readonly socket: net.Socket,
    private readonly stream: Duplex,
    layers: readonly Duplex[],
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const s = server.settings;
    this.inflating = s.compression === 'deflate';
    // With deflate a few kilobytes on the wire can announce a whole frame: the frame
    // may inflate to maxInflatedBytes at most.
    this.decoder = new FrameDecoder({
      maxBuffers: s.maxBuffers,
      maxFrameBytes: this.inflating ? Math.min(s.maxFrameBytes, s.maxInflatedBytes) : s.maxFrameBytes,
    });
    const onError = (err: Error): void => this.onError(err);
    for (const l of layers) l.on('error', onError);
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.closed = true;
        this.clearStallTimer();
        server.framesHeld -= this.heldCounted;
        this.heldCounted = 0;
        server.removeConnection(this);
        this.stream.destroy();
        resolve();
      });
    });
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => this.onEnd());
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let packs: readonly DataPack[];
    try {
      packs = this.decoder.push(chunk);
    } catch (err) {
      this.server.counters.framesRefused++;
      this.fail(`frame:${(err as { code?: string }).code}`, (err as Error).message);
      return;
    }
    // One budget for the unfinished frames of all connections.
    const server = this.server;
    const held = this.decoder.held;
    server.framesHeld += held - this.heldCounted;
    this.heldCounted = held;
    if (held > 0) {
      const max = this.inflating ? server.settings.maxTotalInflatedBytes : server.settings.maxTotalFrameBytes;
      if (server.framesHeld > max) {
        server.counters.framesRefused++;
        this.fail(
          'all-frames',
          this.inflating
            ? `unfinished frames of all connections inflate to more than ${max} bytes (max-total-inflated-bytes); this one holds ${held}`
            : `unfinished frames of all connections hold more than ${max} bytes (max-total-frame-bytes); this one holds ${held}`,
        );
        return;
      }
    }
    for (let i = 0; i < packs.length && !this.closed; i++) this.onPack(packs[i]!);
    this.watchStall();
  }

  /** Arms the stall timer while a frame is half received and we are reading; clears it otherwise. */
  private watchStall(): void {
    if (!this.closed && !this.paused && this.decoder.inFrame) {
      if (this.stallTimer) this.stallTimer.refresh();
      else {
        const ms = this.server.settings.frameStallTimeout;
        this.stallTimer = setTimeout(() => {
          this.stallTimer = undefined;
          if (this.closed || this.paused || !this.decoder.inFrame) return;
          this.server.counters.framesTruncated++;
          this.fail('stall', `no data for ${ms} ms in the middle of a frame`);
        }, ms);
        this.stallTimer.unref();
      }
    } else {
      this.clearStallTimer();
    }
  }

  private clearStallTimer(): void {
    if (this.stallTimer) {
      clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
    }
  }

  private onEnd(): void {
    if (this.decoder.inFrame) {
      this.server.counters.framesTruncated++;
      this.fail('truncated', 'peer closed the connection in the middle of a frame');
      return;
    }
    this.endWhenIdle();
  }

  private onError(err: Error & { code?: string }): void {
    if (this.closed) return;
    if (this.decoder.inFrame) this.server.counters.framesTruncated++;
    if (err.code === AvroErrorCodes.INFLATE) this.fail('inflate', err.message);
    else this.fail('error', `connection error: ${err.message}`);
  }

  /** Closes this connection for a reason worth a (rate-limited, per `kind`) log line and a count. */
  private fail(kind: string, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.server.counters.connectionsFailed++;
    this.server.warnings.warn(`close:${kind}`, `closing Avro RPC connection from ${this.remote}: ${reason}`);
    this.stream.destroy();
    this.socket.destroy();
  }

  private onPack(pack: DataPack): void {
    const counters = this.server.counters;
    counters.framesReceived++;
    const r = new BinaryReader(packPayload(pack));
    let handshake: Buffer = EMPTY;
    if (!this.established) {
      // Before the handshake completes, every pack must start with a HandshakeRequest;
      // if it does not decode, this is not an Avro RPC client.
      let clientProtocol: RemoteProtocol | undefined;
      let serverHash: Buffer;
      try {
        const hs = decodeHandshakeRequest(r);
        serverHash = hs.serverHash;
        const clientHex = hs.clientHash.toString('hex');
        clientProtocol = this.server.knownProtocol(clientHex);
        if (clientProtocol === undefined && hs.clientProtocol !== null) {
          clientProtocol = parseRemoteProtocol(hs.clientProtocol);
          this.server.learnProtocol(clientHex, clientProtocol);
        }
      } catch (err) {
        counters.decodeErrors++;
        this.fail('handshake', `bad handshake: ${(err as Error).message}`);
        return;
      }
      const match = handshakeMatch(serverHash, clientProtocol !== undefined);
      handshake = HANDSHAKE_RESPONSES[match];
      if (match === 'NONE') {
        // Only the handshake goes back; the client resends with its protocol text.
        counters.handshakesNone++;
        this.write(pack.serial, [handshake]);
        return;
      }
      counters.handshakes++;
      this.established = true;
      this.protocol = clientProtocol!;
    }
    let name: string;
    try {
      r.skipBytesMap();
      name = r.readString();
    } catch (err) {
      counters.decodeErrors++;
      this.systemError(pack.serial, handshake, `org.apache.avro.AvroRuntimeException: ${(err as Error).message}`);
      return;
    }
    if (name === '') {
      // A handshake-only "ping": the handshake buffer is the whole answer.
      this.write(pack.serial, [handshake]);
      return;
    }
    if (name !== 'append' && name !== 'appendBatch') {
      this.systemError(pack.serial, handshake, `org.apache.avro.AvroRuntimeException: No such remote message: ${name}`);
      return;
    }
    if (!this.protocol.messages.has(name)) {
      this.systemError(pack.serial, handshake, `org.apache.avro.AvroRuntimeException: message ${name} of the client's protocol does not match AvroSourceProtocol`);
      return;
    }
    let events: FlumeEvent[];
    // Every announced block is charged before its items are built.
    const budget = new CallBudget(this.server.callLimits, pack.byteLength);
    r.budget = budget;
    try {
      if (name === 'append') {
        budget.addEvents(1);
        events = [r.readEvent()];
      } else events = r.readEventArray();
    } catch (err) {
      if (err instanceof CallTooLargeError) {
        if (name === 'append') counters.appendReceived++;
        else counters.appendBatchReceived++;
        this.write(pack.serial, [handshake, EMPTY_META, STATUS_PAYLOADS.FAILED]);
        this.server.refused(name, err, this.remote);
        return;
      }
      counters.decodeErrors++;
      this.systemError(pack.serial, handshake, `org.apache.avro.AvroRuntimeException: ${(err as Error).message}`);
      return;
    }
    if (name === 'append') counters.appendReceived++;
    else counters.appendBatchReceived++;
    counters.eventsReceived += events.length;
    this.pending++;
    this.heldBytes += budget.bytes;
    this.updateFlow();
    void this.invoke(pack.serial, handshake, events, name, budget.bytes);
  }

  private async invoke(serial: number, handshake: Buffer, events: FlumeEvent[], kind: MessageName, cost: number): Promise<void> {
    let ok = false;
    try {
      ok = (await this.server.handler(events, kind)) === true;
    } catch (err) {
      this.server.warnings.warn('handler', `Avro RPC ${kind} handler failed; answering FAILED: ${(err as Error)?.message ?? String(err)}`);
    }
    if (ok) this.server.counters.callsOk++;
    else this.server.counters.callsFailed++;
    this.write(serial, [handshake, EMPTY_META, STATUS_PAYLOADS[ok ? 'OK' : 'FAILED']]);
    this.pending--;
    this.heldBytes -= cost;
    this.updateFlow();
    if (this.pending === 0 && this.idle) this.idle();
  }

  private systemError(serial: number, handshake: Buffer, text: string): void {
    this.server.counters.systemErrors++;
    this.write(serial, [handshake, EMPTY_META, ...splitPayload(encodeSystemErrorPayload(text))]);
  }

  private write(serial: number, buffers: Buffer[]): void {
    if (this.closed || this.stream.writableEnded) return;
    if (!this.stream.write(encodeFrame(serial, buffers)) && !this.writeBlocked) {
      this.writeBlocked = true;
      this.updateFlow();
      this.stream.once('drain', () => {
        this.writeBlocked = false;
        this.updateFlow();
      });
    }
  }

  /**
   * Reading stops while too many calls run or while the client does not read our
   * answers, so a client cannot make us buffer without bound.
   */
  private updateFlow(): void {
    const s = this.server.settings;
    const stop = this.shuttingDown || this.writeBlocked || this.pending >= s.maxPendingCalls || this.heldBytes >= s.maxConnectionBytes;
    if (stop && !this.paused) {
      this.paused = true;
      this.stream.pause();
      this.clearStallTimer();
    } else if (!stop && this.paused) {
      this.paused = false;
      this.stream.resume();
      this.watchStall();
    }
  }

  /** After the peer's end of stream: answer what is running, then end ours. */
  private endWhenIdle(): void {
    const end = (): void => {
      if (!this.stream.writableEnded) this.stream.end();
    };
    if (this.pending === 0) end();
    else this.idle = end;
  }

  /** Stops reading, lets running calls answer until `deadline`, ends the stream, then drops what is left. */
  async shutdown(deadline: number): Promise<void> {
    if (this.closed) return this.closedPromise;
    this.shuttingDown = true;
    this.updateFlow();
    const wait = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const t = setTimeout(resolve, Math.max(0, ms));
        void this.closedPromise.then(() => {
          clearTimeout(t);
          resolve();
        });
      });
    if (this.pending > 0) {
      await Promise.race([new Promise<void>((resolve) => (this.idle = resolve)), wait(deadline - Date.now())]);
    }
    if (!this.closed && !this.stream.writableEnded) this.stream.end();
    await wait(Math.min(1000, Math.max(0, deadline - Date.now())));
    this.socket.destroy();
    await this.closedPromise;
  }
}
