/**
 * Flume's AvroSourceProtocol and the Avro RPC records around it: handshake, call and
 * response layouts. Schemas and encoding use avsc; decoding of peer bytes uses the
 * bounds-checked reader in binary.ts.
 */
import { createHash } from 'node:crypto';
import avsc from 'avsc';
import type { Schema as AvscSchema, Type as AvscType } from 'avsc';
import type { FlumeEvent } from '../../core/event.js';
import type { BinaryReader } from './binary.js';
import { AvroErrorCodes, avroError } from './errors.js';

// ---------------------------------------------------------------------------------
// The protocol text. Its MD5 is the protocol's identity in the handshake, so the
// text must be byte-identical to Java's Protocol.toString(): compact JSON, keys in
// Jackson's order, and the `doc` that Avro's IDL compiler made of flume.avdl's
// license comment. JSON.stringify escapes exactly as Jackson does here (\n and \"
// only; the text is ASCII and has no '/' escaping).

/** The license comment at the top of flume.avdl, one entry per line, without the comment's stars. */
const AVDL_DOC_LINES = [
  'Licensed to the Apache Software Foundation (ASF) under one',
  'or more contributor license agreements.  See the NOTICE file',
  'distributed with this work for additional information',
  'regarding copyright ownership.  The ASF licenses this file',
  'to you under the Apache License, Version 2.0 (the',
  '"License"); you may not use this file except in compliance',
  'with the License.  You may obtain a copy of the License at',
  '',
  'http://www.apache.org/licenses/LICENSE-2.0',
  '',
  'Unless required by applicable law or agreed to in writing,',
  'software distributed under the License is distributed on an',
  '"AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY',
  'KIND, either express or implied.  See the License for the',
  'specific language governing permissions and limitations',
  'under the License.',
];

/**
 * Avro's IDL compiler up to 1.11.0 (all released Flume jars) kept each line's star
 * prefix and trimmed only the whole text; 1.11.1 and later strip the prefixes.
 */
const STARRED_DOC = AVDL_DOC_LINES.map((l, i) => (i === 0 ? '* ' : l === '' ? ' *' : ' * ') + l).join('\n');
const STRIPPED_DOC = AVDL_DOC_LINES.join('\n');

const NAMESPACE = 'org.apache.flume.source.avro';

const TYPES = [
  { type: 'enum', name: 'Status', symbols: ['OK', 'FAILED', 'UNKNOWN'] },
  {
    type: 'record',
    name: 'AvroFlumeEvent',
    fields: [
      { name: 'headers', type: { type: 'map', values: 'string' } },
      { name: 'body', type: 'bytes' },
    ],
  },
];

const MESSAGES = {
  append: { request: [{ name: 'event', type: 'AvroFlumeEvent' }], response: 'Status' },
  appendBatch: { request: [{ name: 'events', type: { type: 'array', items: 'AvroFlumeEvent' } }], response: 'Status' },
};

function protocolJson(doc: string | undefined): string {
  // Key order is significant: protocol, namespace, doc, types, messages.
  const p: Record<string, unknown> = { protocol: 'AvroSourceProtocol', namespace: NAMESPACE };
  if (doc !== undefined) p.doc = doc;
  p.types = TYPES;
  p.messages = MESSAGES;
  return JSON.stringify(p);
}

function md5(text: string): Buffer {
  return createHash('md5').update(text, 'utf8').digest();
}

/** The text released Flume (1.x up to 1.11.0) sends and hashes: 1,334 bytes. */
export const PROTOCOL_TEXT = protocolJson(STARRED_DOC);
/** MD5 of PROTOCOL_TEXT: 86aadae2c45474c0fe93ffd0f2350a65. */
export const PROTOCOL_HASH: Buffer = md5(PROTOCOL_TEXT);

/** The three renderings of the same protocol that Flume builds may carry. */
export const PROTOCOL_VARIANTS = Object.freeze({
  starred: PROTOCOL_TEXT,
  stripped: protocolJson(STRIPPED_DOC),
  nodoc: protocolJson(undefined),
});

/**
 * Hashes the server takes as its own protocol: a client sending any of them (as
 * clientHash or serverHash) gets BOTH without a NONE round trip.
 */
export const KNOWN_PROTOCOL_HASHES: ReadonlySet<string> = new Set(Object.values(PROTOCOL_VARIANTS).map((t) => md5(t).toString('hex')));

// ---------------------------------------------------------------------------------
// avsc types.

const { Type } = avsc;

const handshakeRequestType = Type.forSchema({
  type: 'record',
  name: 'HandshakeRequest',
  namespace: 'org.apache.avro.ipc',
  fields: [
    { name: 'clientHash', type: { type: 'fixed', name: 'MD5', size: 16 } },
    { name: 'clientProtocol', type: ['null', 'string'] },
    { name: 'serverHash', type: 'MD5' },
    { name: 'meta', type: ['null', { type: 'map', values: 'bytes' }] },
  ],
});

const handshakeResponseType = Type.forSchema({
  type: 'record',
  name: 'HandshakeResponse',
  namespace: 'org.apache.avro.ipc',
  fields: [
    { name: 'match', type: { type: 'enum', name: 'HandshakeMatch', symbols: ['BOTH', 'CLIENT', 'NONE'] } },
    { name: 'serverProtocol', type: ['null', 'string'] },
    { name: 'serverHash', type: ['null', { type: 'fixed', name: 'MD5', size: 16 }] },
    { name: 'meta', type: ['null', { type: 'map', values: 'bytes' }] },
  ],
});

const metaType = Type.forSchema({ type: 'map', values: 'bytes' });
const stringType = Type.forSchema('string');

export type MessageName = 'append' | 'appendBatch';
export type Status = 'OK' | 'FAILED' | 'UNKNOWN';
export const STATUS_SYMBOLS: readonly Status[] = ['OK', 'FAILED', 'UNKNOWN'];
export type HandshakeMatch = 'BOTH' | 'CLIENT' | 'NONE';
const MATCH_SYMBOLS: readonly HandshakeMatch[] = ['BOTH', 'CLIENT', 'NONE'];

interface ProtocolTypes {
  requests: Record<MessageName, AvscType>;
  responses: Record<MessageName, AvscType>;
}

/**
 * Builds the message types of a protocol object. Request records get a fixed
 * synthetic name, so two protocols can be compared by canonical form.
 */
function buildTypes(proto: { namespace?: unknown; types?: unknown; messages?: unknown }): {
  requests: Partial<Record<MessageName, AvscType>>;
  responses: Partial<Record<MessageName, AvscType>>;
} {
  const namespace = typeof proto.namespace === 'string' ? proto.namespace : '';
  const registry: Record<string, AvscType> = {};
  const opts = { registry, namespace, wrapUnions: false };
  if (proto.types !== undefined && !Array.isArray(proto.types)) throw new Error('"types" is not an array');
  for (const t of (proto.types ?? []) as unknown[]) Type.forSchema(t as AvscSchema, opts);
  const requests: Partial<Record<MessageName, AvscType>> = {};
  const responses: Partial<Record<MessageName, AvscType>> = {};
  const messages = (proto.messages ?? {}) as Record<string, { request?: unknown; response?: unknown; 'one-way'?: unknown }>;
  for (const name of ['append', 'appendBatch'] as const) {
    const m = messages[name];
    if (m === undefined || m === null || typeof m !== 'object' || m['one-way'] === true) continue;
    requests[name] = Type.forSchema({ type: 'record', name: `flume_ts_request_${name}`, fields: m.request } as AvscSchema, opts);
    responses[name] = Type.forSchema(m.response as AvscSchema, opts);
  }
  return { requests, responses };
}

const LOCAL = buildTypes(JSON.parse(PROTOCOL_TEXT)) as ProtocolTypes;
const statusType = LOCAL.responses.append;

/** What a remote protocol (another hash) lets us exchange: the messages whose schemas match ours exactly. */
export interface RemoteProtocol {
  readonly text: string;
  readonly messages: ReadonlySet<MessageName>;
}

/**
 * Parses a peer's protocol text. A message is usable when its request and response
 * schemas have the same canonical form as ours (names, field order, types; docs
 * and property differences do not matter), so its bytes decode with our decoder.
 * Throws FTS_ERR_AVRO_HANDSHAKE when the text is not a protocol at all.
 */
export function parseRemoteProtocol(text: string): RemoteProtocol {
  let types: ReturnType<typeof buildTypes>;
  try {
    const proto = JSON.parse(text) as unknown;
    if (proto === null || typeof proto !== 'object' || Array.isArray(proto)) throw new Error('not a JSON object');
    types = buildTypes(proto as Record<string, unknown>);
  } catch (err) {
    throw avroError(AvroErrorCodes.HANDSHAKE, `unparsable peer protocol: ${(err as Error).message}`, err);
  }
  const messages = new Set<MessageName>();
  for (const name of ['append', 'appendBatch'] as const) {
    const req = types.requests[name];
    const res = types.responses[name];
    if (req && res && req.equals(LOCAL.requests[name]) && res.equals(LOCAL.responses[name])) messages.add(name);
  }
  return { text, messages };
}

/** Our own protocol, as a RemoteProtocol: every message usable. */
export const LOCAL_PROTOCOL: RemoteProtocol = Object.freeze({
  text: PROTOCOL_TEXT,
  messages: new Set<MessageName>(['append', 'appendBatch']),
});

// ---------------------------------------------------------------------------------
// Handshake.

export interface HandshakeRequest {
  clientHash: Buffer;
  clientProtocol: string | null;
  serverHash: Buffer;
  meta: Map<string, Buffer> | null;
}

export interface HandshakeResponse {
  match: HandshakeMatch;
  serverProtocol: string | null;
  serverHash: Buffer | null;
  meta: Map<string, Buffer> | null;
}

/**
 * Java's client sends `meta` as an empty map (02 00), not null; so do we, so that
 * our first request is byte-identical to Flume's.
 */
export function encodeHandshakeRequest(clientProtocol: string | null, serverHash: Buffer = PROTOCOL_HASH): Buffer {
  return handshakeRequestType.toBuffer({ clientHash: PROTOCOL_HASH, clientProtocol, serverHash, meta: {} });
}

export function decodeHandshakeRequest(r: BinaryReader): HandshakeRequest {
  const clientHash = r.readFixed(16);
  const clientProtocol = r.readUnionIndex(2) === 1 ? r.readString() : null;
  const serverHash = r.readFixed(16);
  const meta = r.readUnionIndex(2) === 1 ? r.readBytesMap() : null;
  return { clientHash, clientProtocol, serverHash, meta };
}

function encodeHandshakeResponse(match: HandshakeMatch): Buffer {
  const withProtocol = match !== 'BOTH';
  return handshakeResponseType.toBuffer({
    match,
    serverProtocol: withProtocol ? PROTOCOL_TEXT : null,
    serverHash: withProtocol ? PROTOCOL_HASH : null,
    meta: null,
  });
}

/** Our three possible handshake answers, built once. BOTH is `00 00 00 00`. */
export const HANDSHAKE_RESPONSES: Readonly<Record<HandshakeMatch, Buffer>> = Object.freeze({
  BOTH: encodeHandshakeResponse('BOTH'),
  CLIENT: encodeHandshakeResponse('CLIENT'),
  NONE: encodeHandshakeResponse('NONE'),
});

export function decodeHandshakeResponse(r: BinaryReader): HandshakeResponse {
  const match = MATCH_SYMBOLS[r.readEnum(3)]!;
  const serverProtocol = r.readUnionIndex(2) === 1 ? r.readString() : null;
  const serverHash = r.readUnionIndex(2) === 1 ? r.readFixed(16) : null;
  const meta = r.readUnionIndex(2) === 1 ? r.readBytesMap() : null;
  return { match, serverProtocol, serverHash, meta };
}

/**
 * What the server answers a handshake with (Avro's Responder rules, with all three
 * Flume hashes taken as ours). `clientKnown`: the client's protocol is known,
 * because its hash is one of ours, cached, or its text came with the request.
 */
export function handshakeMatch(serverHash: Buffer, clientKnown: boolean): HandshakeMatch {
  if (!clientKnown) return 'NONE';
  return KNOWN_PROTOCOL_HASHES.has(serverHash.toString('hex')) ? 'BOTH' : 'CLIENT';
}

// ---------------------------------------------------------------------------------
// Calls.

/** Request metadata (always empty, `00`) followed by the message name. */
function encodeCallHeader(name: string): Buffer {
  return Buffer.concat([metaType.toBuffer({}), stringType.toBuffer(name)]);
}

export const CALL_HEADERS: Readonly<Record<MessageName, Buffer>> = Object.freeze({
  append: encodeCallHeader('append'),
  appendBatch: encodeCallHeader('appendBatch'),
});

export function encodeAppendParams(event: FlumeEvent): Buffer {
  return LOCAL.requests.append.toBuffer({ event });
}

export function encodeAppendBatchParams(events: readonly FlumeEvent[]): Buffer {
  return LOCAL.requests.appendBatch.toBuffer({ events });
}

/** Response metadata: an empty map, as Java sends it. */
export const EMPTY_META = metaType.toBuffer({});

/** Response payloads (error flag + value) for each status, built once. */
export const STATUS_PAYLOADS: Readonly<Record<Status, Buffer>> = Object.freeze({
  OK: Buffer.concat([Buffer.of(0), statusType.toBuffer('OK')]),
  FAILED: Buffer.concat([Buffer.of(0), statusType.toBuffer('FAILED')]),
  UNKNOWN: Buffer.concat([Buffer.of(0), statusType.toBuffer('UNKNOWN')]),
});

/** An Avro "system error": flag 01, error-union branch 0 (string), the text. */
export function encodeSystemErrorPayload(text: string): Buffer {
  return Buffer.concat([Buffer.of(1, 0), stringType.toBuffer(text)]);
}

/** The outcome of a call as the response carries it. */
export type CallOutcome = { status: Status; error?: undefined } | { status?: undefined; error: string };

/** Reads response metadata, the error flag, and the Status or the error text. */
export function decodeCallResponse(r: BinaryReader): CallOutcome {
  r.skipBytesMap();
  if (!r.readBoolean()) return { status: STATUS_SYMBOLS[r.readEnum(3)]! };
  // Flume declares no errors, so the union is ["string"]; a later branch would be a
  // declared error of another protocol, which we can only report as such.
  const branch = r.readLong();
  if (branch === 0) return { error: r.readString() };
  return { error: `remote declared error (union branch ${branch})` };
}
