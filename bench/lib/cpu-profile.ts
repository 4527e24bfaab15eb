/**
 * Preloaded into an agent with NODE_OPTIONS="--import <this file>" (Node 20 refuses
 * --cpu-prof in NODE_OPTIONS): starts V8's sampling profiler through the in-process
 * inspector and, when the process exits, writes the profile to
 * $BENCH_CPU_PROF_DIR/<pid>.cpuprofile (the format of `node --cpu-prof`; open it in
 * Chrome DevTools or summarize it with dist/bench/profile-summary.js).
 */
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_CPU_PROF_INTERVAL_US ?? 500) });
  session.post('Profiler.start');
  process.on('exit', () => {
    // The in-process session answers synchronously, so this runs before the process ends.
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
