import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEvent } from '../core/event.js';
import { silentLogger } from '../core/logger.js';
import { ChannelProcessor } from '../core/channel-processor.js';
import { channels, drain, names, selector } from '../../test/support/selectors.js';
import loadBalancing from './load-balancing.js';

const ev = (h?: Record<string, string>) => createEvent('x', h);

test('load_balancing: round_robin gives each event one channel in turn', async () => {
  const cs = channels('c1', 'c2', 'c3');
  const s = selector(loadBalancing, cs, {});
  const cp = new ChannelProcessor(s, [], silentLogger);
  await cp.processEventBatch(['0', '1', '2', '3', '4', '5', '6'].map((b) => createEvent(b)));
  assert.deepEqual(await drain(cs[0]!), ['0', '3', '6']);
  assert.deepEqual(await drain(cs[1]!), ['1', '4']);
  assert.deepEqual(await drain(cs[2]!), ['2', '5']);
  assert.deepEqual(names(s.getOptionalChannels(ev())), []);
});

test('load_balancing: random gives each event exactly one of the channels', () => {
  const cs = channels('c1', 'c2');
  const s = selector(loadBalancing, cs, { policy: 'RANDOM' });
  const seen = new Map<string, number>();
  for (let i = 0; i < 1000; i++) {
    const r = s.getRequiredChannels(ev());
    assert.equal(r.length, 1);
    seen.set(r[0]!.name, (seen.get(r[0]!.name) ?? 0) + 1);
  }
  assert.ok((seen.get('c1') ?? 0) > 350 && (seen.get('c2') ?? 0) > 350, JSON.stringify([...seen]));
});
