import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';

/**
 * kafkajs ships gzip only; the other codecs Kafka clients use are registered here, all
 * pure JavaScript or WebAssembly (nothing to compile): snappy from kafkajs-snappy, lz4
 * (the LZ4 frame format Kafka uses) from lz4js, zstd from @bokuweb/zstd-wasm. With them
 * the source and channel read topics a Java producer compressed any way, and the sink
 * writes any of them.
 */
const require = createRequire(import.meta.url);

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

const SnappyCodec = require('kafkajs-snappy') as () => Codec;

const lz4 = require('lz4js') as { compress(data: Uint8Array): Uint8Array; decompress(data: Uint8Array): Uint8Array };
const Lz4Codec = (): Codec => ({
  compress: async (encoder) => asBuffer(lz4.compress(encoder.buffer)),
  decompress: async (buffer) => asBuffer(lz4.decompress(buffer)),
});

const zstd = require('@bokuweb/zstd-wasm') as { init(): Promise<void>; compress(data: Uint8Array, level: number): Uint8Array; decompress(data: Uint8Array): Uint8Array };
/** The WebAssembly module is loaded on first use, so an agent without zstd topics never pays for it. */
let zstdReady: Promise<void> | undefined;
/** The Java client's default level. */
const ZSTD_LEVEL = 3;
const ZstdCodec = (): Codec => ({
  compress: async (encoder) => {
    await (zstdReady ??= zstd.init());
    return asBuffer(zstd.compress(encoder.buffer, ZSTD_LEVEL));
  },
  decompress: async (buffer) => {
    await (zstdReady ??= zstd.init());
    return asBuffer(zstd.decompress(buffer));
  },
});

// kafkajs is CommonJS and exposes CompressionCodecs on its default export only.
const codecs = kafkajs.CompressionCodecs as Record<number, () => Codec>;
codecs[kafkajs.CompressionTypes.Snappy] = SnappyCodec;
codecs[kafkajs.CompressionTypes.LZ4] = Lz4Codec;
codecs[kafkajs.CompressionTypes.ZSTD] = ZstdCodec;

export {};
