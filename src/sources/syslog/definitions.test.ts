import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Context, resolveOptions, type SourceDefinition } from '../../plugin-api/index.js';
import http from '../http.js';
import { multiportSyslogtcp, syslogtcp, syslogudp } from './index.js';

function listens(def: SourceDefinition, props: Record<string, string>): unknown {
  const { options, problems } = resolveOptions(def.options, new Context(new Map(Object.entries(props))));
  assert.deepEqual(
    problems.filter((p) => p.severity === 'error'),
    [],
  );
  return def.listens!(options);
}

test('every listening source says what it binds, so the planner can refuse port clashes', () => {
  assert.deepEqual(listens(syslogtcp, { port: '5140' }), [{ host: '0.0.0.0', port: 5140, protocol: 'tcp' }]);
  assert.deepEqual(listens(syslogudp, { port: '5140', host: '127.0.0.1' }), [{ host: '127.0.0.1', port: 5140, protocol: 'udp' }]);
  assert.deepEqual(listens(multiportSyslogtcp, { ports: '5140  5141' }), [
    { host: '0.0.0.0', port: 5140, protocol: 'tcp' },
    { host: '0.0.0.0', port: 5141, protocol: 'tcp' },
  ]);
  assert.deepEqual(listens(http, { port: '8080' }), [{ host: '0.0.0.0', port: 8080, protocol: 'tcp' }]);
  assert.equal(multiportSyslogtcp.batchOption, 'batchSize');
});
