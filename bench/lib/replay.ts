import net from 'node:net';

/**
 * `count` lines shaped as loggen's (`<38>… seq: 0000000000, thread: 0000, runid: …,
 * stamp: … PADDPADD…`), each `size` bytes with its newline, rendered once into one
 * buffer so that sending them costs the sender almost nothing per line.
 */
export function loggenStyleLines(count: number, size: number): Buffer {
  const stamp = new Date().toISOString().slice(0, 19);
  const runid = String(Math.floor(Date.now() / 1000));
  const head = `<38>${stamp} localhost prg00000[1234]: seq: `;
  const tail = `, thread: 0000, runid: ${runid}, stamp: ${stamp} `;
  const fixed = head.length + 10 + tail.length;
  if (size < fixed + 1) throw new Error(`line size ${size} is below the minimum ${fixed + 1}`);
  const template = Buffer.alloc(size, 'PADD');
  template.write(head, 0, 'latin1');
  template.write(tail, head.length + 10, 'latin1');
  template[size - 1] = 0x0a;
  const out = Buffer.allocUnsafe(count * size);
  for (let i = 0; i < count; i++) {
    const at = i * size;
    template.copy(out, at);
    let v = i;
    for (let d = head.length + 9; d >= head.length; d--) {
      out[at + d] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
  }
  return out;
}

/**
 * Sends `data` to 127.0.0.1:`port` in `sliceBytes` writes, honouring backpressure,
 * then half-closes. Resolves once the last byte was handed to the kernel.
 */
export function sendAll(port: number, data: Buffer, sliceBytes = 1 << 20): Promise<{ startedAtMs: number; endedAtMs: number }> {
  return new Promise((resolve, reject) => {
    const startedAtMs = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let off = 0;
    const pump = (): void => {
      while (off < data.length) {
        const end = Math.min(data.length, off + sliceBytes);
        const more = sock.write(data.subarray(off, end));
        off = end;
        if (!more) return void sock.once('drain', pump);
      }
      sock.end(() => resolve({ startedAtMs, endedAtMs: Date.now() }));
    };
    sock.once('connect', pump);
    sock.on('error', reject);
    // The receiver sends nothing back (netcat with ack-every-event=false, syslog-ng); drain anything anyway.
    sock.resume();
  });
}
