/**
 * Encryption at rest for the file channel: AES in CTR mode (node:crypto), the key
 * stream indexed by the absolute file offset (counter = a random 128-bit nonce per log
 * file + offset / 16), so any byte range — one event at its pointer — can be decrypted
 * on its own. Record headers stay clear (replay finds records and checks their CRC,
 * computed over the encrypted bytes, without keys); payloads are encrypted.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { readPkcs12SecretKeys } from './pkcs12.js';

export interface KeyRing {
  /** Alias of the key new log files are written with. */
  active: string;
  keys: ReadonlyMap<string, Buffer>;
}

/** Where the keys are read from: a key file per alias (FILE), or a PKCS12 key store (JCEKSFILE). */
export interface EncryptionConfig {
  active: string;
  /** Every alias ever used → its key file (FILE), or '' when the keys are in a store. */
  keyFiles: ReadonlyMap<string, string>;
  store?: {
    file: string;
    passwordFile: string;
    /** Per-key password files; the store's password otherwise (as in Flume). */
    keyPasswordFiles: ReadonlyMap<string, string>;
  };
}

const readPassword = (file: string): string => fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');

function readStore(c: NonNullable<EncryptionConfig['store']>): Map<string, Buffer> {
  const bytes = fs.readFileSync(c.file);
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0xcececece) {
    throw new Error(
      `${c.file} is a Java JCEKS key store, which only Java reads; convert it to PKCS12 with: keytool -importkeystore -srckeystore ${c.file} ` +
        `-srcstoretype JCEKS -destkeystore ${c.file}.p12 -deststoretype PKCS12, then set encryption.keyProvider.keyStoreFile to the .p12 file`,
    );
  }
  const storePassword = readPassword(c.passwordFile);
  try {
    return readPkcs12SecretKeys(bytes, (alias) => {
      const f = c.keyPasswordFiles.get(alias);
      return f ? readPassword(f) : storePassword;
    });
  } catch (e) {
    throw new Error(`${c.file}: ${(e as Error).message}`);
  }
}

/** Reads a key file: 16, 24 or 32 raw bytes, or their hex (whitespace ignored). */
export function readKeyFile(alias: string, file: string): Buffer {
  const raw = fs.readFileSync(file);
  const text = raw.toString('latin1').trim();
  const key = /^[0-9a-fA-F\s]+$/.test(text) && [32, 48, 64].includes(text.replace(/\s+/g, '').length) ? Buffer.from(text.replace(/\s+/g, ''), 'hex') : raw;
  if (![16, 24, 32].includes(key.length)) {
    throw new Error(`key ${alias} in ${file}: expected 16, 24 or 32 bytes (raw, or as hex), found ${raw.length} bytes`);
  }
  return key;
}

export function loadKeyRing(c: EncryptionConfig): KeyRing {
  const keys = new Map<string, Buffer>();
  const store = c.store ? readStore(c.store) : undefined;
  for (const [alias, file] of c.keyFiles) {
    if (store) {
      const k = store.get(alias);
      if (!k) throw new Error(`key ${alias} is not in ${c.store!.file} (it holds: ${[...store.keys()].join(', ') || 'no secret keys'})`);
      if (![16, 24, 32].includes(k.length)) throw new Error(`key ${alias} in ${c.store!.file} is ${k.length} bytes; AES needs 16, 24 or 32`);
      keys.set(alias, k);
    } else keys.set(alias, readKeyFile(alias, file));
  }
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
