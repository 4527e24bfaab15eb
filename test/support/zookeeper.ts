import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { eventually, freePort, tempDir } from './agent.js';

const JAR = '/usr/share/java/zookeeper.jar';

/**
 * A real ZooKeeper (Debian's zookeeper package) run in the foreground as a standalone
 * server on a free loopback port with a temporary data directory; `restart()` keeps
 * the data, so znodes survive it.
 */
export interface ZooKeeper {
  port: number;
  connect: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops, forgets every znode and session (as an ensemble that lost its state), and starts again. */
  wipe(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startZooKeeper(): Promise<ZooKeeper> {
  const t = tempDir('flume-zk-');
  const port = await freePort();
  const cfg = path.join(t.dir, 'zoo.cfg');
  fs.mkdirSync(path.join(t.dir, 'data'));
  fs.writeFileSync(cfg, `tickTime=500\ndataDir=${t.dir}/data\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n` +
    'minSessionTimeout=1000\nmaxSessionTimeout=10000\n4lw.commands.whitelist=ruok,srvr\n');
  let proc: ChildProcess | undefined;
  let out = '';
  const start = async (): Promise<void> => {
    out = '';
    proc = spawn('java', ['-Xmx128m', '-cp', JAR, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (out += d));
    proc.stderr!.on('data', (d: Buffer) => (out += d));
    const p = proc;
    await eventually(async () => {
      if (p.exitCode !== null) throw new Error(`zookeeper exited: ${out}`);
      return (await fourLetter(port, 'ruok')) === 'imok';
    }, 30_000, `ZooKeeper on ${port}`);
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await gone;
  };
  process.once('exit', () => proc?.kill('SIGKILL'));
  await start();
  return {
    port, connect: `127.0.0.1:${port}`, stop, start,
    restart: async () => {
      await stop();
      await start();
    },
    wipe: async () => {
      await stop();
      fs.rmSync(path.join(t.dir, 'data'), { recursive: true, force: true });
      fs.mkdirSync(path.join(t.dir, 'data'));
      await start();
    },
    cleanup: async () => {
      await stop();
      t.cleanup();
    },
  };
}

function fourLetter(port: number, cmd: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(cmd));
    let got = '';
    s.setTimeout(2000, () => s.destroy());
    s.on('data', (d: Buffer) => (got += d));
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(''));
  });
}
