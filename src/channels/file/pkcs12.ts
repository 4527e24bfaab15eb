/**
 * Reads the secret (AES) keys of a PKCS12 key store, as `keytool -genseckey -storetype
 * PKCS12` writes them: SecretBags holding PKCS#8-shrouded keys encrypted with PBES2
 * (PBKDF2 + AES-CBC), named by their friendlyName. Hand-written because Node has no
 * PKCS12 reader and the libraries that read PKCS12 (node-forge) skip secret bags; this
 * is a small DER walk plus node:crypto.
 */
import crypto from 'node:crypto';

interface Node {
  tag: number;
  start: number;
  end: number;
}

function read(b: Buffer, at: number): Node {
  const tag = b[at]!;
  let len = b[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i]!;
    p += n;
  }
  if (p + len > b.length) throw new Error('DER value runs past its end');
  return { tag, start: p, end: p + len };
}

function children(b: Buffer, n: Node): Node[] {
  const out: Node[] = [];
  for (let at = n.start; at < n.end; ) {
    const c = read(b, at);
    out.push(c);
    at = c.end;
  }
  return out;
}

const hex = (b: Buffer, n: Node): string => b.toString('hex', n.start, n.end).toUpperCase();
const body = (b: Buffer, n: Node): Buffer => b.subarray(n.start, n.end);
function int(b: Buffer, n: Node): number {
  let v = 0;
  for (let i = n.start; i < n.end; i++) v = v * 256 + b[i]!;
  return v;
}

const OID = {
  data: '2A864886F70D010701',
  secretBag: '2A864886F70D010C0A0105',
  shrouded: '2A864886F70D010C0A0102',
  friendlyName: '2A864886F70D010914',
  pbes2: '2A864886F70D01050D',
  pbkdf2: '2A864886F70D01050C',
};
const PRF: Record<string, string> = {
  '2A864886F70D0207': 'sha1',
  '2A864886F70D0208': 'sha224',
  '2A864886F70D0209': 'sha256',
  '2A864886F70D020A': 'sha384',
  '2A864886F70D020B': 'sha512',
};
const AES: Record<string, number> = { '608648016503040102': 16, '608648016503040116': 24, '60864801650304012A': 32 };

function decryptShrouded(b: Buffer, epki: Node, password: string, alias: string): Buffer {
  const [alg, data] = children(b, epki);
  const [algOid, params] = children(b, alg!);
  if (hex(b, algOid!) !== OID.pbes2) throw new Error(`key ${alias} is protected with an algorithm other than PBES2 (re-create the store with keytool from Java 11 or later)`);
  const [kdf, enc] = children(b, params!);
  const [kdfOid, kdfParams] = children(b, kdf!);
  if (hex(b, kdfOid!) !== OID.pbkdf2) throw new Error(`key ${alias}: unsupported key derivation`);
  const kp = children(b, kdfParams!);
  const salt = body(b, kp[0]!);
  const iterations = int(b, kp[1]!);
  let prf = 'sha1';
  for (const c of kp.slice(2)) if (c.tag === 0x30) prf = PRF[hex(b, children(b, c)[0]!)] ?? '';
  if (!prf) throw new Error(`key ${alias}: unsupported PBKDF2 hash`);
  const [encOid, iv] = children(b, enc!);
  const keyLen = AES[hex(b, encOid!)];
  if (!keyLen) throw new Error(`key ${alias}: unsupported cipher (AES-CBC expected)`);
  const k = crypto.pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, keyLen, prf);
  let plain: Buffer;
  try {
    const d = crypto.createDecipheriv(`aes-${keyLen * 8}-cbc`, k, body(b, iv!));
    plain = Buffer.concat([d.update(body(b, data!)), d.final()]);
  } catch {
    throw new Error(`key ${alias} cannot be decrypted: wrong password`);
  }
  // PrivateKeyInfo { version, AlgorithmIdentifier, OCTET STRING key }
  const pki = children(plain, read(plain, 0));
  return Buffer.from(body(plain, pki[2]!));
}

/** The secret keys of a PKCS12 store, by alias; `passwordFor(alias)` gives each key's password. */
export function readPkcs12SecretKeys(file: Buffer, passwordFor: (alias: string) => string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const pfx = children(file, read(file, 0));
  const authSafe = children(file, pfx[1]!);
  if (hex(file, authSafe[0]!) !== OID.data) throw new Error('not a password-integrity PKCS12 store');
  const octets = children(file, authSafe[1]!)[0]!;
  for (const ci of children(file, read(file, octets.start))) {
    const [ciOid, ciContent] = children(file, ci);
    if (hex(file, ciOid!) !== OID.data || !ciContent) continue; // encrypted parts hold certificates
    const safeContents = children(file, ciContent)[0]!;
    for (const bag of children(file, read(file, safeContents.start))) {
      const [bagId, bagValue, attrs] = children(file, bag);
      if (hex(file, bagId!) !== OID.secretBag || !bagValue) continue;
      let alias: string | undefined;
      for (const attr of attrs ? children(file, attrs) : []) {
        const [aOid, aSet] = children(file, attr);
        if (hex(file, aOid!) === OID.friendlyName) {
          const v = children(file, aSet!)[0]!;
          alias = Buffer.from(body(file, v)).swap16().toString('utf16le');
        }
      }
      if (!alias) continue;
      const [typeOid, wrapped] = children(file, children(file, bagValue)[0]!);
      if (hex(file, typeOid!) !== OID.shrouded) continue;
      const epkiOctets = children(file, wrapped!)[0]!;
      out.set(alias, decryptShrouded(file, read(file, epkiOctets.start), passwordFor(alias), alias));
    }
  }
  return out;
}
