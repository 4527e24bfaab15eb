/**
 * The client side of Flume's Avro RPC (what AvroSink and `flume-ng avro-client` use,
 * NettyAvroRpcClient in Java). The first call on a connection carries the handshake
 * and completes before any other call is written; after that, calls may be
 * pipelined and their responses are matched by serial.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { FlumeEvent } from '../../core/event.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { setLongTimeout, type LongTimer } from '../../core/timers.js';
import { BinaryReader } from './binary.js';
import { AvroErrorCodes, avroError } from './errors.js';
import { DEFAULT_FRAME_LIMITS, FrameDecoder, encodeFrame, packPayload, splitPayload, type DataPack } from './framing.js';
import {
  CALL_HEADERS,
  LOCAL_PROTOCOL,
  PROTOCOL_HASH,
  PROTOCOL_TEXT,
  decodeCallResponse,
  decodeHandshakeResponse,
  encodeAppendBatchParams,
  encodeAppendParams,
  encodeHandshakeRequest,
  parseRemoteProtocol,
  type CallOutcome,
  type HandshakeResponse,
  type MessageName,
  type RemoteProtocol,
} from './protocol.js';
import { checkCompressionLevel, stackLayers, type Compression, type TlsDeflateOrder } from './transport.js';

/** Flume's client SSL settings, on top of any Node TLS client option. */
export interface AvroClientTlsOptions extends tls.ConnectionOptions {
  /** TLS on (default true when this object is given; false turns it off). */
  ssl?: boolean;
  /** Accept any server certificate (Flume's trust-all-certs). */
  trustAllCerts?: boolean;
}

export interface AvroRpcClientOptions {
  host: string;
  port: number;
  /** TCP + TLS connect, and the first (handshake) call, in ms. Default 20000 (Flume's connect-timeout). */
  connectTimeout?: number;
  /** Every later call, in ms. Default 20000 (Flume's request-timeout). */
  requestTimeout?: number;
  /** Must match the server's setting. Default 'none'. */
  compression?: Compression;
  /** 0..9, default 6. */
  compressionLevel?: number;
  /**
   * TLS as Flume's client does it: no client certificate, no host name check, no SNI.
   * Trust comes from `ca` (else Node's default roots) unless `trustAllCerts`.
   */
  tls?: AvroClientTlsOptions;
  /** Only with both TLS and deflate; default 'deflate-outside-tls' (Flume >= 1.10). */
  tlsDeflateOrder?: TlsDeflateOrder;
  /** Bounds on response packs (defaults as the server's). */
  maxBuffers?: number;
  maxFrameBytes?: number;
  logger?: Logger;
}

export class AvroRpcClient {
  private readonly o: Required<Omit<AvroRpcClientOptions, 'tls' | 'logger'>> & { tls: AvroClientTlsOptions | undefined };
  private readonly logger: Logger;
  private conn: ClientConnection | undefined;
  private connecting: Promise<ClientConnection> | undefined;
  private learnedHash: Buffer = PROTOCOL_HASH;
  private learnedProtocol: RemoteProtocol = LOCAL_PROTOCOL;

  constructor(options: AvroRpcClientOptions) {
    this.o = {
      host: options.host,
      port: options.port,
      connectTimeout: options.connectTimeout ?? 20_000,
      requestTimeout: options.requestTimeout ?? 20_000,
      compression: options.compression ?? 'none',
      compressionLevel: checkCompressionLevel(options.compressionLevel ?? 6),
      tls: options.tls && options.tls.ssl !== false ? options.tls : undefined,
      tlsDeflateOrder: options.tlsDeflateOrder ?? 'deflate-outside-tls',
      maxBuffers: options.maxBuffers ?? DEFAULT_FRAME_LIMITS.maxBuffers,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_FRAME_LIMITS.maxFrameBytes,
    };
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * The server's protocol hash as learned from a CLIENT or NONE answer (ours until
   * then). It is kept across reconnects, as Java keeps it per remote address, so
   * the next handshake guesses right.
   */
  get serverHash(): Buffer {
    return this.learnedHash;
  }

  /** @internal The server's protocol (ours until a CLIENT or NONE answer says otherwise). */
  get serverProtocol(): RemoteProtocol {
    return this.learnedProtocol;
  }

  /** @internal Records what a CLIENT or NONE answer said about the server. */
  learnServer(hash: Buffer, protocol: RemoteProtocol): void {
    this.learnedHash = Buffer.from(hash);
    this.learnedProtocol = protocol;
  }

  /** True while a connection is open and usable. */
  get isConnected(): boolean {
    return this.conn !== undefined && this.conn.failure === undefined;
  }

  /**
   * Opens the connection (TCP, then TLS) within connectTimeout. The handshake
   * travels with the first call. A no-op when already connected.
   */
  async connect(): Promise<void> {
    if (this.isConnected) return;
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    this.conn = await this.connecting;
  }

  /** Sends one event; resolves on OK, rejects on FAILED/UNKNOWN, an error response, a timeout or a broken connection. */
  async append(event: FlumeEvent): Promise<void> {
    return this.call('append', encodeEvents(encodeAppendParams, event));
  }

  /** Sends a batch in one call; same outcome rules as append(). */
  async appendBatch(events: readonly FlumeEvent[]): Promise<void> {
    return this.call('appendBatch', encodeEvents(encodeAppendBatchParams, events));
  }

  /** Closes the connection; calls still running reject with FTS_ERR_AVRO_CLOSED. */
  async close(): Promise<void> {
    const c = this.conn ?? (await this.connecting?.catch(() => undefined));
    this.conn = undefined;
    if (c) await c.close();
  }

  private call(kind: MessageName, params: Buffer): Promise<void> {
    const c = this.conn;
    if (c === undefined) return Promise.reject(avroError(AvroErrorCodes.CLOSED, `not connected to ${this.o.host}:${this.o.port}`));
    return c.call(kind, params);
  }

  private open(): Promise<ClientConnection> {
    const o = this.o;
    return new Promise<ClientConnection>((resolve, reject) => {
      const socket = net.connect({ host: o.host, port: o.port });
      let settled = false;
      const timer = setLongTimeout(() => {
        done(avroError(AvroErrorCodes.CONNECT_TIMEOUT, `no connection to ${o.host}:${o.port} within ${o.connectTimeout} ms`));
      }, o.connectTimeout);
      const done = (err: Error | undefined, conn?: ClientConnection): void => {
        if (settled) return;
        settled = true;
        timer.clear();
        socket.off('error', onError);
        if (err) {
          socket.destroy();
          reject(err);
        } else {
          resolve(conn!);
        }
      };
      const onError = (err: Error): void => done(avroError(AvroErrorCodes.CLOSED, `cannot connect to ${o.host}:${o.port}: ${err.message}`, err));
      socket.on('error', onError);
      socket.once('connect', () => {
        socket.setNoDelay(true);
        socket.setKeepAlive(true);
        const t = o.tls;
        let tlsSocket: tls.TLSSocket | undefined;
        const { stream, layers } = stackLayers(socket, {
          compression: o.compression,
          compressionLevel: o.compressionLevel,
          order: o.tlsDeflateOrder,
          wrapTls:
            t === undefined
              ? undefined
              : (inner: Duplex) => {
                  const { ssl: _ssl, trustAllCerts, ...rest } = t;
                  // No host is passed: Flume's engine has no peer name, hence no SNI and no name check.
                  tlsSocket = tls.connect({
                    ...rest,
                    socket: inner,
                    rejectUnauthorized: !trustAllCerts,
                    checkServerIdentity: () => undefined,
                  });
                  return tlsSocket;
                },
        });
        const conn = new ClientConnection(this, stream, layers, socket, o, this.logger);
        if (tlsSocket === undefined) return done(undefined, conn);
        // Until the TLS handshake is done, its errors fail connect().
        const onTlsError = (err: Error): void => done(avroError(AvroErrorCodes.CLOSED, `TLS to ${o.host}:${o.port} failed: ${err.message}`, err));
        for (const l of layers) l.once('error', onTlsError);
        tlsSocket.once('secureConnect', () => {
          for (const l of layers) l.off('error', onTlsError);
          done(undefined, conn);
        });
        void conn.closed.then(() => done(avroError(AvroErrorCodes.CLOSED, `connection to ${o.host}:${o.port} closed during TLS setup`)));
      });
    });
  }
}

interface PendingCall {
  expectHandshake: boolean;
  timer: LongTimer;
  resolve(r: { handshake: HandshakeResponse | undefined; outcome: CallOutcome | undefined }): void;
  reject(err: Error): void;
}

class ClientConnection {
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<number, PendingCall>();
  private readonly remote: string;
  private serial = 0;
  private established = false;
  /** Held while the handshake call is running; other calls wait for it. */
  private gate: Promise<void> | undefined;
  failure: Error | undefined;
  readonly closed: Promise<void>;

  constructor(
    private readonly client: AvroRpcClient,
    private readonly stream: Duplex,
    layers: readonly Duplex[],
    private readonly socket: net.Socket,
    private readonly o: { host: string; port: number; connectTimeout: number; requestTimeout: number; maxBuffers: number; maxFrameBytes: number },
    private readonly logger: Logger,
  ) {
    this.remote = `${o.host}:${o.port}`;
    this.decoder = new FrameDecoder({ maxBuffers: o.maxBuffers, maxFrameBytes: o.maxFrameBytes });
    const onError = (err: Error & { code?: string }): void => {
      const coded = typeof err.code === 'string' && err.code.startsWith('FTS_ERR_AVRO_');
      this.fail(coded ? err : avroError(AvroErrorCodes.CLOSED, `connection to ${this.remote} failed: ${err.message}`, err));
    };
    for (const l of layers) l.on('error', onError);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => this.fail(avroError(AvroErrorCodes.CLOSED, `connection to ${this.remote} closed`)));
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => {
      const why = this.decoder.inFrame ? 'server closed the connection in the middle of a frame' : 'server closed the connection';
      this.fail(avroError(this.decoder.inFrame ? AvroErrorCodes.FRAME_TRUNCATED : AvroErrorCodes.CLOSED, `${why} (${this.remote})`));
    });
  }

  async call(kind: MessageName, params: Buffer): Promise<void> {
    for (;;) {
      if (this.failure) throw avroError(AvroErrorCodes.CLOSED, `connection to ${this.remote} is closed`, this.failure);
      if (this.established) {
        if (!this.client.serverProtocol.messages.has(kind)) throw incompatible(kind);
        const { outcome } = await this.send(kind, params, null, this.o.requestTimeout);
        return settle(kind, outcome!);
      }
      if (this.gate !== undefined) {
        await this.gate;
        continue;
      }
      let release!: () => void;
      this.gate = new Promise((resolve) => (release = resolve));
      try {
        return await this.handshakeCall(kind, params);
      } finally {
        this.gate = undefined;
        release();
      }
    }
  }

  /** The call that carries the handshake: BOTH/CLIENT finish it, NONE makes us resend once with our protocol text. */
  private async handshakeCall(kind: MessageName, params: Buffer): Promise<void> {
    let sendProtocol = false;
    for (;;) {
      const hs = encodeHandshakeRequest(sendProtocol ? PROTOCOL_TEXT : null, this.client.serverHash);
      const { handshake, outcome } = await this.send(kind, params, hs, this.o.connectTimeout);
      const h = handshake!;
      if (h.match !== 'BOTH') {
        if (h.serverProtocol === null || h.serverHash === null) {
          throw this.fail(avroError(AvroErrorCodes.HANDSHAKE, `handshake ${h.match} from ${this.remote} lacks the server protocol`));
        }
        let protocol: RemoteProtocol;
        try {
          protocol = parseRemoteProtocol(h.serverProtocol);
        } catch (err) {
          throw this.fail(err as Error);
        }
        this.client.learnServer(h.serverHash, protocol);
      }
      if (h.match === 'NONE') {
        if (sendProtocol) throw this.fail(avroError(AvroErrorCodes.HANDSHAKE, `${this.remote} answered NONE twice`));
        if (!this.client.serverProtocol.messages.has(kind)) throw this.fail(incompatible(kind));
        sendProtocol = true;
        continue;
      }
      this.established = true;
      if (!this.client.serverProtocol.messages.has(kind)) throw incompatible(kind);
      return settle(kind, outcome!);
    }
  }

  private send(kind: MessageName, params: Buffer, handshake: Buffer | null, timeoutMs: number): Promise<{ handshake: HandshakeResponse | undefined; outcome: CallOutcome | undefined }> {
    return new Promise((resolve, reject) => {
      // Serials wrap to negative after 2^31-1, as Java's do; that is fine on the wire.
      const serial = (this.serial = (this.serial + 1) | 0);
      const header = handshake === null ? CALL_HEADERS[kind] : Buffer.concat([handshake, CALL_HEADERS[kind]]);
      const timer = setLongTimeout(() => {
        this.pending.delete(serial);
        const err = avroError(AvroErrorCodes.TIMEOUT, `${kind} to ${this.remote} got no response within ${timeoutMs} ms`);
        reject(err);
        // The server may still act on the call; the connection's state is unknown, so drop it (as Flume does).
        this.fail(avroError(AvroErrorCodes.CLOSED, `connection to ${this.remote} dropped after a timeout`, err));
      }, timeoutMs);
      this.pending.set(serial, { expectHandshake: handshake !== null, timer, resolve, reject });
      this.stream.write(encodeFrame(serial, [header, ...splitPayload(params)]));
    });
  }

  private onData(chunk: Buffer): void {
    let packs: readonly DataPack[];
    try {
      packs = this.decoder.push(chunk);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    for (let i = 0; i < packs.length && this.failure === undefined; i++) this.onPack(packs[i]!);
  }

  private onPack(pack: DataPack): void {
    const call = this.pending.get(pack.serial);
    if (call === undefined) {
      this.fail(avroError(AvroErrorCodes.UNEXPECTED_SERIAL, `${this.remote} answered serial ${pack.serial}, which no call is waiting for`));
      return;
    }
    this.pending.delete(pack.serial);
    call.timer.clear();
    let handshake: HandshakeResponse | undefined;
    let outcome: CallOutcome | undefined;
    try {
      const r = new BinaryReader(packPayload(pack));
      if (call.expectHandshake) handshake = decodeHandshakeResponse(r);
      // A NONE answer is the handshake alone.
      if (handshake?.match !== 'NONE') outcome = decodeCallResponse(r);
    } catch (err) {
      call.reject(err as Error);
      this.fail(avroError(AvroErrorCodes.DECODE, `undecodable response from ${this.remote}`, err));
      return;
    }
    call.resolve({ handshake, outcome });
  }

  /** Marks the connection dead, fails every waiting call, and destroys the streams. Returns the error. */
  fail(err: Error): Error {
    if (this.failure) return err;
    this.failure = err;
    for (const call of this.pending.values()) {
      call.timer.clear();
      call.reject(err);
    }
    this.pending.clear();
    if (!this.socket.destroyed) this.logger.debug(`Avro RPC connection to ${this.remote} closed: ${err.message}`);
    this.stream.destroy();
    this.socket.destroy();
    return err;
  }

  /** Ends the streams gracefully (zlib trailer, TLS close_notify), then drops what is left after a second. */
  async close(): Promise<void> {
    if (this.failure === undefined) {
      const err = avroError(AvroErrorCodes.CLOSED, `client closed the connection to ${this.remote}`);
      this.failure = err;
      for (const call of this.pending.values()) {
        call.timer.clear();
        call.reject(err);
      }
      this.pending.clear();
      this.stream.end();
      const t = setTimeout(() => this.socket.destroy(), 1000);
      await this.closed;
      clearTimeout(t);
    }
    this.stream.destroy();
    this.socket.destroy();
    await this.closed;
  }
}

/** avsc refuses a non-string header value or a non-Buffer body; say which rule was broken. */
function encodeEvents<T>(encode: (v: T) => Buffer, value: T): Buffer {
  try {
    return encode(value);
  } catch (err) {
    throw avroError(AvroErrorCodes.BAD_EVENT, `event cannot be encoded (headers must be strings, body a Buffer): ${(err as Error).message}`, err);
  }
}

function settle(kind: MessageName, outcome: CallOutcome): void {
  if (outcome.error !== undefined) throw avroError(AvroErrorCodes.REMOTE_ERROR, `${kind} failed on the server: ${outcome.error}`);
  if (outcome.status !== 'OK') throw avroError(AvroErrorCodes.STATUS, `${kind} answered ${outcome.status}`);
}

function incompatible(kind: MessageName): Error {
  return avroError(AvroErrorCodes.HANDSHAKE, `the server's protocol has no ${kind} message compatible with AvroSourceProtocol`);
}
