/**
 * The client side of Flume's Thrift RPC (what ThriftSink uses, ThriftRpcClient in
 * Java): one connection, framed messages, compact or binary protocol, one call at a
 * time (a reply must carry the sequence id of the call). Any failure closes the
 * connection; the next call needs connect() again.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { FlumeEvent } from '../../core/event.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { setLongTimeout, type LongTimer } from '../../core/timers.js';
import { DEFAULT_MAX_FRAME_BYTES, ThriftErrorCodes, ThriftFrameDecoder, decodeReply, encodeCall, thriftError, type ThriftMessageName, type ThriftProtocolName } from './protocol.js';

export interface ThriftClientTlsOptions extends tls.ConnectionOptions {
  /** Accept any server certificate (Flume's trust-all-certs). */
  trustAllCerts?: boolean;
}

export interface ThriftRpcClientOptions {
  host: string;
  port: number;
  /** Default 'compact'. */
  protocol?: ThriftProtocolName;
  /** TCP (and TLS) connect, ms. Default 20000. */
  connectTimeout?: number;
  /** Each call, ms. Default 20000. */
  requestTimeout?: number;
  /** TLS as Flume's client: no host name check; trust from `ca` (else Node's roots) unless trustAllCerts. */
  tls?: ThriftClientTlsOptions;
  maxFrameBytes?: number;
  logger?: Logger;
}

export class ThriftRpcClient {
  private socket: net.Socket | undefined;
  private decoder: ThriftFrameDecoder | undefined;
  private failure: Error | undefined;
  private seqid = 0;
  private pending: { seqid: number; name: string; resolve(): void; reject(err: Error): void; timer: LongTimer } | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly o: Required<Omit<ThriftRpcClientOptions, 'tls' | 'logger'>> & { tls: ThriftClientTlsOptions | undefined };
  private readonly logger: Logger;

  constructor(options: ThriftRpcClientOptions) {
    this.o = {
      host: options.host,
      port: options.port,
      protocol: options.protocol ?? 'compact',
      connectTimeout: options.connectTimeout ?? 20_000,
      requestTimeout: options.requestTimeout ?? 20_000,
      tls: options.tls,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    };
    this.logger = options.logger ?? silentLogger;
  }

  get isConnected(): boolean {
    return this.socket !== undefined && this.failure === undefined;
  }

  /** Opens the connection (TCP, then TLS) within connectTimeout; a no-op when connected. */
  async connect(): Promise<void> {
    if (this.isConnected) return;
    const o = this.o;
    const where = `${o.host}:${o.port}`;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      let s: net.Socket;
      const timer = setLongTimeout(() => {
        s.destroy();
        reject(thriftError(ThriftErrorCodes.CONNECT_TIMEOUT, `no connection to ${where} within ${o.connectTimeout} ms`));
      }, o.connectTimeout);
      const onError = (err: Error): void => {
        timer.clear();
        s.destroy();
        reject(thriftError(ThriftErrorCodes.CLOSED, `${o.tls ? 'TLS to' : 'cannot connect to'} ${where}${o.tls ? ' failed' : ''}: ${err.message}`, err));
      };
      const onReady = (): void => {
        timer.clear();
        s.off('error', onError);
        resolve(s);
      };
      if (o.tls) {
        const { trustAllCerts, ...rest } = o.tls;
        s = tls.connect({ ...rest, host: o.host, port: o.port, rejectUnauthorized: !trustAllCerts, checkServerIdentity: () => undefined });
        s.once('secureConnect', onReady);
      } else {
        s = net.connect({ host: o.host, port: o.port });
        s.once('connect', onReady);
      }
      s.once('error', onError);
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    this.socket = socket;
    this.failure = undefined;
    this.decoder = new ThriftFrameDecoder(o.maxFrameBytes);
    // Events of an old socket must not touch a newer connection.
    const mine = (): boolean => this.socket === socket;
    socket.on('data', (chunk: Buffer) => mine() && this.onData(chunk));
    socket.on('error', (err) => mine() && this.fail(thriftError(ThriftErrorCodes.CLOSED, `connection to ${where} failed: ${err.message}`, err)));
    socket.on('close', () => mine() && this.fail(thriftError(ThriftErrorCodes.CLOSED, `connection to ${where} closed`)));
  }

  append(event: FlumeEvent): Promise<void> {
    return this.call('append', [event]);
  }

  appendBatch(events: readonly FlumeEvent[]): Promise<void> {
    return this.call('appendBatch', events);
  }

  /** Closes the connection; a call still running rejects. */
  async close(): Promise<void> {
    const s = this.socket;
    this.fail(thriftError(ThriftErrorCodes.CLOSED, `client closed the connection to ${this.o.host}:${this.o.port}`));
    if (s && !s.closed) await new Promise<void>((resolve) => s.once('close', () => resolve()));
  }

  private call(name: ThriftMessageName, events: readonly FlumeEvent[]): Promise<void> {
    // One call at a time on the connection.
    const p = this.chain.then(() => this.send(name, events));
    this.chain = p.catch(() => {});
    return p;
  }

  private send(name: ThriftMessageName, events: readonly FlumeEvent[]): Promise<void> {
    const where = `${this.o.host}:${this.o.port}`;
    if (!this.socket || this.failure) return Promise.reject(thriftError(ThriftErrorCodes.CLOSED, `not connected to ${where}`, this.failure));
    const seqid = (this.seqid = (this.seqid + 1) | 0);
    const frame = encodeCall(this.o.protocol, name, seqid, events);
    return new Promise<void>((resolve, reject) => {
      const timer = setLongTimeout(() => {
        this.pending = undefined;
        const err = thriftError(ThriftErrorCodes.TIMEOUT, `${name} to ${where} got no response within ${this.o.requestTimeout} ms`);
        reject(err);
        this.fail(err);
      }, this.o.requestTimeout);
      this.pending = { seqid, name, resolve, reject, timer };
      this.socket!.write(frame);
    });
  }

  private onData(chunk: Buffer): void {
    const where = `${this.o.host}:${this.o.port}`;
    let frames: Buffer[];
    try {
      frames = this.decoder!.push(chunk);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    for (const f of frames) {
      const call = this.pending;
      if (!call) {
        this.fail(thriftError(ThriftErrorCodes.DECODE, `${where} sent a reply nobody waits for`));
        return;
      }
      this.pending = undefined;
      call.timer.clear();
      let reply;
      try {
        reply = decodeReply(this.o.protocol, f);
      } catch (err) {
        call.reject(err as Error);
        this.fail(err as Error);
        return;
      }
      if (reply.seqid !== call.seqid) {
        const err = thriftError(ThriftErrorCodes.DECODE, `${where} answered sequence id ${reply.seqid} to call ${call.seqid}`);
        call.reject(err);
        this.fail(err);
        return;
      }
      if (reply.error !== undefined) call.reject(thriftError(ThriftErrorCodes.REMOTE_ERROR, `${call.name} failed on the server: ${reply.error}`));
      else if (reply.status !== 'OK') call.reject(thriftError(ThriftErrorCodes.STATUS, `${call.name} answered ${reply.status}`));
      else call.resolve();
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const call = this.pending;
    this.pending = undefined;
    if (call) {
      call.timer.clear();
      call.reject(err);
    }
    if (this.socket && !this.socket.destroyed) {
      this.logger.debug(`Thrift connection to ${this.o.host}:${this.o.port} closed: ${err.message}`);
      this.socket.destroy();
    }
  }
}
