/**
 * Wraps what a plugin builds so that its failures are said in its own name: an error
 * thrown by a plugin source's or sink's process() is counted (GenericProcessingFail,
 * EventWriteFail) and rethrown with the plugin's name, for the runner to log, back off
 * and retry; an error thrown by a plugin channel's put or take becomes a ChannelError,
 * which sources and sinks already treat as "retry later". Nothing a plugin throws from
 * these calls reaches the process.
 */
import type { ComponentDefinition, SourceInit, SinkInit, ChannelInit } from '../core/component.js';
import type { OptionsSpec } from '../core/options.js';
import type { Channel } from '../core/channel.js';
import type { Source } from '../core/source.js';
import type { Sink } from '../core/sink.js';
import type { SinkCounter, SourceCounter } from '../core/counters.js';
import { ChannelError, ErrorCodes, FlumeError } from '../core/errors.js';

function named(who: string, err: unknown): Error {
  if (err instanceof FlumeError) return err; // already says what failed, with its code
  const e = new FlumeError(ErrorCodes.PLUGIN_FAILED, `${who}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  if ((err as Error)?.stack) e.stack = `${e.name}: ${e.message}\n  caused by ${(err as Error).stack}`;
  return e;
}

export function guardPlugin(def: ComponentDefinition, pluginName: string): ComponentDefinition {
  const who = `plugin ${pluginName} (${def.kind} ${def.type})`;
  switch (def.kind) {
    case 'source':
      return {
        ...def,
        create(init: SourceInit<OptionsSpec>) {
          const s: Source = def.create(init);
          if (s.kind === 'pollable') {
            const process = s.process.bind(s);
            const counter: SourceCounter = init.counter;
            // Arguments pass through (an abort signal, where the runner hands one).
            s.process = async (...args: unknown[]) => {
              try {
                return await (process as (...a: unknown[]) => ReturnType<typeof process>)(...args);
              } catch (err) {
                if (err instanceof ChannelError) throw err;
                counter.GenericProcessingFail++;
                throw named(who, err);
              }
            };
          }
          return s;
        },
      };
    case 'sink':
      return {
        ...def,
        create(init: SinkInit<OptionsSpec>) {
          const k: Sink = def.create(init);
          const process = k.process.bind(k);
          const counter: SinkCounter = init.counter;
          k.process = async (...args: unknown[]) => {
            try {
              return await (process as (...a: unknown[]) => ReturnType<typeof process>)(...args);
            } catch (err) {
              if (!(err instanceof ChannelError)) counter.EventWriteFail++;
              throw named(who, err);
            }
          };
          return k;
        },
      };
    case 'channel':
      return {
        ...def,
        create(init: ChannelInit<OptionsSpec>) {
          const c: Channel = def.create(init);
          const transaction = c.transaction.bind(c);
          c.transaction = () => {
            const tx = transaction();
            const put = tx.put.bind(tx);
            const take = tx.take.bind(tx);
            tx.put = async (events) => {
              try {
                return await put(events);
              } catch (err) {
                throw err instanceof ChannelError ? err : new ChannelError(ErrorCodes.PLUGIN_FAILED, `${who}: put failed: ${(err as Error)?.message ?? err}`, { cause: err });
              }
            };
            tx.take = async (max) => {
              try {
                return await take(max);
              } catch (err) {
                throw err instanceof ChannelError ? err : new ChannelError(ErrorCodes.PLUGIN_FAILED, `${who}: take failed: ${(err as Error)?.message ?? err}`, { cause: err });
              }
            };
            return tx;
          };
          return c;
        },
      };
    default:
      return def;
  }
}
