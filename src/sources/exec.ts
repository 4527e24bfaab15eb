import { spawn, type ChildProcess } from 'node:child_process';
import { TextDecoder } from 'node:util';
import {
  RateLimitedLog,
  SlicedEvent,
  defineSource,
  opt,
  setLongTimeout,
  sleep,
  type LongTimer,
  type ChannelProcessor,
  type EventDrivenSource,
  type FlumeEvent,
  type Logger,
  type Options,
  type SourceCounter,
} from '../plugin-api/index.js';

export const options = {
  command: opt.requiredString('The command to run; each line of its standard output becomes an event.'),
  shell: opt.optionalString('A shell to run the command with, e.g. "/bin/sh -c" (the command is its last argument). Without it the command is split on spaces and run directly.'),
  restart: opt.boolean(false, 'Run the command again when it exits.'),
  restartThrottle: opt.duration(10000, 'Milliseconds to wait before a restart.', { unit: 'ms', min: 0 }),
  logStdErr: opt.boolean(false, "Log the command's standard error at INFO (otherwise it is read and dropped)."),
  batchSize: opt.integer(20, 'Lines per channel transaction.', { min: 1 }),
  batchTimeout: opt.duration(3000, 'Milliseconds after which a partial batch is stored anyway.', { unit: 'ms', min: 1, max: 86_400_000 }),
  charset: opt.charset('UTF-8', "Character set of the command's output; bodies are stored as UTF-8."),
};

type ExecOptions = Options<typeof options>;

/**
 * Flume's exec source (e.g. `tail -F app.log`), with one difference that matters: when
 * the channel refuses a batch, Flume kills the command and loses the batch; here the
 * command's output is paused and the batch retried with back-off, so nothing read is
 * lost (the command blocks on its full pipe meanwhile).
 */
class ExecSource implements EventDrivenSource {
  /** Warnings that can repeat per event, batch, retry or connection: first logged, then counted. */
  private readonly failures: RateLimitedLog;
  readonly kind = 'event-driven';
  private child: ChildProcess | undefined;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly decoder: TextDecoder | undefined;

  constructor(
    private readonly name: string,
    private readonly o: ExecOptions,
    private readonly processor: ChannelProcessor,
    private readonly counter: SourceCounter,
    private readonly logger: Logger,
  ) {
    this.failures = new RateLimitedLog(this.logger);
    const cs = o.charset.toLowerCase();
    this.decoder = cs === 'utf-8' || cs === 'utf8' ? undefined : new TextDecoder(cs);
  }

  async start(): Promise<void> {
    this.loop = this.runLoop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.child?.kill('SIGTERM');
    await this.loop;
  }

  private argv(): [string, string[]] {
    if (this.o.shell) {
      const sh = this.o.shell.split(/\s+/).filter(Boolean);
      return [sh[0]!, [...sh.slice(1), this.o.command]];
    }
    const parts = this.o.command.split(/\s+/).filter(Boolean);
    return [parts[0]!, parts.slice(1)];
  }

  private async runLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const code = await this.runOnce();
      if (signal.aborted) break;
      this.logger.info(`Command [${this.o.command}] exited with ${code}`);
      if (!this.o.restart) break;
      await sleep(this.o.restartThrottle, signal);
    }
  }

  /** Runs the command once, storing its lines; resolves with its exit code when its output is drained. */
  private runOnce(): Promise<number | string> {
    return new Promise((resolve) => {
      const [cmd, args] = this.argv();
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      let pending: Buffer | undefined;
      let batch: FlumeEvent[] = [];
      let timer: LongTimer | undefined;
      let chain: Promise<void> = Promise.resolve();
      let exitCode: number | string = 0;
      let outDone = false;
      let exited = false;

      const flush = (): void => {
        timer?.clear();
        timer = undefined;
        if (batch.length === 0) return;
        const events = batch;
        batch = [];
        child.stdout!.pause();
        chain = chain
          .then(() => this.store(events))
          .finally(() => {
            if (!this.abort.signal.aborted) child.stdout!.resume();
          });
      };
      /** The line at buf[start..end): its trailing \r dropped, as Java's readLine does. */
      const line = (buf: Buffer, start: number, end: number): void => {
        if (end > start && buf[end - 1] === 0x0d) end--;
        // A slice of the read (one small object per line, no copy) unless it must be decoded.
        batch.push(this.decoder ? { headers: {}, body: Buffer.from(this.decoder.decode(buf.subarray(start, end)), 'utf8') } : new SlicedEvent(buf, start, end));
        this.counter.EventReceivedCount++;
        if (batch.length >= this.o.batchSize) flush();
        else if (!timer) timer = setLongTimeout(flush, this.o.batchTimeout);
      };
      child.stdout!.on('data', (data: Buffer) => {
        let start = 0;
        if (pending) {
          // The line begun in an earlier read is completed in a buffer of its own.
          const nl = data.indexOf(0x0a);
          if (nl < 0) {
            pending = Buffer.concat([pending, data]);
            return;
          }
          const head = Buffer.concat([pending, data.subarray(0, nl)]);
          pending = undefined;
          line(head, 0, head.length);
          start = nl + 1;
        }
        for (let nl = data.indexOf(0x0a, start); nl >= 0; nl = data.indexOf(0x0a, start)) {
          line(data, start, nl);
          start = nl + 1;
        }
        // Copied: a partial line must not keep the whole read alive.
        if (start < data.length) pending = Buffer.from(data.subarray(start));
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        if (this.o.logStdErr) for (const l of chunk.toString('utf8').split('\n')) if (l) this.logger.info(`StderrLogger[${this.name}] = '${l}'`);
      });
      const finish = (): void => {
        if (!outDone || !exited) return;
        if (pending && pending.length > 0) line(pending, 0, pending.length);
        pending = undefined;
        flush();
        void chain.then(() => resolve(exitCode));
      };
      child.stdout!.on('end', () => {
        outDone = true;
        finish();
      });
      child.on('error', (err) => {
        this.failures.error('spawn', `exec source ${this.name}: cannot run [${this.o.command}]: ${err.message}`);
        exitCode = err.message;
        outDone = true;
        exited = true;
        finish();
      });
      child.on('exit', (code, sig) => {
        exitCode = code ?? sig ?? -1;
        exited = true;
        finish();
      });
    });
  }

  /** Stores a batch, retrying with back-off while the channel refuses it, until stopped. */
  private async store(events: FlumeEvent[]): Promise<void> {
    let wait = 250;
    for (;;) {
      try {
        await this.processor.processEventBatch(events);
        this.counter.EventAcceptedCount += events.length;
        this.counter.AppendBatchAcceptedCount++;
        return;
      } catch (err) {
        this.counter.ChannelWriteFail++;
        if (this.abort.signal.aborted) {
          this.logger.warn(`exec source ${this.name}: stopping with ${events.length} line(s) not stored: ${(err as Error).message}`);
          return;
        }
        this.failures.warn('refused', `exec source ${this.name}: channel refused ${events.length} line(s) (${(err as Error).message}); retrying in ${wait} ms`);
      }
      await sleep(wait, this.abort.signal);
      wait = Math.min(wait * 2, 5000);
    }
  }
}

export default defineSource({
  type: 'exec',
  aliases: ['org.apache.flume.source.ExecSource'],
  description: 'Runs a command (e.g. tail -F) and turns each line of its output into an event.',
  options,
  batchOption: 'batchSize',
  create: ({ name, options, processor, counter, logger }) => new ExecSource(name, options, processor, counter, logger),
});
