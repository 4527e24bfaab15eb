/**
 * A STOMP 1.2 client, just what a consuming source needs: CONNECT, SUBSCRIBE,
 * ACK/NACK, heart-beats, over TCP or TLS. Written by hand rather than taken from npm:
 * the Node STOMP clients buffer without bound and cannot pause a socket, and the
 * frame format is a few lines; here every frame is bounded (headers and body: a body
 * over the limit is read past and reported, not kept) and reading stops while the
 * consumer is busy, so a broker cannot grow our memory.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';

export interface StompFrame {
  command: string;
  headers: Record<string, string>;
  body: Buffer;
  /** The body was larger than maxBodyBytes: it was read and dropped, `body` is empty. */
  oversize?: boolean;
}

export interface StompLimits {
  /** Largest header section (command and headers) of one frame. */
  maxHeaderBytes: number;
  /** Largest body of one frame. */
  maxBodyBytes: number;
}

export class StompProtocolError extends Error {}

const NUL = 0;
const LF = 0x0a;

/** STOMP 1.2 header escapes (not applied to CONNECT/CONNECTED). */
function unescapeHeader(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(.)/g, (m, c: string) => (c === 'n' ? '\n' : c === 'c' ? ':' : c === 'r' ? '\r' : c === '\\' ? '\\' : m));
}
function escapeHeader(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/:/g, '\\c').replace(/\r/g, '\\r');
}

/** Encodes a frame; headers are escaped except on CONNECT, as STOMP 1.2 says. */
export function encodeFrame(command: string, headers: Record<string, string>, body?: Buffer): Buffer {
  const esc = command === 'CONNECT' || command === 'STOMP' ? (s: string): string => s : escapeHeader;
  let head = command + '\n';
  for (const [k, v] of Object.entries(headers)) head += `${esc(k)}:${esc(v)}\n`;
  if (body && body.length > 0) head += `content-length:${body.length}\n`;
  return Buffer.concat([Buffer.from(head + '\n', 'utf8'), body ?? Buffer.alloc(0), Buffer.from([NUL])]);
}

/**
 * Incremental decoder: feed it socket reads, it returns whole frames. Heart-beat EOLs
 * between frames are skipped. Throws StompProtocolError on a frame over the limits.
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  /** An oversize frame being read past: its head, and the body bytes still to drop (-1: up to the NUL). */
  private skipping: { frame: StompFrame; remaining: number } | undefined;

  constructor(private readonly limits: StompLimits) {}

  push(chunk: Buffer): StompFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: StompFrame[] = [];
    for (;;) {
      if (this.skipping) {
        const sk = this.skipping;
        if (sk.remaining >= 0) {
          const n = Math.min(sk.remaining, this.buf.length);
          sk.remaining -= n;
          this.buf = this.buf.subarray(n);
          if (sk.remaining > 0 || this.buf.length === 0) break;
          sk.remaining = -1;
        }
        const nul = this.buf.indexOf(NUL);
        if (nul < 0) {
          this.buf = Buffer.alloc(0);
          break;
        }
        this.buf = this.buf.subarray(nul + 1);
        frames.push(sk.frame);
        this.skipping = undefined;
        continue;
      }
      let start = 0;
      while (start < this.buf.length && (this.buf[start] === LF || this.buf[start] === 0x0d)) start++;
      if (start > 0) this.buf = this.buf.subarray(start);
      if (this.buf.length === 0) break;
      const headEnd = findHeaderEnd(this.buf);
      if (headEnd < 0) {
        if (this.buf.length > this.limits.maxHeaderBytes) throw new StompProtocolError(`a frame's headers exceed ${this.limits.maxHeaderBytes} bytes`);
        break;
      }
      if (headEnd > this.limits.maxHeaderBytes) throw new StompProtocolError(`a frame's headers exceed ${this.limits.maxHeaderBytes} bytes`);
      const head = this.buf.subarray(0, headEnd).toString('utf8').replace(/\r\n/g, '\n');
      const lines = head.split('\n');
      const command = lines[0]!;
      const raw = command === 'CONNECTED';
      const headers: Record<string, string> = {};
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i]!;
        if (line === '') continue;
        const colon = line.indexOf(':');
        if (colon < 0) throw new StompProtocolError(`malformed header line in ${command} frame`);
        const k = raw ? line.slice(0, colon) : unescapeHeader(line.slice(0, colon));
        // The first of a repeated header wins (STOMP 1.2).
        if (!(k in headers)) headers[k] = raw ? line.slice(colon + 1) : unescapeHeader(line.slice(colon + 1));
      }
      const bodyStart = headEnd + separatorLength(this.buf, headEnd);
      const cl = headers['content-length'];
      let bodyEnd: number;
      if (cl !== undefined) {
        const n = Number(cl);
        if (!/^\d+$/.test(cl)) throw new StompProtocolError(`a ${command} frame has a bad content-length "${cl}"`);
        if (n > this.limits.maxBodyBytes) {
          // Read past it without keeping it, so the consumer can refuse it and go on.
          this.skipping = { frame: { command, headers, body: Buffer.alloc(0), oversize: true }, remaining: n };
          this.buf = this.buf.subarray(bodyStart);
          continue;
        }
        if (this.buf.length < bodyStart + n + 1) break;
        bodyEnd = bodyStart + n;
        if (this.buf[bodyEnd] !== NUL) throw new StompProtocolError(`a ${command} frame does not end with NUL after content-length bytes`);
      } else {
        bodyEnd = this.buf.indexOf(NUL, bodyStart);
        if (bodyEnd < 0) {
          if (this.buf.length - bodyStart > this.limits.maxBodyBytes) {
            this.skipping = { frame: { command, headers, body: Buffer.alloc(0), oversize: true }, remaining: -1 };
            this.buf = Buffer.alloc(0);
          }
          break;
        }
      }
      // The body is copied: it must not pin the whole read it came in.
      frames.push({ command, headers, body: Buffer.from(this.buf.subarray(bodyStart, bodyEnd)) });
      this.buf = this.buf.subarray(bodyEnd + 1);
    }
    return frames;
  }
}

/** Index of the blank line ending the headers (at its first EOL), or -1. */
function findHeaderEnd(b: Buffer): number {
  for (let i = b.indexOf(LF); i >= 0; i = b.indexOf(LF, i + 1)) {
    if (b[i + 1] === LF) return i;
    if (b[i + 1] === 0x0d && b[i + 2] === LF) return i;
  }
  return -1;
}
function separatorLength(b: Buffer, at: number): number {
  return b[at + 1] === LF ? 2 : 3;
}

export interface StompConnectOptions {
  host: string;
  port: number;
  tls?: tls.ConnectionOptions;
  login?: string;
  passcode?: string;
  /** ActiveMQ's client-id, needed for durable topic subscriptions. */
  clientId?: string;
  /** Heart-beat interval we offer and ask for (ms); 0 for none. */
  heartbeatMs: number;
  connectTimeoutMs: number;
  limits: StompLimits;
}

/**
 * One STOMP connection. Emits 'message' (StompFrame), 'error' (Error) and 'close'.
 * `pause()`/`resume()` stop and restart reading the socket (back-pressure).
 */
export class StompConnection extends EventEmitter {
  private socket: net.Socket | undefined;
  private readonly decoder: FrameDecoder;
  private beatOut: NodeJS.Timeout | undefined;
  private beatIn: NodeJS.Timeout | undefined;
  private lastRead = Date.now();
  private closed = false;

  constructor(private readonly o: StompConnectOptions) {
    super();
    this.decoder = new FrameDecoder(o.limits);
  }

  /** Connects and logs in; rejects with the broker's ERROR message, a timeout, or a protocol mismatch. */
  connect(): Promise<Record<string, string>> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`no STOMP answer from ${this.o.host}:${this.o.port} within ${this.o.connectTimeoutMs} ms`)), this.o.connectTimeoutMs);
      const sock = this.o.tls ? tls.connect({ host: this.o.host, port: this.o.port, ...this.o.tls }) : net.connect(this.o.port, this.o.host);
      this.socket = sock;
      sock.setNoDelay(true);
      sock.once(this.o.tls ? 'secureConnect' : 'connect', () => {
        const hb = `${this.o.heartbeatMs},${this.o.heartbeatMs}`;
        const headers: Record<string, string> = { 'accept-version': '1.2', host: this.o.host, 'heart-beat': hb };
        if (this.o.login !== undefined) headers.login = this.o.login;
        if (this.o.passcode !== undefined) headers.passcode = this.o.passcode;
        if (this.o.clientId) headers['client-id'] = this.o.clientId;
        sock.write(encodeFrame('CONNECT', headers));
      });
      let first = true;
      sock.on('data', (chunk: Buffer) => {
        this.lastRead = Date.now();
        if (first && !settled) {
          first = false;
          // An OpenWire broker answers with its WireFormatInfo (it carries the magic "ActiveMQ").
          if (chunk.includes('ActiveMQ') && !chunk.subarray(0, 10).toString('latin1').startsWith('CONNECTED')) {
            return fail(new StompProtocolError('the port answers OpenWire, not STOMP'));
          }
        }
        let frames: StompFrame[];
        try {
          frames = this.decoder.push(chunk);
        } catch (err) {
          if (!settled) return fail(err as Error);
          this.emit('error', err);
          this.destroy();
          return;
        }
        for (const f of frames) {
          if (!settled) {
            if (f.command === 'CONNECTED') {
              settled = true;
              clearTimeout(timer);
              this.startHeartbeats(f.headers['heart-beat']);
              resolve(f.headers);
            } else if (f.command === 'ERROR') {
              fail(new Error(f.headers.message ?? f.body.toString('utf8').split('\n')[0] ?? 'ERROR'));
            } else {
              fail(new StompProtocolError(`expected CONNECTED, got ${f.command}`));
            }
            continue;
          }
          if (f.command === 'MESSAGE') this.emit('message', f);
          else if (f.command === 'ERROR') this.emit('error', new Error(f.headers.message ?? f.body.toString('utf8').trim()));
          else if (f.command === 'RECEIPT') this.emit('receipt', f.headers['receipt-id']);
        }
      });
      sock.on('error', (err) => {
        if (!settled) fail(err);
        else this.emit('error', err);
      });
      sock.on('close', () => {
        if (!settled) fail(new StompProtocolError('the connection was closed before STOMP answered (is this a STOMP port?)'));
        this.stopHeartbeats();
        if (!this.closed) {
          this.closed = true;
          this.emit('close');
        }
      });
    });
  }

  subscribe(headers: Record<string, string>): void {
    this.write(encodeFrame('SUBSCRIBE', headers));
  }

  ack(id: string): void {
    this.write(encodeFrame('ACK', { id }));
  }

  /** One ACK per message (client-individual), written together. */
  ackAll(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.write(Buffer.concat(ids.map((id) => encodeFrame('ACK', { id }))));
  }

  nack(id: string): void {
    this.write(encodeFrame('NACK', { id }));
  }

  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
  }

  /** DISCONNECT politely, then close. */
  async close(): Promise<void> {
    if (this.closed || !this.socket) return;
    const sock = this.socket;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        sock.destroy();
        resolve();
      }, 1000);
      sock.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      sock.end(encodeFrame('DISCONNECT', {}));
    });
    this.destroy();
  }

  destroy(): void {
    this.stopHeartbeats();
    this.socket?.destroy();
  }

  private write(b: Buffer): void {
    if (this.socket && !this.socket.destroyed) this.socket.write(b);
  }

  private startHeartbeats(serverHb: string | undefined): void {
    const [sx, sy] = (serverHb ?? '0,0').split(',').map(Number) as [number, number];
    const ours = this.o.heartbeatMs;
    if (ours > 0 && sy > 0) {
      const every = Math.max(ours, sy);
      this.beatOut = setInterval(() => this.write(Buffer.from('\n')), every);
      this.beatOut.unref();
    }
    if (ours > 0 && sx > 0) {
      const every = Math.max(ours, sx);
      // Silence for twice the agreed interval means the broker is gone.
      this.beatIn = setInterval(() => {
        if (Date.now() - this.lastRead > every * 2 && !this.socket?.isPaused()) {
          this.emit('error', new Error(`no data or heart-beat from the broker for ${every * 2} ms`));
          this.destroy();
        }
      }, every);
      this.beatIn.unref();
    }
  }

  private stopHeartbeats(): void {
    if (this.beatOut) clearInterval(this.beatOut);
    if (this.beatIn) clearInterval(this.beatIn);
    this.beatOut = this.beatIn = undefined;
  }
}
