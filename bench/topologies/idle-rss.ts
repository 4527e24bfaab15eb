import fs from 'node:fs';
import path from 'node:path';
import { freePort, tempDir } from '../../test/support/agent.js';
import { startBenchAgent } from '../lib/flume.js';
import { memoryOf, sleep } from '../lib/proc.js';
import { startSyslogNg } from '../lib/syslog-ng.js';
import type { Row, Topology } from '../lib/types.js';
import { PEER_NET_CONF } from './netcat-file-roll.js';

/** How long each process idles before its RSS is read. */
const IDLE_MS = 5000;

export const idleRss: Topology = {
  id: 'idle-rss',
  title: 'idle netcat → memory → logger',
  async run(ctx) {
    const row: Row = {
      id: 'idle-netcat-memory-logger',
      title: 'idle: netcat → memory → logger, no traffic',
      kind: 'idle',
      ours: [],
      peer: [],
      peerLabel: '',
      target: { metric: 'rss-mb', max: 80 },
      method:
        `Our agent: netcat on a free loopback port → memory (defaults) → logger, started as users start it; ${IDLE_MS / 1000} s after it logged ` +
        '"Agent a1 started", with no connection made, its VmRSS is read from /proc/<pid>/status (VmHWM, the peak, is listed in the runs). ' +
        `Peer: syslog-ng with a network() tcp source → file() destination, read ${IDLE_MS / 1000} s after its "starting up" message.`,
      notes: [],
    };
    // One run is enough: idle memory barely varies between runs.
    {
      const tmp = tempDir('flume-bench-');
      try {
        const port = await freePort();
        ctx.log('idle netcat → memory → logger: our agent');
        const a = await startBenchAgent(
          `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = logger
a1.sinks.k1.channel = c1
`,
          { dir: tmp.dir, profileDir: ctx.profileDir && path.join(ctx.profileDir, 'idle') },
        );
        try {
          await sleep(IDLE_MS);
          row.ours.push(ctx.sample('idle', { events: 0, seconds: IDLE_MS / 1000, bytesPerEvent: 0, ...a.memory() }));
        } finally {
          await a.stop();
        }
      } finally {
        tmp.cleanup();
      }
    }
    if ('unavailable' in ctx.syslogNg) {
      row.peerLabel = `no peer: ${ctx.syslogNg.unavailable}`;
      return [row];
    }
    row.peerLabel = `syslog-ng ${ctx.syslogNg.version}: network(tcp) → file, idle`;
    const tmp = tempDir('flume-bench-sng-');
    try {
      ctx.log('idle syslog-ng network → file');
      fs.mkdirSync(path.join(tmp.dir, 'out'));
      const s = await startSyslogNg(ctx.syslogNg, tmp.dir, PEER_NET_CONF(await freePort(), path.join(tmp.dir, 'out', 'lines.log')));
      try {
        await sleep(IDLE_MS);
        row.peer.push(ctx.sample('idle', { events: 0, seconds: IDLE_MS / 1000, bytesPerEvent: 0, ...memoryOf(s.pid) }));
      } finally {
        await s.stop();
      }
    } finally {
      tmp.cleanup();
    }
    return [row];
  },
};
