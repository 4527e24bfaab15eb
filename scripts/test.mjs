#!/usr/bin/env node
// `npm test`: installs the Debian packages of the test peers when they are missing,
// lints (Biome, biome.json), type-checks and builds (tsc over src, test and bench: the
// check of `npm run typecheck`, here also writing dist/), and runs every test with
// Node's test runner. Any lint finding or type error fails the run.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

/** Each peer: how to tell it is there, and the Debian package that brings it. */
const peers = [
  { pkg: 'python3-avro', present: () => run('/usr/bin/python3', ['-c', 'import avro.ipc, avro.protocol']) },
  { pkg: 'python3-snappy', present: () => run('/usr/bin/python3', ['-c', 'import snappy']) },
  { pkg: 'librdkafka-dev', present: () => fs.existsSync('/usr/include/librdkafka/rdkafka_mock.h') },
  { pkg: 'kcat', present: () => fs.existsSync('/usr/bin/kcat') },
  { pkg: 'python3-thrift', present: () => run('/usr/bin/python3', ['-c', 'import thrift']) },
  { pkg: 'thrift-compiler', present: () => fs.existsSync('/usr/bin/thrift') },
  { pkg: 'openssl', present: () => fs.existsSync('/usr/bin/openssl') },
  { pkg: 'gcc', present: () => fs.existsSync('/usr/bin/cc') },
  { pkg: 'ganglia-monitor', present: () => fs.existsSync('/usr/sbin/gmond') },
  { pkg: 'chromium', present: () => fs.existsSync('/usr/bin/chromium') },
  { pkg: 'activemq', present: () => fs.existsSync('/usr/share/activemq/bin/activemq.jar') },
  { pkg: 'zookeeper', present: () => fs.existsSync('/usr/share/java/zookeeper.jar') },
  { pkg: 'python3-stomp', present: () => run('/usr/bin/python3', ['-c', 'import stomp']) },
  { pkg: 'bsdutils', present: () => fs.existsSync('/usr/bin/logger') },
  // rsyslog's libraries; rsyslog itself is unpacked below.
  { pkg: 'libestr0', present: () => run('dpkg', ['-s', 'libestr0']) },
  { pkg: 'libfastjson4', present: () => run('dpkg', ['-s', 'libfastjson4']) },
  { pkg: 'liblognorm5', present: () => run('dpkg', ['-s', 'liblognorm5']) },
  { pkg: 'mariadb-server', present: () => fs.existsSync('/usr/sbin/mariadbd') && fs.existsSync('/usr/bin/mariadb-install-db') },
];

function run(cmd, args) {
  try {
    return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  }
}

const missing = peers.filter((p) => !p.present()).map((p) => p.pkg);
if (missing.length > 0) {
  if (process.getuid?.() !== 0) {
    console.error(`test peers missing: ${missing.join(' ')}; install them with: sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  console.log(`installing test peers: ${missing.join(' ')}`);
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

// rsyslog (a syslog test peer) and syslog-ng-core (the benchmarks' peer) conflict as Debian
// packages, so unless rsyslog is installed, its package is unpacked here and run from there.
const rsyslogDir = path.join(root, 'node_modules', '.cache', 'rsyslog');
if (!fs.existsSync('/usr/sbin/rsyslogd') && !fs.existsSync(path.join(rsyslogDir, 'usr', 'sbin', 'rsyslogd'))) {
  console.log(`unpacking Debian's rsyslog into ${rsyslogDir}`);
  fs.mkdirSync(path.dirname(rsyslogDir), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(root, 'node_modules', '.cache', 'rsyslog-deb-'));
  try {
    try {
      execFileSync('apt-get', ['download', 'rsyslog'], { cwd: tmp, stdio: 'inherit' });
    } catch {
      // The package lists may never have been fetched on this machine.
      execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
      execFileSync('apt-get', ['download', 'rsyslog'], { cwd: tmp, stdio: 'inherit' });
    }
    const deb = fs.readdirSync(tmp).find((f) => f.endsWith('.deb'));
    execFileSync('dpkg-deb', ['-x', path.join(tmp, deb), rsyslogDir], { stdio: 'inherit' });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function step(what, args) {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`npm test: ${what} failed`);
    process.exit(r.status ?? 1);
  }
}
step('lint (npm run lint)', [path.join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome'), 'lint']);
step('format check (npm run format:check)', [path.join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome'), 'format']);
step('typecheck (npm run typecheck)', [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);

function find(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) find(p, out);
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const only = process.argv.slice(2);
const files = find(path.join(root, 'dist'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const res = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
