import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import type { Logger } from '../core/logger.js';
import { parseProperties } from '../config/properties.js';

/** log4j level names as Flume users write them, mapped to winston's. */
const LEVELS: Record<string, string> = {
  TRACE: 'silly',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
  FATAL: 'error',
  OFF: 'off',
};
const ORDER = ['error', 'warn', 'info', 'debug', 'silly'];

export interface LoggingSettings {
  level: string;
  appender: 'console' | 'LOGFILE';
  logDir: string;
  logFile: string;
  pattern: string;
  consoleTarget: 'stderr' | 'stdout';
}

/** The built-in defaults; conf/log4j.properties and -D flags override them, as in Flume. */
const DEFAULTS: Record<string, string> = {
  'flume.root.logger': 'INFO,LOGFILE',
  'flume.log.dir': './logs',
  'flume.log.file': 'flume.log',
  'flume.log.pattern': '%d [%p - %c] %m',
  'flume.console.target': 'stderr',
};

/**
 * Reads the logging settings: built-in defaults, then `<conf>/log4j.properties` (only
 * the flume.* keys above), then -D system properties.
 */
export function loggingSettings(confDir: string | undefined, sysProps: Record<string, string>): LoggingSettings {
  const props: Record<string, string> = { ...DEFAULTS };
  if (confDir) {
    const file = path.join(confDir, 'log4j.properties');
    if (fs.existsSync(file)) {
      for (const p of parseProperties(fs.readFileSync(file, 'utf8'), file).props) props[p.key] = p.value;
    }
  }
  Object.assign(props, sysProps);
  const [levelRaw = 'INFO', appenderRaw = 'LOGFILE'] = props['flume.root.logger']!.split(',').map((s) => s.trim());
  return {
    level: LEVELS[levelRaw.toUpperCase()] ?? 'info',
    appender: appenderRaw.toLowerCase() === 'console' ? 'console' : 'LOGFILE',
    logDir: props['flume.log.dir']!,
    logFile: props['flume.log.file']!,
    pattern: props['flume.log.pattern']!,
    consoleTarget: props['flume.console.target'] === 'stdout' ? 'stdout' : 'stderr',
  };
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** log4j's default %d: `2026-11-21 04:42:41,123`. */
function timestamp(d = new Date()): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())},${pad(d.getMilliseconds(), 3)}`;
}

/** Compiles the pattern once into a function: %d date, %p level, %c logger name, %m message. */
function compilePattern(pattern: string): (level: string, name: string, message: string) => string {
  const parts = pattern.split(/(%[dpcm])/);
  return (level, name, message) => {
    let s = '';
    for (const part of parts) {
      if (part === '%d') s += timestamp();
      else if (part === '%p') s += level;
      else if (part === '%c') s += name;
      else if (part === '%m') s += message;
      else s += part;
    }
    return s;
  };
}

const LOG4J_NAME: Record<string, string> = { error: 'ERROR', warn: 'WARN', info: 'INFO', debug: 'DEBUG', silly: 'TRACE' };

export interface RootLogger extends Logger {
  /** Flush and close the transports. */
  close(): Promise<void>;
}

export function createLogger(s: LoggingSettings): RootLogger {
  const format = compilePattern(s.pattern);
  const line = winston.format.printf((info) => format(LOG4J_NAME[info.level] ?? info.level.toUpperCase(), String(info.name ?? 'flume'), String(info.message)));
  const transports: winston.transport[] = [];
  let file: { stream: Writable; close(): void } | undefined;
  if (s.appender === 'console') {
    transports.push(
      new winston.transports.Console({
        stderrLevels: s.consoleTarget === 'stderr' ? ORDER : [],
      }),
    );
  } else {
    fs.mkdirSync(s.logDir, { recursive: true });
    file = syncFileStream(path.join(s.logDir, s.logFile));
    transports.push(new winston.transports.Stream({ stream: file.stream }));
  }
  const off = s.level === 'off';
  const w = winston.createLogger({ level: off ? 'error' : s.level, silent: off, format: line, transports });
  const threshold = off ? -1 : ORDER.indexOf(s.level);
  const enabled = (lvl: string): boolean => ORDER.indexOf(lvl) <= threshold;

  /** Lines logged after close() (by a component still stopping) are dropped. */
  let closed = false;
  const make = (name: string): Logger => {
    const noop = (): void => {};
    const emit = (lvl: string) => (enabled(lvl) ? (m: string) => void (closed || w.log({ level: lvl, message: m, name })) : noop);
    const l: Logger = {
      error: emit('error'),
      warn: emit('warn'),
      info: emit('info'),
      debug: emit('debug'),
      isDebugEnabled: enabled('debug'),
      child: (n: string) => make(n),
    };
    return l;
  };
  const root = make('org.apache.flume.node.Application') as RootLogger;
  // Every line is already written when log() returns (see syncFileStream; console
  // writes to a pipe or file are synchronous on Linux), so closing waits for nothing.
  root.close = async () => {
    if (closed) return;
    closed = true;
    w.close();
    file?.close();
  };
  return root;
}

/**
 * The log file, written synchronously: a line is on disk (in the page cache) when
 * log() returns, so an exit right after a stop or a second signal loses no line and
 * needs no wait for a flush. Log lines are few (the logger sink is for debugging), so
 * a write(2) per line costs nothing that matters.
 */
function syncFileStream(file: string): { stream: Writable; close(): void } {
  let fd: number | undefined = fs.openSync(file, 'a');
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      try {
        if (fd !== undefined) fs.writeSync(fd, chunk);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
  return {
    stream,
    close() {
      if (fd === undefined) return;
      fs.closeSync(fd);
      fd = undefined;
    },
  };
}
