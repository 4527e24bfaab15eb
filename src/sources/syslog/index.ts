// The syslog sources: one module per type over a shared parser (parser.ts) and TCP listener (common.ts).
export { default as syslogtcp } from './syslogtcp.js';
export { default as multiportSyslogtcp } from './multiport.js';
export { default as syslogudp } from './syslogudp.js';
