import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { ROOT, eventually, freePort, tempDir } from '../agent.js';
import { writeServerCerts } from '../../e2e/rpc-support.js';

const PEER = path.join(ROOT, 'test', 'support', 'jms', 'peer.py');
export const AMQ_USER = 'flume';
export const AMQ_PASSWORD = 'amq-test-pass';

/**
 * A real ActiveMQ (Debian's activemq package) run in the foreground with a temporary
 * configuration and data directory: an `auto` connector (OpenWire and STOMP on one
 * port, as a Flume job's tcp://host:61616 would find it) and an OpenWire-only one, both
 * on free loopback ports; one user (flume) required on every connection.
 */
export interface Broker {
  /** The auto (STOMP and OpenWire) port. */
  port: number;
  /** A port that speaks OpenWire only. */
  openwirePort: number;
  /** STOMP over TLS, with the certificate in `certFile` (PEM, for 127.0.0.1). */
  sslPort: number;
  certFile: string;
  dir: string;
  /** Stops the broker (SIGKILL when `hard`); its data stays for `restart`. */
  stop(hard?: boolean): Promise<void>;
  restart(): Promise<void>;
  send(dest: string, count: number, opts?: { from?: number; bytes?: boolean; size?: number }): void;
  drain(dest: string, idleSeconds?: number): { body: string; headers: Record<string, string> }[];
  cleanup(): Promise<void>;
}

export async function startBroker(): Promise<Broker> {
  const t = tempDir('flume-amq-');
  const port = await freePort();
  const openwirePort = await freePort();
  const sslPort = await freePort();
  writeServerCerts(t.dir, 'broker-store-pass');
  fs.mkdirSync(path.join(t.dir, 'conf'));
  fs.writeFileSync(
    path.join(t.dir, 'conf', 'activemq.xml'),
    `<beans xmlns="http://www.springframework.org/schema/beans" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" brokerName="flume-test" dataDirectory="${t.dir}/data" persistent="true" schedulerSupport="false">
    <persistenceAdapter><kahaDB directory="${t.dir}/data/kahadb"/></persistenceAdapter>
    <sslContext><sslContext keyStore="file:${t.dir}/server.p12" keyStorePassword="broker-store-pass" keyStoreType="pkcs12"/></sslContext>
    <plugins>
      <simpleAuthenticationPlugin>
        <users><authenticationUser username="${AMQ_USER}" password="${AMQ_PASSWORD}" groups="users,admins"/></users>
      </simpleAuthenticationPlugin>
    </plugins>
    <transportConnectors>
      <transportConnector name="auto" uri="auto://127.0.0.1:${port}?auto.protocols=default,stomp"/>
      <transportConnector name="openwire" uri="tcp://127.0.0.1:${openwirePort}"/>
      <transportConnector name="stomp+ssl" uri="stomp+ssl://127.0.0.1:${sslPort}"/>
    </transportConnectors>
  </broker>
</beans>
`,
  );
  let proc: ChildProcess | undefined;
  let out = '';
  const launch = async (): Promise<void> => {
    out = '';
    proc = spawn(
      'java',
      [
        '-Xms64m',
        '-Xmx256m',
        '-Djava.awt.headless=true',
        `-Dactivemq.home=/usr/share/activemq`,
        `-Dactivemq.base=${t.dir}`,
        `-Dactivemq.conf=${t.dir}/conf`,
        `-Dactivemq.data=${t.dir}/data`,
        '-jar',
        '/usr/share/activemq/bin/activemq.jar',
        'start',
        `xbean:file:${t.dir}/conf/activemq.xml`,
      ],
      { cwd: t.dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout!.on('data', (d: Buffer) => (out += d));
    proc.stderr!.on('data', (d: Buffer) => (out += d));
    const p = proc;
    await eventually(
      async () => {
        if (p.exitCode !== null) throw new Error(`activemq exited: ${out}`);
        return await stompAnswers(port);
      },
      60_000,
      `ActiveMQ to answer STOMP on ${port}`,
    );
  };
  const stop = async (hard = false): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(hard ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  process.once('exit', () => proc?.kill('SIGKILL'));
  await launch();
  const py = (args: string[]): string => {
    const r = spawnSync('/usr/bin/python3', [PEER, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`peer.py ${args.join(' ')} failed: ${r.stderr || r.error}`);
    return r.stdout;
  };
  return {
    port,
    openwirePort,
    sslPort,
    certFile: path.join(t.dir, 'cert.pem'),
    dir: t.dir,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    send(dest, count, opts = {}) {
      py([
        'send',
        String(port),
        dest,
        String(count),
        ...(opts.from !== undefined ? ['--from', String(opts.from)] : []),
        ...(opts.bytes ? ['--bytes'] : []),
        ...(opts.size ? ['--size', String(opts.size)] : []),
      ]);
    },
    drain(dest, idle = 2) {
      return JSON.parse(py(['drain', String(port), dest, '--idle', String(idle)])) as { body: string; headers: Record<string, string> }[];
    },
    cleanup: async () => {
      await stop(true);
      t.cleanup();
    },
  };
}

/** True when the port answers a STOMP CONNECT (any answer, even an ERROR for the missing login). */
function stompAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('CONNECT\naccept-version:1.2\nhost:localhost\n\n\0'));
    const done = (v: boolean): void => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(2000, () => done(false));
    s.on('data', (d: Buffer) => done(/^(CONNECTED|ERROR)/.test(d.toString('latin1'))));
    s.on('error', () => done(false));
    s.on('close', () => done(false));
  });
}
