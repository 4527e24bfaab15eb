// The built-in sources. Adding one: write its module, then list it here.
import netcat from './netcat.js';
import netcatudp from './netcatudp.js';
import seq from './seq.js';
import stress from './stress.js';
import kafka from './kafka.js';
import exec from './exec.js';
import avro from './avro.js';
import thrift from './thrift.js';
import taildir from './taildir/index.js';

export default [netcat, netcatudp, seq, stress, kafka, avro, thrift, exec, taildir];
