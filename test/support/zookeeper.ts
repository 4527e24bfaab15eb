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
  fs.writeFileSync(
    cfg,
    `tickTime=500\ndataDir=${t.dir}/data\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n` +
      'minSessionTimeout=1000\nmaxSessionTimeout=10000\n4lw.commands.whitelist=ruok,srvr\n',
  );
  let proc: ChildProcess | undefined;
  let out = '';
  const start = async (): Promise<void> => {
    out = '';
    proc = spawn('java', ['-Xmx128m', '-cp', JAR, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (out += d));
    proc.stderr!.on('data', (d: Buffer) => (out += d));
    const p = proc;
    await eventually(
      async () => {
        if (p.exitCode !== null) throw new Error(`zookeeper exited: ${out}`);
        return (await fourLetter(port, 'ruok')) === 'imok';
      },
      30_000,
      `ZooKeeper on ${port}`,
    );
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await gone;
  };
  process.once('exit', () => proc?.kill('SIGKILL'));
  await start();
  return {
    port,
    connect: `127.0.0.1:${port}`,
    stop,
    start,
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

/** Three ZooKeeper servers forming one ensemble on loopback ports; `kill(i)` stops one. */
export interface Ensemble {
  connect: string;
  kill(i: number): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startEnsemble(): Promise<Ensemble> {
  const t = tempDir('flume-zk3-');
  const ports = await Promise.all(Array.from({ length: 9 }, () => freePort()));
  const client = (i: number): number => ports[i * 3]!;
  const servers = [0, 1, 2].map((i) => `server.${i + 1}=127.0.0.1:${ports[i * 3 + 1]}:${ports[i * 3 + 2]}`).join('\n');
  const procs: ChildProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const dir = path.join(t.dir, `s${i + 1}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'myid'), `${i + 1}\n`);
    const cfg = path.join(dir, 'zoo.cfg');
    fs.writeFileSync(
      cfg,
      `tickTime=500\ninitLimit=20\nsyncLimit=10\ndataDir=${dir}\nclientPort=${client(i)}\nclientPortAddress=127.0.0.1\n` +
        `admin.enableServer=false\nminSessionTimeout=1000\nmaxSessionTimeout=10000\n4lw.commands.whitelist=ruok,srvr\n${servers}\n`,
    );
    const p = spawn('java', ['-Xmx128m', '-cp', JAR, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], { stdio: 'ignore' });
    procs.push(p);
  }
  process.once('exit', () => procs.forEach((p) => p.kill('SIGKILL')));
  await eventually(
    async () => {
      for (let i = 0; i < 3; i++) if (!/Mode: (leader|follower)/.test(await fourLetter(client(i), 'srvr'))) return false;
      return true;
    },
    60_000,
    'the three-node ensemble to elect a leader',
  );
  const kill = async (i: number): Promise<void> => {
    const p = procs[i]!;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await gone;
  };
  return {
    connect: [0, 1, 2].map((i) => `127.0.0.1:${client(i)}`).join(','),
    kill,
    cleanup: async () => {
      for (let i = 0; i < 3; i++) await kill(i);
      t.cleanup();
    },
  };
}
