/**
 * Encryption at rest for the file channel: AES in CTR mode (node:crypto), the key
 * stream indexed by the absolute file offset (counter = a random 128-bit nonce per log
 * file + offset / 16), so any byte range — one event at its pointer — can be decrypted
 * on its own. Record headers stay clear (replay finds records and checks their CRC,
 * computed over the encrypted bytes, without keys); payloads are encrypted.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';

export interface KeyRing {
  /** Alias of the key new log files are written with. */
  active: string;
  keys: ReadonlyMap<string, Buffer>;
}

/** Where each key is read from: alias → key file. */
export interface EncryptionConfig {
  active: string;
  keyFiles: ReadonlyMap<string, string>;
}

/** Reads a key file: 16, 24 or 32 raw bytes, or their hex (whitespace ignored). */
export function readKeyFile(alias: string, file: string): Buffer {
  const raw = fs.readFileSync(file);
  const text = raw.toString('latin1').trim();
  const key = /^[0-9a-fA-F\s]+$/.test(text) && [32, 48, 64].includes(text.replace(/\s+/g, '').length)
    ? Buffer.from(text.replace(/\s+/g, ''), 'hex')
    : raw;
  if (![16, 24, 32].includes(key.length)) {
    throw new Error(`key ${alias} in ${file}: expected 16, 24 or 32 bytes (raw, or as hex), found ${raw.length} bytes`);
  }
  return key;
}

export function loadKeyRing(c: EncryptionConfig): KeyRing {
  const keys = new Map<string, Buffer>();
  for (const [alias, file] of c.keyFiles) keys.set(alias, readKeyFile(alias, file));
  if (!keys.has(c.active)) throw new Error(`the active key ${c.active} is not among the keys (${[...keys.keys()].join(', ')})`);
  return { active: c.active, keys };
}

function counterAt(nonce: Buffer, block: number): Buffer {
  const iv = Buffer.from(nonce);
  let carry = block;
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const v = iv[i]! + (carry % 256);
    iv[i] = v & 0xff;
    carry = Math.floor(carry / 256) + (v >> 8);
  }
  return iv;
}

/** `data` (which sits at `offset` in its file) encrypted or decrypted: CTR is its own inverse. */
export function cryptAt(key: Buffer, nonce: Buffer, offset: number, data: Uint8Array): Buffer {
  const c = crypto.createCipheriv(`aes-${key.length * 8}-ctr`, key, counterAt(nonce, Math.floor(offset / 16)));
  const skip = offset % 16;
  if (skip > 0) c.update(Buffer.alloc(skip));
  return c.update(data);
}

export function newNonce(): Buffer {
  return crypto.randomBytes(16);
}
