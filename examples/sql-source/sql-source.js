// The seed notes' SQLSource: polls a MySQL or MariaDB table for rows whose id is above
// the last one delivered, one event per row (its columns joined by ",", as the seed's
// getAllRows does), and keeps that id in the seed's `flume_meta` table
// (source_tab, currentIndex).
//
// Unlike the seed's version:
// - the offset written is the largest id delivered, not a count of rows, so gaps in the
//   ids lose nothing;
// - it is written only after the channel committed the batch; if the database is away
//   then, the source keeps the offset in memory and writes it before its next query, so
//   a database restart neither loses nor repeats rows (only a crash of the agent in that
//   window repeats one batch);
// - values reach SQL only as parameters; the table and id column are quoted identifiers;
// - a query failure (database down) is thrown: the runner logs it, backs off, and the
//   next call connects again.
import mysql from 'mysql2/promise';
import { defineSource, opt, sleep, ErrorCodes } from 'flume-ts/plugin';

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

function connectionOptions(url, user, password) {
  // Flume jobs say jdbc:mysql://host:port/db?params; the JDBC prefix is optional here.
  const u = new URL(url.replace(/^jdbc:/, ''));
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') throw new Error(`connection.url must be jdbc:mysql://host:port/database, got ${u.protocol}`);
  return {
    host: u.hostname, port: Number(u.port || 3306), database: decodeURIComponent(u.pathname.slice(1)) || undefined,
    user, password, rowsAsArray: true, charset: 'UTF8MB4_GENERAL_CI', connectTimeout: 10000, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true,
  };
}

// The character sets Node.js can encode to without another library.
function bufferEncoding(charset) {
  const c = charset.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (c === 'utf8') return 'utf8';
  if (c === 'iso88591' || c === 'latin1' || c === 'usascii' || c === 'ascii') return 'latin1';
  if (c === 'utf16le') return 'utf16le';
  return undefined;
}

export default defineSource({
  type: 'com.atguigu.source.SQLSource',
  description: 'Polls a MySQL/MariaDB table for new rows by increasing id, one event per row, and keeps the last id delivered in the flume_meta table (the seed notes\' SQLSource).',
  batchOption: 'batchSize',
  options: {
    'connection.url': opt.requiredString('jdbc:mysql://host:port/database (the jdbc: prefix is optional).'),
    'connection.user': opt.requiredString('Database user.'),
    'connection.password': opt.secret('Database password.'),
    table: opt.requiredString('Table to poll; also the key of its row in flume_meta.'),
    'columns.to.select': opt.string('*', 'Columns of each row put in the event body, as SQL (e.g. "id,name"); must include the id column.'),
    'custom.query': opt.optionalString('A query of your own instead of SELECT <columns> FROM <table>; it must contain one "?" where the last delivered id goes (e.g. "SELECT id, name FROM t WHERE id > ? ORDER BY id"), and return the id column.'),
    'id.column': opt.string('id', 'The increasing column used as the offset.'),
    'run.query.delay': opt.duration(10000, 'Time between queries when the last one found fewer rows than batchSize.', { unit: 'ms', min: 1 }),
    'start.from': opt.integer(0, 'Offset to start from when flume_meta has none for the table (rows with a larger id are read).', { min: 0 }),
    batchSize: opt.integer(100, 'Most rows read by one query and put in one transaction.', { min: 1, max: 100000 }),
    charset: opt.charset('UTF-8', 'Character set of the event bodies.'),
  },
  validate(o) {
    const problems = [];
    if (!IDENT.test(o.table)) problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'table', message: `table: expected a table name (letters, digits, _ and $, optionally database.table), got "${o.table}"` });
    if (!IDENT.test(o['id.column'])) problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'id.column', message: `id.column: expected a column name, got "${o['id.column']}"` });
    if (!bufferEncoding(o.charset)) problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'charset', message: `charset: expected UTF-8, ISO-8859-1, US-ASCII or UTF-16LE, got "${o.charset}"` });
    const q = o['custom.query'];
    if (q !== undefined && (q.match(/\?/g) ?? []).length !== 1) problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'custom.query', message: 'custom.query: must contain exactly one "?", where the last delivered id goes' });
    try {
      connectionOptions(o['connection.url'], '', '');
    } catch (err) {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'connection.url', message: `connection.url: ${err.message}` });
    }
    return problems;
  },
  create({ name, options: o, processor, counter, logger }) {
    const stopping = new AbortController();
    const conn = connectionOptions(o['connection.url'], o['connection.user'], o['connection.password'] ?? '');
    const idColumn = o['id.column'];
    const select = o['custom.query'] ?? `SELECT ${o['columns.to.select']} FROM ${mysql.escapeId(o.table)} WHERE ${mysql.escapeId(idColumn)} > ? ORDER BY ${mysql.escapeId(idColumn)}`;
    const query = `${select} LIMIT ${o.batchSize}`;
    const encoding = bufferEncoding(o.charset);
    const encode = (s) => Buffer.from(s, encoding);
    let db;
    let offset; // the largest id the channel committed (a string: ids may exceed 2^53)
    let unsaved = false;

    async function connection() {
      if (!db) {
        db = await mysql.createConnection(conn);
        db.on('error', () => {
          db = undefined; // the next call connects again
        });
        await db.query('CREATE TABLE IF NOT EXISTS flume_meta (source_tab VARCHAR(255) NOT NULL PRIMARY KEY, currentIndex VARCHAR(255) NOT NULL)');
        if (offset === undefined) {
          const [rows] = await db.execute('SELECT currentIndex FROM flume_meta WHERE source_tab = ?', [o.table]);
          offset = rows.length > 0 ? String(rows[0][0]) : String(o['start.from']);
          logger.info(`source ${name}: reading ${o.table} after ${idColumn} ${offset}`);
        }
      }
      return db;
    }

    async function saveOffset(c) {
      await c.execute('INSERT INTO flume_meta (source_tab, currentIndex) VALUES (?, ?) ON DUPLICATE KEY UPDATE currentIndex = VALUES(currentIndex)', [o.table, offset]);
      unsaved = false;
    }

    async function attempt(fn) {
      try {
        return await fn(await connection());
      } catch (err) {
        const c = db;
        db = undefined;
        c?.destroy();
        throw err;
      }
    }

    return {
      kind: 'pollable',
      backoffSleepIncrement: o['run.query.delay'],
      maxBackoffSleep: o['run.query.delay'],
      async start() {
        // Connect now so a wrong password or URL is said at start; a database that is
        // down is only a warning: the source keeps trying.
        try {
          await connection();
        } catch (err) {
          logger.warn(`source ${name}: cannot reach the database yet (${err.message}); will retry`);
        }
      },
      async stop() {
        stopping.abort();
        const c = db;
        db = undefined;
        if (c && unsaved) await saveOffset(c).catch((err) => logger.error(`source ${name}: offset ${offset} not saved: ${err.message}`));
        await c?.end().catch(() => c.destroy());
      },
      async process(signal) {
        const abort = signal ? AbortSignal.any([signal, stopping.signal]) : stopping.signal;
        if (abort.aborted) return 'BACKOFF';
        const { rows, fields } = await attempt(async (c) => {
          if (unsaved) await saveOffset(c);
          const [rows, fields] = await c.query({ sql: query, rowsAsArray: true }, [offset]);
          return { rows, fields };
        });
        if (rows.length === 0) return 'BACKOFF';
        const idAt = fields.findIndex((f) => f.name === idColumn);
        if (idAt < 0) throw new Error(`the query's columns (${fields.map((f) => f.name).join(', ')}) do not include the id column ${idColumn}`);
        const events = rows.map((r) => ({ headers: {}, body: encode(r.map((v) => (v === null ? '' : Buffer.isBuffer(v) ? v.toString('utf8') : String(v))).join(',') + ',') }));
        counter.EventReceivedCount += events.length;
        counter.AppendBatchReceivedCount++;
        await processor.processEventBatch(events);
        counter.EventAcceptedCount += events.length;
        counter.AppendBatchAcceptedCount++;
        // Committed: only now does the offset move, in memory and then in flume_meta.
        offset = String(rows[rows.length - 1][idAt]);
        unsaved = true;
        await attempt(saveOffset).catch((err) => logger.warn(`source ${name}: offset ${offset} not saved yet (${err.message}); saved before the next query`));
        if (rows.length < o.batchSize) await sleep(o['run.query.delay'], abort);
        return 'READY';
      },
    };
  },
});
