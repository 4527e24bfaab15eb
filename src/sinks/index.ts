// The built-in sinks. Adding one: write its module, then list it here.
import logger from './logger.js';
import nullSink from './null.js';
import fileRoll from './file-roll.js';
import kafka from './kafka.js';
import avro from './avro.js';
import thrift from './thrift.js';
import hdfs from './hdfs/index.js';
import http from './http.js';

export default [logger, nullSink, fileRoll, kafka, avro, thrift, hdfs, http];
