import type { FlumeEvent } from './event.js';

const HEX = '0123456789ABCDEF';

/**
 * Flume's EventHelper.dumpEvent: `{ headers:{k=v, ...} body: <hexdump> }`, the hex
 * dump being commons-io HexDump of the first `maxBytes` bytes, 16 per line, with the
 * first line's offset removed and the last line break trimmed.
 */
export function dumpEvent(event: FlumeEvent, maxBytes: number): string {
  return `{ headers:${javaMapString(event.headers)} body:${hexDump(event.body, maxBytes)} }`;
}

/** Java's AbstractMap.toString: `{k1=v1, k2=v2}`. */
export function javaMapString(headers: Record<string, string>): string {
  let s = '{';
  let first = true;
  for (const k in headers) {
    if (!first) s += ', ';
    s += k + '=' + headers[k];
    first = false;
  }
  return s + '}';
}

function hexDump(body: Buffer, maxBytes: number): string {
  const n = Math.min(body.length, maxBytes);
  if (n === 0) return '';
  const lines: string[] = [];
  for (let off = 0; off < n; off += 16) {
    let line = off === 0 ? '' : off.toString(16).toUpperCase().padStart(8, '0');
    line += ' ';
    const end = Math.min(off + 16, n);
    for (let j = off; j < off + 16; j++) {
      if (j < end) {
        const b = body[j]!;
        line += HEX[b >> 4]! + HEX[b & 15]! + ' ';
      } else {
        line += '   ';
      }
    }
    for (let j = off; j < end; j++) {
      const b = body[j]!;
      line += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    lines.push(line);
  }
  return lines.join('\n');
}
