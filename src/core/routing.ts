import type { Channel } from './channel.js';
import type { FlumeEvent } from './event.js';

/**
 * Decides which channels each event goes to. A failure to put into a required
 * channel fails the source's call; an optional channel's failure is logged and counted.
 */
export interface ChannelSelector {
  /** Every channel this selector may route to. */
  readonly allChannels: readonly Channel[];
  /**
   * When the routing does not depend on the event, the fixed required and optional
   * lists; the channel processor then skips per-event grouping.
   */
  readonly fixed?: { required: readonly Channel[]; optional: readonly Channel[] };
  getRequiredChannels(event: FlumeEvent): readonly Channel[];
  getOptionalChannels(event: FlumeEvent): readonly Channel[];
  /** Called when the source stops (e.g. to log final counts). */
  close?(): void | Promise<void>;
}

/**
 * Edits or drops events on their way in. Works on whole batches: return the events
 * to keep (the same array may be returned, edited in place). Never grows the batch.
 */
export interface Interceptor {
  initialize?(): void | Promise<void>;
  intercept(events: FlumeEvent[]): FlumeEvent[];
  close?(): void | Promise<void>;
}
