/**
 * The byte layers under the framing: TCP, optional TLS, optional zlib, stacked the
 * way Flume stacks them, so that both ends agree on the order.
 */
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { AvroErrorCodes, avroError } from './errors.js';

export type Compression = 'none' | 'deflate';

/**
 * With both TLS and deflate on, Flume 1.10 and later put zlib *outside* TLS (the
 * zlib stream carries TLS records; Netty handlers added with addFirst), Flume 1.9
 * puts TLS outside zlib. The two generations cannot talk with both options on.
 * Default: the current releases' order.
 */
export type TlsDeflateOrder = 'deflate-outside-tls' | 'tls-outside-deflate';

export function checkCompressionLevel(level: number): number {
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw avroError(AvroErrorCodes.OPTION, `compression level must be an integer 0..9, got ${level}`);
  }
  return level;
}

/**
 * zlib (RFC 1950, as JZlib's ZLIB wrapper) over an inner byte stream: one deflate
 * stream out and one inflate stream in for the connection's whole life, and a
 * Z_SYNC_FLUSH after every write, so each data pack (written as one buffer) is
 * decodable by the peer as soon as it arrives. Ending finishes the zlib stream
 * (final block and Adler-32) before ending the inner stream, as Netty does.
 */
export class ZlibDuplex extends Duplex {
  private readonly deflate: zlib.Deflate;
  private readonly inflate: zlib.Inflate;

  constructor(
    private readonly inner: Duplex,
    level: number,
  ) {
    super();
    this.deflate = zlib.createDeflate({ level: checkCompressionLevel(level) });
    // A peer that closes at a pack boundary without finishing its zlib stream has
    // still sent whole packs; the frame decoder, not zlib, judges truncation.
    this.inflate = zlib.createInflate({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    this.deflate.pipe(inner);
    inner.pipe(this.inflate);
    this.inflate.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) this.inflate.pause();
    });
    this.inflate.on('end', () => this.push(null));
    this.inflate.on('error', (err) => {
      this.destroy(avroError(AvroErrorCodes.INFLATE, `compressed stream from peer is invalid: ${err.message}`, err));
    });
    this.deflate.on('error', (err) => this.destroy(err));
    inner.on('error', (err) => this.destroy(err));
    inner.on('close', () => {
      if (!this.destroyed && !this.readableEnded) this.destroy();
    });
  }

  override _read(): void {
    this.inflate.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.deflate.write(chunk);
    this.deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    // pipe() ends the inner stream once the deflater has emitted its trailer.
    this.deflate.once('end', () => cb());
    this.deflate.end();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.deflate.destroy();
    this.inflate.destroy();
    this.inner.destroy();
    cb(err);
  }
}

export interface LayerOptions {
  compression: Compression;
  compressionLevel: number;
  order: TlsDeflateOrder;
  /** Wraps a byte stream in TLS (server or client side), or undefined for none. */
  wrapTls?: ((inner: Duplex) => tls.TLSSocket) | undefined;
}

/**
 * Stacks TLS and zlib on a connected socket in the configured order. Returns the
 * stream frames go over, and every layer (socket included) so callers can watch
 * each one for errors.
 */
export function stackLayers(socket: Duplex, o: LayerOptions): { stream: Duplex; layers: Duplex[] } {
  const layers: Duplex[] = [socket];
  let stream = socket;
  const deflate = o.compression === 'deflate';
  if (deflate && (o.wrapTls === undefined || o.order === 'deflate-outside-tls')) {
    stream = new ZlibDuplex(stream, o.compressionLevel);
    layers.push(stream);
  }
  if (o.wrapTls) {
    stream = o.wrapTls(stream);
    layers.push(stream);
    if (deflate && o.order === 'tls-outside-deflate') {
      stream = new ZlibDuplex(stream, o.compressionLevel);
      layers.push(stream);
    }
  }
  return { stream, layers };
}
