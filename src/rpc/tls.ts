// Flume's TLS keys (keystores, truststores, protocol and cipher lists, FLUME_SSL_* fallbacks)
// mapped onto Node's TLS; shared by the avro and thrift sources and sinks and avro-client.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { constants as cryptoConstants } from 'node:crypto';
import type { AvroClientTlsOptions } from './avro/client.js';
import { ConfigError, ErrorCodes, opt, systemProperty, type Context, type OptionProblem, type Options } from '../plugin-api/index.js';

/** Flume's server-side TLS keys (avro, thrift, and later syslogtcp, http). */
export const SERVER_TLS_OPTIONS = {
  ssl: opt.boolean(false, 'Serve TLS (keystore and keystore-password are then required; -Djavax.net.ssl.keyStore* or FLUME_SSL_KEYSTORE_* stand in for them).'),
  keystore: opt.optionalString(
    'The server key and certificate: a PKCS12 file (.p12/.pfx), or a PEM file holding the key and certificate chain. Java KeyStores (JKS) must be converted to PKCS12 first.',
  ),
  'keystore-password': opt.secret('Password of the keystore (for PEM: of the private key, if it is encrypted). Never printed.'),
  'keystore-type': opt.enum(
    ['JKS', 'PKCS12', 'PEM'],
    'JKS',
    "Accepted for compatibility: the file's content decides (Java, too, reads PKCS12 declared as JKS); a real JKS file is refused with the keytool command that converts it.",
  ),
  'exclude-protocols': opt.list(['SSLv3'], 'TLS protocol versions to refuse (space separated); SSLv3 is always refused.'),
  'include-protocols': opt.list([], 'TLS protocol versions to allow (space separated; default TLSv1.2 TLSv1.3); exclude-protocols applies after.'),
  'exclude-cipher-suites': opt.list([], 'Cipher suites to refuse (space separated, Java/IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or OpenSSL names).'),
  'include-cipher-suites': opt.list([], "Cipher suites to allow (space separated; default Node's defaults); exclude-cipher-suites applies after."),
};

type GlobalSsl =
  | 'KEYSTORE_PATH'
  | 'KEYSTORE_PASSWORD'
  | 'KEYSTORE_TYPE'
  | 'TRUSTSTORE_PATH'
  | 'TRUSTSTORE_PASSWORD'
  | 'TRUSTSTORE_TYPE'
  | 'INCLUDE_PROTOCOLS'
  | 'EXCLUDE_PROTOCOLS'
  | 'INCLUDE_CIPHERSUITES'
  | 'EXCLUDE_CIPHERSUITES';

/** The -D property behind each FLUME_SSL_<name> environment variable. */
const SSL_PROPERTY: Record<GlobalSsl, string> = {
  KEYSTORE_PATH: 'javax.net.ssl.keyStore',
  KEYSTORE_PASSWORD: 'javax.net.ssl.keyStorePassword',
  KEYSTORE_TYPE: 'javax.net.ssl.keyStoreType',
  TRUSTSTORE_PATH: 'javax.net.ssl.trustStore',
  TRUSTSTORE_PASSWORD: 'javax.net.ssl.trustStorePassword',
  TRUSTSTORE_TYPE: 'javax.net.ssl.trustStoreType',
  INCLUDE_PROTOCOLS: 'flume.ssl.include.protocols',
  EXCLUDE_PROTOCOLS: 'flume.ssl.exclude.protocols',
  INCLUDE_CIPHERSUITES: 'flume.ssl.include.cipherSuites',
  EXCLUDE_CIPHERSUITES: 'flume.ssl.exclude.cipherSuites',
};

/**
 * Flume's global SSL settings, used where a component does not set its own key: the
 * -D system property (javax.net.ssl.keyStore, ...) wins over the FLUME_SSL_*
 * environment variable. Global settings never turn TLS on by themselves.
 */
export function sslGlobal(name: GlobalSsl): string | undefined {
  for (const v of [systemProperty(SSL_PROPERTY[name]), process.env[`FLUME_SSL_${name}`]]) {
    if (v !== undefined && v.trim() !== '') return v.trim();
  }
  return undefined;
}

/** How a global setting is named in messages. */
export function sslGlobalNames(name: GlobalSsl): string {
  return `-D${SSL_PROPERTY[name]} or FLUME_SSL_${name}`;
}

/** A key's list value, or the comma-separated environment fallback when the key is absent. */
function listOrEnv(ctx: Context, key: string, value: readonly string[], env: GlobalSsl): readonly string[] {
  if (ctx.containsKey(key)) return value;
  const e = sslGlobal(env);
  return e === undefined ? value : e.split(/[\s,]+/).filter(Boolean);
}

export type StoreFormat = 'PKCS12' | 'PEM' | 'JKS' | 'JCEKS' | 'unknown';

/** What a key or trust store file really is, by its first bytes (Java also reads PKCS12 declared as JKS). */
export function detectStoreFormat(data: Buffer): StoreFormat {
  if (data.length >= 4 && data.readUInt32BE(0) === 0xfeedfeed) return 'JKS';
  if (data.length >= 4 && data.readUInt32BE(0) === 0xcececece) return 'JCEKS';
  if (data.includes('-----BEGIN ')) return 'PEM';
  if (data.length > 0 && data[0] === 0x30) return 'PKCS12';
  return 'unknown';
}

/** The one-time conversion a Java store needs, as a message. */
function javaStoreMessage(key: string, file: string, format: 'JKS' | 'JCEKS'): string {
  const p12 = file.replace(/\.(jks|jceks|keystore|truststore)$/i, '') + '.p12';
  return (
    `${file} is a Java ${format} store, which Node's TLS cannot read. Convert it once to PKCS12:\n` +
    `    keytool -importkeystore -srckeystore ${file} -srcstoretype ${format} -destkeystore ${p12} -deststoretype PKCS12\n` +
    `  then set ${key} = ${p12} and ${key}-type = PKCS12`
  );
}

/**
 * Reads a store file and checks its format (`key` is the component key, keystore or
 * truststore, used in the advice). Throws a message without the key's full name.
 */
export function readStore(key: string, file: string): { data: Buffer; format: 'PKCS12' | 'PEM' } {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${file} cannot be read: ${(err as Error).message}`);
  }
  const format = detectStoreFormat(data);
  if (format === 'JKS' || format === 'JCEKS') throw new Error(javaStoreMessage(key, file, format));
  if (format === 'unknown') throw new Error(`${file} is neither PKCS12 nor PEM (a JKS store must be converted to PKCS12 with keytool -importkeystore)`);
  return { data, format };
}

/** readStore with the full key in the error, as a ConfigError. */
export function readStoreFor(ctx: Context, key: string, file: string): { data: Buffer; format: 'PKCS12' | 'PEM' } {
  try {
    return readStore(key, file);
  } catch (err) {
    throw new ConfigError(ErrorCodes.CONFIG_VALUE, `${ctx.fullKey(key)}: ${(err as Error).message}`, key);
  }
}

/** Store checks for validate(): the file exists and is not a Java store. */
export function storeProblems(ctx: Context, key: string, file: string | undefined, problems: OptionProblem[]): void {
  if (file === undefined) return;
  try {
    readStore(key, file);
  } catch (err) {
    problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key, message: `${ctx.fullKey(key)}: ${(err as Error).message}` });
  }
}

const JAVA_PROTOCOLS = ['SSLv2Hello', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
const NODE_PROTOCOLS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
type NodeProtocol = (typeof NODE_PROTOCOLS)[number];
const NO_PROTOCOL_FLAG: Record<NodeProtocol, number> = {
  TLSv1: cryptoConstants.SSL_OP_NO_TLSv1,
  'TLSv1.1': cryptoConstants.SSL_OP_NO_TLSv1_1,
  'TLSv1.2': cryptoConstants.SSL_OP_NO_TLSv1_2,
  'TLSv1.3': cryptoConstants.SSL_OP_NO_TLSv1_3,
};
/** What Node (and current Java) enable when include-protocols is not given. */
const DEFAULT_PROTOCOLS: readonly NodeProtocol[] = ['TLSv1.2', 'TLSv1.3'];

/**
 * include/exclude-protocols as Node options: the lowest and highest version allowed,
 * and "no TLSvX" flags for any hole in between. SSLv3 and SSLv2Hello are never
 * enabled. Throws when a name is unknown or nothing is left.
 */
export function protocolOptions(include: readonly string[], exclude: readonly string[]): Pick<tls.SecureContextOptions, 'minVersion' | 'maxVersion' | 'secureOptions'> {
  for (const p of [...include, ...exclude]) {
    if (!(JAVA_PROTOCOLS as readonly string[]).includes(p)) throw new Error(`unknown TLS protocol "${p}" (known: ${JAVA_PROTOCOLS.join(' ')})`);
  }
  const wanted = include.length > 0 ? NODE_PROTOCOLS.filter((p) => include.includes(p)) : DEFAULT_PROTOCOLS;
  const enabled = wanted.filter((p) => !exclude.includes(p));
  if (enabled.length === 0) throw new Error(`no TLS protocol is left to use (include: ${include.join(' ') || 'default'}; exclude: ${exclude.join(' ')})`);
  const lo = NODE_PROTOCOLS.indexOf(enabled[0]!);
  const hi = NODE_PROTOCOLS.indexOf(enabled[enabled.length - 1]!);
  let secureOptions = 0;
  for (let i = lo; i <= hi; i++) if (!enabled.includes(NODE_PROTOCOLS[i]!)) secureOptions |= NO_PROTOCOL_FLAG[NODE_PROTOCOLS[i]!];
  return { minVersion: NODE_PROTOCOLS[lo]!, maxVersion: NODE_PROTOCOLS[hi]!, ...(secureOptions ? { secureOptions } : {}) };
}

const KX: Record<string, string> = { ECDHE_ECDSA: 'ECDHE-ECDSA-', ECDHE_RSA: 'ECDHE-RSA-', DHE_RSA: 'DHE-RSA-', DHE_DSS: 'DHE-DSS-', RSA: '' };
const BULK: Record<string, string> = {
  AES_128_GCM: 'AES128-GCM',
  AES_256_GCM: 'AES256-GCM',
  AES_128_CBC: 'AES128',
  AES_256_CBC: 'AES256',
  AES_128_CCM: 'AES128-CCM',
  AES_256_CCM: 'AES256-CCM',
  AES_128_CCM_8: 'AES128-CCM8',
  AES_256_CCM_8: 'AES256-CCM8',
  CAMELLIA_128_CBC: 'CAMELLIA128',
  CAMELLIA_256_CBC: 'CAMELLIA256',
  CHACHA20_POLY1305: 'CHACHA20-POLY1305',
};

/**
 * A cipher suite as Java (and the IANA registry) names it, in OpenSSL's spelling:
 * TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 → ECDHE-RSA-AES128-GCM-SHA256. TLS 1.3 names
 * (TLS_AES_128_GCM_SHA256) and OpenSSL names pass through. Undefined when the name
 * has no OpenSSL equivalent this mapping knows.
 */
export function openSslCipherName(name: string): string | undefined {
  if (!name.startsWith('TLS_') && !name.startsWith('SSL_')) return name;
  const m = /^(?:TLS|SSL)_(.+?)_WITH_(.+)$/.exec(name);
  if (!m) return name.startsWith('TLS_') ? name : undefined; // TLS 1.3 suites keep their names
  const kx = KX[m[1]!];
  if (kx === undefined) return undefined;
  const rest = m[2]!;
  if (rest.startsWith('CHACHA20_POLY1305')) return `${kx}CHACHA20-POLY1305`;
  const ccm = /^(AES_(?:128|256)_CCM(?:_8)?)$/.exec(rest);
  if (ccm) return `${kx}${BULK[ccm[1]!]}`;
  const mm = /^(.+)_(SHA|SHA256|SHA384)$/.exec(rest);
  if (!mm) return undefined;
  const bulk = BULK[mm[1]!];
  return bulk === undefined ? undefined : `${kx}${bulk}-${mm[2]}`;
}

function knownCipher(openssl: string): boolean {
  return tls.getCiphers().includes(openssl.toLowerCase());
}

function mapCiphers(names: readonly string[]): string[] {
  return names.map((n) => {
    const o = openSslCipherName(n);
    if (o === undefined || !knownCipher(o)) throw new Error(`cipher suite "${n}" is not available in Node's OpenSSL${o && o !== n ? ` (as ${o})` : ''}`);
    return o;
  });
}

/** include/exclude-cipher-suites as Node's `ciphers` string (TLS 1.3 suites included), or undefined for Node's defaults. */
export function cipherOptions(include: readonly string[], exclude: readonly string[]): string | undefined {
  if (include.length === 0 && exclude.length === 0) return undefined;
  const inc = mapCiphers(include);
  const exc = new Set(mapCiphers(exclude).map((c) => c.toUpperCase()));
  if (inc.length > 0) {
    const left = inc.filter((c) => !exc.has(c.toUpperCase()));
    if (left.length === 0) throw new Error('no cipher suite is left to use after exclude-cipher-suites');
    return left.join(':');
  }
  // Node's defaults minus the excluded: TLS 1.3 suites are listed, TLS 1.2 ones negated.
  const parts = tls.DEFAULT_CIPHERS.split(':');
  const out = parts.filter((p) => !exc.has(p.toUpperCase()));
  for (const c of exc) if (!c.startsWith('TLS_')) out.push(`!${c}`);
  return out.join(':');
}

/** Protocol and cipher settings of a component, from its keys or the environment. */
export function tlsVersionAndCiphers(
  ctx: Context,
  o: { 'include-protocols': readonly string[]; 'exclude-protocols': readonly string[]; 'include-cipher-suites': readonly string[]; 'exclude-cipher-suites': readonly string[] },
): tls.SecureContextOptions {
  const incP = listOrEnv(ctx, 'include-protocols', o['include-protocols'], 'INCLUDE_PROTOCOLS');
  const excP = listOrEnv(ctx, 'exclude-protocols', o['exclude-protocols'], 'EXCLUDE_PROTOCOLS');
  const incC = listOrEnv(ctx, 'include-cipher-suites', o['include-cipher-suites'], 'INCLUDE_CIPHERSUITES');
  const excC = listOrEnv(ctx, 'exclude-cipher-suites', o['exclude-cipher-suites'], 'EXCLUDE_CIPHERSUITES');
  let out: tls.SecureContextOptions;
  try {
    out = protocolOptions(incP, excP);
  } catch (err) {
    throw new ConfigError(ErrorCodes.CONFIG_VALUE, `${ctx.fullKey('include-protocols')} / exclude-protocols: ${(err as Error).message}`, 'include-protocols');
  }
  try {
    const ciphers = cipherOptions(incC, excC);
    if (ciphers !== undefined) out.ciphers = ciphers;
  } catch (err) {
    throw new ConfigError(ErrorCodes.CONFIG_VALUE, `${ctx.fullKey('include-cipher-suites')} / exclude-cipher-suites: ${(err as Error).message}`, 'include-cipher-suites');
  }
  return out;
}

/** Problems of the protocol and cipher keys, for validate(). */
export function tlsKeyProblems(ctx: Context, o: Parameters<typeof tlsVersionAndCiphers>[1], problems: OptionProblem[]): void {
  try {
    tlsVersionAndCiphers(ctx, o);
  } catch (err) {
    const e = err as ConfigError;
    problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: e.key ?? 'include-protocols', message: e.message });
  }
}

/**
 * The server side: the keystore (PKCS12 as Node's pfx, or PEM key + chain) with
 * protocol and cipher settings. A wrong password or a damaged file throws a
 * ConfigError naming the keystore.
 */
/** The TLS keys a server component declares (avro, thrift). */
export type ServerTlsKeys = Options<typeof SERVER_TLS_OPTIONS>;

export function serverTlsOptions(ctx: Context, o: ServerTlsKeys): tls.SecureContextOptions {
  const file = o.keystore ?? sslGlobal('KEYSTORE_PATH');
  if (file === undefined) throw new ConfigError(ErrorCodes.CONFIG_REQUIRED, `${ctx.fullKey('keystore')} is required when ssl = true`, 'keystore');
  const password = o['keystore-password'] ?? sslGlobal('KEYSTORE_PASSWORD');
  const { data, format } = readStoreFor(ctx, 'keystore', file);
  const out: tls.SecureContextOptions = tlsVersionAndCiphers(ctx, o);
  if (format === 'PKCS12') {
    out.pfx = data;
    if (password !== undefined) out.passphrase = password;
  } else {
    out.key = data;
    out.cert = data;
    if (password !== undefined) out.passphrase = password;
  }
  try {
    tls.createSecureContext(out);
  } catch (err) {
    const why = (err as Error).message;
    const hint = /mac verify|bad decrypt|bad password/i.test(why)
      ? 'wrong keystore-password?'
      : /unsupported/i.test(why)
        ? 'an old PKCS12 encryption (RC2/3DES) that OpenSSL 3 refuses: re-export it with openssl pkcs12 -export or keytool -importkeystore'
        : 'is it a key with its certificate?';
    throw new ConfigError(ErrorCodes.CONFIG_VALUE, `${ctx.fullKey('keystore')} ${file} cannot be used: ${why} (${hint})`, 'keystore');
  }
  return out;
}

/** validate() checks of the server TLS keys. */
export function serverTlsProblems(ctx: Context, o: ServerTlsKeys & { ssl: boolean }, problems: OptionProblem[]): void {
  if (!o.ssl) return;
  const file = o.keystore ?? sslGlobal('KEYSTORE_PATH');
  if (file === undefined) {
    problems.push({ severity: 'error', code: ErrorCodes.CONFIG_REQUIRED, key: 'ssl', message: `${ctx.fullKey('keystore')} is required when ssl = true (or set ${sslGlobalNames('KEYSTORE_PATH')})` });
  }
  storeProblems(ctx, 'keystore', file, problems);
  tlsKeyProblems(ctx, o, problems);
}

/**
 * Trusted certificates of a truststore: PEM as is; PKCS12 through the openssl command
 * (Node's TLS reads a PKCS12 file only together with a private key, and a Java
 * truststore has none).
 */
export function truststoreCertificates(ctx: Context, file: string, password: string | undefined): Buffer {
  const key = 'truststore';
  const { data, format } = readStoreFor(ctx, key, file);
  if (format === 'PEM') return data;
  const run = (legacy: boolean): Buffer =>
    execFileSync('openssl', ['pkcs12', ...(legacy ? ['-legacy'] : []), '-in', file, '-nokeys', '-passin', 'env:FTS_TRUSTSTORE_PASSWORD'], {
      env: { ...process.env, FTS_TRUSTSTORE_PASSWORD: password ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  let pem: Buffer;
  try {
    try {
      pem = run(false);
    } catch (err) {
      if (!/unsupported|RC2|legacy/i.test(String((err as { stderr?: Buffer }).stderr ?? ''))) throw err;
      pem = run(true);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = e.code === 'ENOENT' ? 'the openssl command is not installed' : (e.stderr?.toString().trim().split('\n')[0] ?? e.message);
    throw new ConfigError(
      ErrorCodes.CONFIG_VALUE,
      `${ctx.fullKey(key)}: cannot read the certificates of the PKCS12 truststore ${file} (${why}). ` +
        `Export them once as PEM (keytool -exportcert -rfc -keystore ${file} -alias <alias> -file ${path.basename(file)}.pem) and point ${key} at that file`,
      key,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(ErrorCodes.CONFIG_VALUE, `${ctx.fullKey(key)}: ${file} holds no certificate`, key);
  return pem;
}

/** Flume's client-side TLS keys (avro and thrift sinks, avro-client -P). */
export const CLIENT_TLS_OPTIONS = {
  ssl: opt.boolean(false, 'Connect with TLS.'),
  'trust-all-certs': opt.boolean(false, 'Accept any server certificate (no validation). As in Flume the host name is never checked against the certificate.'),
  truststore: opt.optionalString(
    "Certificates to trust: a PEM file, or a PKCS12 truststore (read with the openssl command). Default: -Djavax.net.ssl.trustStore or FLUME_SSL_TRUSTSTORE_PATH, else Node's CA list. JKS must be converted.",
  ),
  'truststore-password': opt.secret('Password of a PKCS12 truststore. Never printed.'),
  'truststore-type': opt.enum(['JKS', 'PKCS12', 'PEM'], 'JKS', "Accepted for compatibility: the file's content decides; a real JKS file is refused with the keytool command that converts it."),
  'exclude-protocols': opt.list(['SSLv3'], 'TLS protocol versions to refuse (space separated); SSLv3 is always refused.'),
  'include-protocols': opt.list([], 'TLS protocol versions to allow (space separated; default TLSv1.2 TLSv1.3); exclude-protocols applies after.'),
  'exclude-cipher-suites': opt.list([], 'Cipher suites to refuse (space separated, Java/IANA or OpenSSL names).'),
  'include-cipher-suites': opt.list([], "Cipher suites to allow (space separated; default Node's defaults)."),
};

/** The keys of Flume's AbstractRpcSink (avro and thrift sinks). */
/** The client's TLS settings from the sink's keys (and Flume's global -D / FLUME_SSL_* fallbacks). */
export function clientTlsOptions(ctx: Context, o: Options<typeof CLIENT_TLS_OPTIONS>): AvroClientTlsOptions {
  const out: AvroClientTlsOptions = { ...(tlsVersionAndCiphers(ctx, o) as tls.ConnectionOptions) };
  if (o['trust-all-certs']) {
    out.trustAllCerts = true;
    return out;
  }
  const file = o.truststore ?? sslGlobal('TRUSTSTORE_PATH');
  if (file !== undefined) out.ca = truststoreCertificates(ctx, file, o['truststore-password'] ?? sslGlobal('TRUSTSTORE_PASSWORD'));
  return out;
}
