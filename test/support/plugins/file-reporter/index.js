// A test reporter (`flume.monitoring.type = com.example.FileReporter`): every
// `intervalMs` it writes { "<TYPE>.<name>": {attribute: value} } of the running agent
// to `file`, replacing the previous content.
import fs from 'node:fs';
import { defineReporter, opt } from '../../../../dist/src/plugin-api/index.js';

export default defineReporter({
  type: 'file',
  description: 'Writes the counters to a file.',
  options: {
    file: opt.requiredString('Where the counters are written.'),
    intervalMs: opt.duration(200, 'Milliseconds between writes.', { unit: 'ms', min: 10 }),
  },
  async create({ options, agent }) {
    const write = () => {
      const out = {};
      for (const g of agent.counterGroups()) out[`${g.Type}.${g.name}`] = g.snapshot();
      fs.writeFileSync(`${options.file}.tmp`, JSON.stringify(out));
      fs.renameSync(`${options.file}.tmp`, options.file);
    };
    const timer = setInterval(write, options.intervalMs);
    return {
      description: `counters to ${options.file}`,
      stop: () => {
        clearInterval(timer);
        write();
      },
    };
  },
});
