import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';

// better-sqlite3 is loaded when a jdbc channel opens its database, not with every agent.
const requireLazy = createRequire(import.meta.url);
import {
  AvailabilitySignal,
  BaseTransaction,
  ChannelCounter,
  ChannelError,
  ChannelFullError,
  Deque,
  ErrorCodes,
  defineChannel,
  opt,
  systemProperty,
  type Channel,
  type FlumeEvent,
  type Logger,
  type OptionProblem,
  type Options,
  type Transaction,
} from '../plugin-api/index.js';

const EMBEDDED_DRIVERS = ['org.apache.derby.jdbc.EmbeddedDriver', 'org.sqlite.JDBC'];

export const options = {
  'db.type': opt.string('DERBY', "DERBY (Flume's embedded database) or SQLITE: either way events are kept in an embedded SQLite database; other databases are not supported."),
  'driver.class': opt.string('org.apache.derby.jdbc.EmbeddedDriver', 'Accepted only as the embedded driver (org.apache.derby.jdbc.EmbeddedDriver or org.sqlite.JDBC).'),
  'driver.url': opt.optionalString('jdbc:sqlite:<file> or jdbc:derby:<directory>[;...]: where the database is. Default: ~/.flume/jdbc-channel/<channel>.sqlite.'),
  'db.username': opt.string('sa', 'Accepted for compatibility; the embedded database has no users.'),
  'db.password': opt.secret('Accepted for compatibility; the embedded database has no users.'),
  'connection.properties.file': opt.optionalString('Accepted for compatibility; not used.'),
  'create.schema': opt.boolean(true, 'Create the table when it is missing; false refuses to start without it.'),
  'create.index': opt.boolean(true, 'Accepted for compatibility: the table is keyed by its event id.'),
  'create.foreignkey': opt.boolean(true, 'Accepted for compatibility: headers are stored with their event.'),
  'transaction.isolation': opt.enum(
    ['READ_UNCOMMITTED', 'READ_COMMITTED', 'REPEATABLE_READ', 'SERIALIZABLE'],
    'READ_COMMITTED',
    'Accepted: SQLite transactions are always serializable, which satisfies every level.',
  ),
  'maximum.connections': opt.integer(10, 'Accepted for compatibility: one connection serves the channel.', { min: 1 }),
  'maximum.capacity': opt.integer(0, 'The maximum number of events stored; 0 means no limit.', { min: 0 }),
};

type JdbcOptions = Options<typeof options>;

/** Where the database file is, from driver.url or the default under the user's home. */
export function databaseFile(name: string, o: JdbcOptions, home: string): string {
  const url = o['driver.url'];
  if (url) {
    const sqlite = /^jdbc:sqlite:(.+)$/.exec(url);
    if (sqlite) return sqlite[1]!;
    const derby = /^jdbc:derby:([^;]+)/.exec(url);
    if (derby) return path.join(derby[1]!, `${name}.sqlite`);
  }
  return path.join(home, '.flume', 'jdbc-channel', `${name}.sqlite`);
}

interface Row {
  id: number;
  event: FlumeEvent;
}

/**
 * Flume's JDBC channel on an embedded SQLite database (better-sqlite3). A commit is a
 * database transaction in WAL mode with synchronous=FULL, so a commit that returned is
 * on disk. better-sqlite3 is synchronous: statements are prepared once and a batch is
 * one transaction, so the event loop is held for one fsync per commit.
 */
export class JdbcChannel implements Channel {
  readonly durable = true;
  readonly counter: ChannelCounter;
  readonly capacity: number;
  readonly transactionCapacity = 1_000_000;
  private db: Database.Database | undefined;
  private count = 0;
  /** Highest id handed out to a take. */
  private cursor = 0;
  /** Rows taken and rolled back: handed out again first. */
  readonly returned = new Deque<Row>();
  private readonly available = new AvailabilitySignal();
  private stopped = true;
  private insert!: (rows: readonly FlumeEvent[]) => void;
  private select!: Database.Statement;
  private remove!: (ids: readonly number[]) => void;
  readonly file: string;

  constructor(
    readonly name: string,
    private readonly o: JdbcOptions,
    private readonly logger: Logger,
    home: string,
  ) {
    this.capacity = o['maximum.capacity'];
    this.counter = new ChannelCounter(name, this.capacity);
    this.file = databaseFile(name, o, home);
  }

  get size(): number {
    return this.count;
  }

  async start(): Promise<void> {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    let db: Database.Database;
    try {
      db = new (requireLazy('better-sqlite3') as typeof Database)(this.file);
      // One process owns the database, as Derby's embedded mode: a second agent gets "database is locked".
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      const exists = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'flume_events'").get();
      if (!exists) {
        if (!this.o['create.schema']) throw new Error('the table flume_events does not exist and create.schema is false');
        db.exec('CREATE TABLE flume_events (id INTEGER PRIMARY KEY AUTOINCREMENT, headers TEXT, body BLOB NOT NULL)');
      }
      this.count = (db.prepare('SELECT COUNT(*) AS n FROM flume_events').get() as { n: number }).n;
    } catch (e) {
      const msg = (e as Error).message;
      throw new ChannelError(
        /locked|busy/i.test(msg) ? ErrorCodes.CHANNEL_LOCKED : ErrorCodes.CHANNEL_IO,
        `jdbc channel ${this.name}: cannot open ${this.file}: ${msg}${/locked|busy/i.test(msg) ? ' (another agent is using this database)' : ''}`,
      );
    }
    this.db = db;
    const ins = db.prepare('INSERT INTO flume_events (headers, body) VALUES (?, ?)');
    this.insert = db.transaction((rows: readonly FlumeEvent[]) => {
      for (const e of rows) {
        let h: string | null = null;
        for (const _ in e.headers) {
          h = JSON.stringify(e.headers);
          break;
        }
        ins.run(h, e.body);
      }
    });
    this.select = db.prepare('SELECT id, headers, body FROM flume_events WHERE id > ? ORDER BY id LIMIT ?').raw(true);
    const delRange = db.prepare('DELETE FROM flume_events WHERE id BETWEEN ? AND ?');
    this.remove = db.transaction((ids: readonly number[]) => {
      const sorted = [...ids].sort((a, b) => a - b);
      let lo = sorted[0]!;
      let hi = lo;
      for (let i = 1; i < sorted.length; i++) {
        const id = sorted[i]!;
        if (id === hi + 1) hi = id;
        else {
          delRange.run(lo, hi);
          lo = hi = id;
        }
      }
      delRange.run(lo, hi);
    });
    this.cursor = 0;
    this.stopped = false;
    this.counter.ChannelSize = this.count;
    this.logger.info(`jdbc channel ${this.name}: ${this.count} event(s) in ${this.file}`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.available.notify();
    this.db?.close();
    this.db = undefined;
  }

  transaction(): Transaction {
    return new JdbcTransaction(this);
  }

  waitAvailable(timeoutMs: number): Promise<void> {
    if (this.count > 0 || this.stopped) return Promise.resolve();
    return this.available.wait(timeoutMs);
  }

  private open(): Database.Database {
    if (!this.db || this.stopped) throw new ChannelError(ErrorCodes.CHANNEL_CLOSED, `channel ${this.name} is stopped`);
    return this.db;
  }

  takeRows(max: number): Row[] {
    this.open();
    const out: Row[] = [];
    while (out.length < max && this.returned.length > 0) out.push(...this.returned.shiftMany(max - out.length));
    if (out.length < max) {
      const rows = this.select.all(this.cursor, max - out.length) as [number, string | null, Buffer][];
      for (const [id, h, body] of rows) {
        out.push({ id, event: { headers: h ? (JSON.parse(h) as Record<string, string>) : {}, body } });
        this.cursor = id;
      }
    }
    return out;
  }

  rollbackRows(rows: Row[]): void {
    if (rows.length === 0) return;
    this.returned.unshiftAll(rows);
    this.available.notify();
  }

  commit(puts: readonly FlumeEvent[], takes: readonly Row[]): void {
    this.open();
    if (puts.length > 0 && this.capacity > 0 && this.count + puts.length - takes.length > this.capacity) {
      throw new ChannelFullError(`jdbc channel ${this.name} is full: maximum.capacity ${this.capacity} reached`);
    }
    try {
      // Takes and puts of one transaction commit together.
      this.db!.transaction(() => {
        if (takes.length > 0) this.remove(takes.map((r) => r.id));
        if (puts.length > 0) this.insert(puts);
      })();
    } catch (e) {
      throw new ChannelError(ErrorCodes.CHANNEL_IO, `jdbc channel ${this.name}: commit failed: ${(e as Error).message}`, { cause: e });
    }
    this.count += puts.length - takes.length;
    this.counter.EventPutSuccessCount += puts.length;
    this.counter.EventTakeSuccessCount += takes.length;
    this.counter.ChannelSize = this.count;
    if (puts.length > 0) this.available.notify();
  }
}

class JdbcTransaction extends BaseTransaction {
  private puts: FlumeEvent[] = [];
  private takes: Row[] = [];

  constructor(private readonly ch: JdbcChannel) {
    super();
  }

  protected async doPut(events: readonly FlumeEvent[]): Promise<void> {
    this.ch.counter.EventPutAttemptCount += events.length;
    for (const e of events) this.puts.push(e);
  }

  protected async doTake(max: number): Promise<FlumeEvent[]> {
    const rows = this.ch.takeRows(max);
    this.ch.counter.EventTakeAttemptCount += rows.length + (rows.length < max ? 1 : 0);
    const out = new Array<FlumeEvent>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      out[i] = rows[i]!.event;
      this.takes.push(rows[i]!);
    }
    return out;
  }

  protected async doCommit(): Promise<void> {
    this.ch.commit(this.puts, this.takes);
  }

  protected async doRollback(): Promise<void> {
    this.ch.rollbackRows(this.takes);
    this.takes = [];
    this.puts = [];
  }
}

function home(sysprops: Record<string, string>): string {
  return sysprops['user.home'] ?? systemProperty('user.home') ?? os.homedir();
}

export default defineChannel({
  type: 'jdbc',
  aliases: ['org.apache.flume.channel.jdbc.JdbcChannel'],
  description: 'Keeps events in an embedded SQLite database (Flume: embedded Derby): a committed event survives a crash.',
  options,
  prefixes: ['sysprop.'],
  validate(o, ctx) {
    const problems: OptionProblem[] = [];
    const t = o['db.type'].toUpperCase();
    if (t !== 'DERBY' && t !== 'SQLITE') {
      problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_VALUE,
        key: 'db.type',
        message: `${ctx.fullKey('db.type')}: "${o['db.type']}" is not supported: this channel keeps events only in its embedded database (SQLite, in place of Flume's embedded Derby); use DERBY or SQLITE`,
      });
    }
    if (!EMBEDDED_DRIVERS.includes(o['driver.class'])) {
      problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_VALUE,
        key: 'driver.class',
        message: `${ctx.fullKey('driver.class')}: only the embedded database is supported (${EMBEDDED_DRIVERS.join(' or ')}); "${o['driver.class']}" is not`,
      });
    }
    const url = o['driver.url'];
    if (url !== undefined && !/^jdbc:(sqlite|derby):/.test(url)) {
      problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_VALUE,
        key: 'driver.url',
        message: `${ctx.fullKey('driver.url')}: only the embedded database is supported: jdbc:sqlite:<file> or jdbc:derby:<directory>`,
      });
    }
    for (const k of ctx.keys()) {
      if (k.startsWith('sysprop.') && k !== 'sysprop.user.home') {
        problems.push({
          severity: 'warning',
          code: ErrorCodes.CONFIG_UNKNOWN_KEY,
          key: k,
          message: `${ctx.fullKey(k)}: only sysprop.user.home is used (Derby's other system properties do not apply to SQLite)`,
        });
      }
    }
    return problems;
  },
  create: ({ name, options, logger, context }) => {
    const sys: Record<string, string> = {};
    const h = context.getString('sysprop.user.home');
    if (h !== undefined) sys['user.home'] = h;
    return new JdbcChannel(name, options, logger, home(sys));
  },
});
