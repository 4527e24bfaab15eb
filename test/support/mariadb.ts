// A MariaDB server for tests: a temporary data directory initialised by
// mariadb-install-db, mariadbd on a free loopback port (as root, --user=root), and a
// user with a password for the component under test. Never skipped: a machine without
// the Debian package fails, naming it.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { eventually, freePort } from './agent.js';

export interface MariaDb {
  port: number;
  /** Runs SQL as root over the socket; returns stdout (tab-separated rows, no header). */
  sql(statements: string, database?: string): string;
  /** Stops the server (SIGTERM, waits) and starts it again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMariaDb(dir: string): Promise<MariaDb> {
  if (!fs.existsSync('/usr/sbin/mariadbd') || !fs.existsSync('/usr/bin/mariadb-install-db')) assert.fail('MariaDB tests need mariadb-server: apt-get install -y mariadb-server');
  const datadir = path.join(dir, 'mariadb-data');
  const socket = path.join(dir, 'mariadb.sock');
  fs.mkdirSync(datadir, { recursive: true });
  const init = spawnSync('/usr/bin/mariadb-install-db', [`--datadir=${datadir}`, '--user=root', '--auth-root-authentication-method=socket', '--skip-test-db'], { encoding: 'utf8' });
  assert.equal(init.status, 0, `mariadb-install-db failed: ${init.stderr}`);
  const port = await freePort();
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';
  const start = async (): Promise<void> => {
    proc = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--datadir=${datadir}`,
        `--socket=${socket}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--user=root',
        `--pid-file=${path.join(dir, 'mariadb.pid')}`,
        '--skip-log-bin',
        '--innodb-buffer-pool-size=16M',
        '--skip-name-resolve',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    const p = proc;
    exited = new Promise((resolve) => p.on('exit', () => resolve()));
    process.once('exit', () => p.kill('SIGKILL'));
    await eventually(() => spawnSync('/usr/bin/mariadb', [`--socket=${socket}`, '-e', 'SELECT 1'], { stdio: 'ignore' }).status === 0 || undefined, 30000, `mariadbd up\n${log}`);
  };
  await start();
  const sql = (statements: string, database?: string): string => {
    const r = spawnSync('/usr/bin/mariadb', [`--socket=${socket}`, '-N', '-B', ...(database ? [database] : []), '-e', statements], { encoding: 'utf8' });
    assert.equal(r.status, 0, `SQL failed: ${statements}\n${r.stderr}`);
    return r.stdout;
  };
  const stop = async (): Promise<void> => {
    proc?.kill('SIGTERM');
    await exited;
  };
  return {
    port,
    sql,
    stop,
    async restart() {
      await stop();
      await start();
    },
  };
}
