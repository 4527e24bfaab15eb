import { test } from 'node:test';
import assert from 'node:assert/strict';
import { javaDouble } from './flume-json.js';
import { promName } from './prometheus.js';

test("javaDouble prints doubles as Java's Double.toString does", () => {
  assert.equal(javaDouble(0), '0.0');
  assert.equal(javaDouble(50), '50.0');
  assert.equal(javaDouble(100 / 3), '33.333333333333336');
  assert.equal(javaDouble(0.5), '0.5');
  assert.equal(javaDouble(Number.MAX_VALUE), '1.7976931348623157E308');
  assert.equal(javaDouble(1e7), '1.0E7');
  assert.equal(javaDouble(0.0001), '1.0E-4');
});

test('Prometheus names: counters end in _total, sizes are gauges, times in seconds', () => {
  assert.deepEqual(promName('EventReceivedCount'), { name: 'flume_event_received_total', kind: 'counter', scale: 1 });
  assert.deepEqual(promName('EventReadFail'), { name: 'flume_event_read_fail_total', kind: 'counter', scale: 1 });
  assert.deepEqual(promName('KafkaEventSendTimer'), { name: 'flume_kafka_event_send_milliseconds_total', kind: 'counter', scale: 1 });
  assert.deepEqual(promName('ChannelSize'), { name: 'flume_channel_size', kind: 'gauge', scale: 1 });
  assert.equal(promName('StartTime').name, 'flume_start_time_seconds');
  assert.deepEqual(promName('Unhealthy'), { name: 'flume_unhealthy', kind: 'gauge', scale: 1 });
});
