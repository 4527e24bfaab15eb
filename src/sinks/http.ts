import { createRequire } from 'node:module';
import type * as Undici from 'undici';

// undici is loaded when a sink first needs it, not with every agent (it weighs about 18 MB).
const requireLazy = createRequire(import.meta.url);
let undiciLib: typeof Undici | undefined;
const undici = (): typeof Undici => (undiciLib ??= requireLazy('undici') as typeof Undici);
import {
  ErrorCodes,
  FlumeError,
  defineSink,
  opt,
  withTransaction,
  type Channel,
  type Context,
  type FlumeEvent,
  type Logger,
  type OptionProblem,
  type Sink,
  type SinkCounter,
  type Status,
} from '../plugin-api/index.js';

export const options = {
  endpoint: opt.requiredString('URL each event is POSTed to (http or https).'),
  connectTimeout: opt.duration(5000, 'Milliseconds to wait for a connection.', { unit: 'ms', min: 1 }),
  requestTimeout: opt.duration(5000, 'Milliseconds to wait for the answer.', { unit: 'ms', min: 1 }),
  contentTypeHeader: opt.string('text/plain', 'Content-Type of the requests (with batch: application/json unless set).'),
  acceptHeader: opt.string('text/plain', 'Accept header of the requests.'),
  defaultBackoff: opt.boolean(true, 'Back off after a status with no backoff.<code> rule (2xx: see the README).'),
  defaultRollback: opt.boolean(true, 'Roll back (resend later) after a status with no rollback.<code> rule (2xx: see the README).'),
  defaultIncrementMetrics: opt.boolean(false, 'Count the event as delivered after a status with no incrementMetrics.<code> rule (2xx: see the README).'),
  batch: opt.integer(
    1,
    'flume-ts extension: events per transaction, sent as one JSON array of {"headers": {...}, "body": "..."} (the HTTP source\'s JSON format); 1: one raw body per POST, as Flume.',
    { min: 1, max: 100000 },
  ),
};

type Rules = Map<string, boolean>;
const RULE_KINDS = ['backoff', 'rollback', 'incrementMetrics'] as const;

/** `backoff.503 = true`, `rollback.4XX = false`: per status code or class. */
function readRules(ctx: Context, kind: string, problems: OptionProblem[]): Rules {
  const rules: Rules = new Map();
  const sub = ctx.subProperties(kind + '.');
  for (const code of sub.keys()) {
    const raw = (sub.getString(code) ?? '').trim().toLowerCase();
    if (!/^[1-5]([0-9]{2}|XX)$/i.test(code)) {
      problems.push({
        severity: 'error',
        code: ErrorCodes.CONFIG_VALUE,
        key: `${kind}.${code}`,
        message: `${ctx.fullKey(`${kind}.${code}`)}: "${code}" is not a status code (e.g. 503) or class (e.g. 5XX)`,
      });
      continue;
    }
    if (raw !== 'true' && raw !== 'false') {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: `${kind}.${code}`, message: `${ctx.fullKey(`${kind}.${code}`)}: expected true or false, got "${raw}"` });
      continue;
    }
    rules.set(code.toUpperCase(), raw === 'true');
  }
  return rules;
}

/** The rule for a status: the exact code, then its class (5XX), then the default. */
function decide(rules: Rules, status: number, def: boolean, successDefault: boolean): boolean {
  const exact = rules.get(String(status));
  if (exact !== undefined) return exact;
  const group = rules.get(`${String(status)[0]}XX`);
  if (group !== undefined) return group;
  // Flume applies the defaults to 2xx as well, so with its defaults every delivered
  // event is rolled back and sent again; here a 2xx is a success unless a rule says not.
  return status >= 200 && status < 300 ? successDefault : def;
}

interface HttpSettings {
  url: URL;
  contentType: string;
  accept: string;
  batch: number;
  defaults: { backoff: boolean; rollback: boolean; incrementMetrics: boolean };
  rules: Record<(typeof RULE_KINDS)[number], Rules>;
}

/**
 * Flume's HttpSink: POSTs each event's body to `endpoint` and decides per status code
 * whether to commit or roll back, back off, and count the event as delivered. A
 * connection failure or timeout rolls back and backs off.
 */
class HttpSink implements Sink {
  private readonly agent: Undici.Agent;
  /** The endpoint as logged: without user info (a password in the URL is never printed) or query. */
  private readonly shown: string;
  constructor(
    readonly name: string,
    readonly channel: Channel,
    private readonly s: HttpSettings,
    timeouts: { connect: number; request: number },
    private readonly logger: Logger,
    private readonly counter: SinkCounter,
  ) {
    this.shown = s.url.origin + s.url.pathname;
    this.agent = new (undici().Agent)({ connect: { timeout: timeouts.connect }, headersTimeout: timeouts.request, bodyTimeout: timeouts.request, keepAliveTimeout: 30_000 });
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {
    await this.agent.close().catch(() => {});
  }

  async process(): Promise<Status> {
    const batch = this.s.batch;
    try {
      return await this.send(batch);
    } catch (err) {
      if (err === ROLLBACK_NOW) return 'READY';
      throw err;
    }
  }

  private send(batch: number): Promise<Status> {
    return withTransaction(this.channel, async (tx): Promise<Status> => {
      const events = await tx.take(batch);
      if (batch > 1) this.counter.countBatch(events.length, batch);
      if (events.length === 0) return 'BACKOFF';
      const body = batch > 1 ? jsonArray(events) : events[0]!.body;
      if (body.length === 0) {
        this.logger.warn(`http sink ${this.name}: processed empty event`);
        return 'BACKOFF';
      }
      this.counter.EventDrainAttemptCount += events.length;
      let code: number;
      try {
        const r = await undici().request(this.s.url, {
          method: 'POST',
          body,
          dispatcher: this.agent,
          headers: { 'content-type': this.s.contentType, accept: this.s.accept },
        });
        code = r.statusCode;
        await r.body.dump({ limit: 1 << 20 }).catch(() => {});
      } catch (err) {
        this.counter.EventWriteFail += events.length;
        throw new FlumeError(ErrorCodes.HTTP_SINK, `http sink ${this.name}: POST ${this.shown} failed: ${describe(err)}; rolled back`);
      }
      const rollback = decide(this.s.rules.rollback, code, this.s.defaults.rollback, false);
      const backoff = decide(this.s.rules.backoff, code, this.s.defaults.backoff, false);
      if (decide(this.s.rules.incrementMetrics, code, this.s.defaults.incrementMetrics, true) && !rollback) this.counter.EventDrainSuccessCount += events.length;
      if (rollback) {
        // A rolled-back batch that also backs off waits the runner's back-off before the
        // next try (thrown); one that does not is tried again at once, as Flume does.
        if (backoff)
          throw new FlumeError(ErrorCodes.HTTP_SINK, `http sink ${this.name}: got status code ${code} from ${this.shown}; rolled back the event${events.length > 1 ? 's' : ''} and backing off`);
        this.logger.info(`http sink ${this.name}: got status code ${code}; rolled back for retry`);
        throw ROLLBACK_NOW;
      }
      return backoff ? 'BACKOFF' : 'READY';
    });
  }
}

/** Thrown inside the transaction to roll it back without the runner's back-off. */
const ROLLBACK_NOW = Symbol('rollback');

function jsonArray(events: readonly FlumeEvent[]): Buffer {
  return Buffer.from(JSON.stringify(events.map((e) => ({ headers: e.headers, body: e.body.toString('utf8') }))));
}

function describe(err: unknown): string {
  const e = err as Error & { code?: string };
  if (e.code === 'UND_ERR_CONNECT_TIMEOUT') return 'no connection within connectTimeout';
  if (e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') return 'no answer within requestTimeout';
  return `${e.code ? e.code + ': ' : ''}${e.message}`;
}

export default defineSink({
  type: 'http',
  aliases: ['org.apache.flume.sink.http.HttpSink'],
  description: 'POSTs each event to an HTTP endpoint; per-status rules decide commit, rollback, back-off and metrics.',
  options,
  batchOption: 'batch',
  prefixes: RULE_KINDS.map((k) => k + '.'),
  validate(o, ctx) {
    const problems: OptionProblem[] = [];
    try {
      const u = new URL(o.endpoint);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${u.protocol} is not http or https`);
    } catch (e) {
      problems.push({ severity: 'error', code: ErrorCodes.CONFIG_VALUE, key: 'endpoint', message: `${ctx.fullKey('endpoint')}: "${o.endpoint}" is not a usable URL (${(e as Error).message})` });
    }
    for (const k of RULE_KINDS) readRules(ctx, k, problems);
    return problems;
  },
  create: ({ name, channel, options: o, context, logger, counter }) => {
    const problems: OptionProblem[] = [];
    const rules = Object.fromEntries(RULE_KINDS.map((k) => [k, readRules(context, k, problems)])) as HttpSettings['rules'];
    const contentType = o.batch > 1 && !context.containsKey('contentTypeHeader') ? 'application/json; charset=UTF-8' : o.contentTypeHeader;
    return new HttpSink(
      name,
      channel,
      {
        url: new URL(o.endpoint),
        contentType,
        accept: o.acceptHeader,
        batch: o.batch,
        defaults: { backoff: o.defaultBackoff, rollback: o.defaultRollback, incrementMetrics: o.defaultIncrementMetrics },
        rules,
      },
      { connect: o.connectTimeout, request: o.requestTimeout },
      logger,
      counter,
    );
  },
});
