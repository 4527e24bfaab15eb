import type { Topology } from '../lib/types.js';
import { stressNull } from './stress-null.js';
import { netcatFileRoll } from './netcat-file-roll.js';
import { idleRss } from './idle-rss.js';
import { routing } from './routing.js';
import { avroChain } from './avro-chain.js';
import { kafka } from './kafka.js';
import { jms } from './jms.js';
import { spooldir } from './spooldir.js';
import { syslogFileRoll } from './syslog-file-roll.js';
import { fileChannelBench, spillableBench } from './file-channel.js';
import { hdfs } from './hdfs.js';
import { taildirFileRoll } from './taildir-file-roll.js';

/** Every topology, in the order they run and are reported; add new modules here. */
export const topologies: readonly Topology[] = [stressNull, netcatFileRoll, idleRss, routing, avroChain, kafka, jms, spooldir, syslogFileRoll, fileChannelBench, spillableBench, hdfs, taildirFileRoll];
