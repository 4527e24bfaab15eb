/**
 * The peer of the jms row: a bare STOMP consumer, the least work reading a queue can
 * take (the same frame codec as the jms source, client-individual ACK of each message,
 * the same prefetch), with no channel behind it. Run as its own process:
 *
 *   node stomp-consumer.js <port> <queue> <count> <user> <password> <prefetch>
 *
 * prints `<seconds from CONNECTED to the last ACK written>` and exits.
 */
import net from 'node:net';
import { FrameDecoder, encodeFrame } from '../../src/sources/jms/stomp.js';

const [port, queue, count, user, password, prefetch] = process.argv.slice(2);
const want = Number(count);
const sock = net.connect(Number(port), '127.0.0.1');
const decoder = new FrameDecoder({ maxHeaderBytes: 64 * 1024, maxBodyBytes: 16 * 1024 * 1024 });
let t0 = 0;
let got = 0;
sock.on('connect', () => sock.write(encodeFrame('CONNECT', { 'accept-version': '1.2', host: 'localhost', login: user!, passcode: password! })));
sock.on('data', (d: Buffer) => {
  for (const f of decoder.push(d)) {
    if (f.command === 'CONNECTED') {
      t0 = Date.now();
      sock.write(encodeFrame('SUBSCRIBE', { id: '0', destination: `/queue/${queue}`, ack: 'client-individual', 'activemq.prefetchSize': prefetch! }));
    } else if (f.command === 'MESSAGE') {
      sock.write(encodeFrame('ACK', { id: f.headers.ack! }));
      if (++got === want) {
        const s = (Date.now() - t0) / 1000;
        sock.end(encodeFrame('DISCONNECT', {}), () => {
          process.stdout.write(`${s}\n`);
          process.exit(0);
        });
      }
    } else if (f.command === 'ERROR') {
      process.stderr.write(`ERROR ${f.headers.message}\n`);
      process.exit(1);
    }
  }
});
sock.on('error', (e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
