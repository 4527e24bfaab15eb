// The built-in sources. Adding one: write its module, then list it here.
import netcat from './netcat.js';
import netcatudp from './netcatudp.js';
import seq from './seq.js';
import stress from './stress.js';
import kafka from './kafka.js';
import exec from './exec.js';
import spooldir from './spooldir/index.js';
import avro from './avro.js';
import thrift from './thrift.js';
import jms from './jms/index.js';
import { syslogtcp, multiportSyslogtcp, syslogudp } from './syslog/index.js';
import http from './http.js';
import taildir from './taildir/index.js';

export default [netcat, netcatudp, seq, stress, kafka, avro, thrift, exec, jms, spooldir, syslogtcp, multiportSyslogtcp, syslogudp, http, taildir];
