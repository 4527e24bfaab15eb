import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';

/**
 * kafkajs ships gzip only. Snappy, the codec Java producers use most, comes from
 * kafkajs-snappy (pure JavaScript): with it the source and channel read snappy topics
 * and the sink can write them. lz4 and zstd need native modules and are not included.
 */
const require = createRequire(import.meta.url);
const SnappyCodec = require('kafkajs-snappy') as () => { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(buffer: Buffer): Promise<Buffer> };
// kafkajs is CommonJS and exposes CompressionCodecs on its default export only.
(kafkajs.CompressionCodecs as Record<number, unknown>)[kafkajs.CompressionTypes.Snappy] = SnappyCodec;

export {};
