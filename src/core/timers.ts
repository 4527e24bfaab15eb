/**
 * Timers of any length. Node fires a timer after 1 ms when its delay is 2^31 ms or
 * more (with a TimeoutOverflowWarning), so a 30-day roll interval or a huge keep-alive
 * written by a user would become a busy loop. Every wait the runtime schedules from a
 * user's value goes through here: a long delay is a chain of shorter timers.
 */

/** The longest delay one Node timer can hold. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  /** Cancel the timer; safe to call more than once, or after it fired. */
  clear(): void;
  /** Do not keep the process alive for this timer. */
  unref(): LongTimer;
}

/** `setTimeout` for any delay (ms); a non-finite or negative delay fires on the next turn. */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  let remaining = Number.isFinite(ms) && ms > 0 ? ms : 0;
  let timer: NodeJS.Timeout;
  let unrefed = false;
  const arm = (): void => {
    const step = Math.min(remaining, MAX_TIMER_MS);
    remaining -= step;
    timer = setTimeout(remaining > 0 ? arm : fn, step);
    if (unrefed) timer.unref();
  };
  arm();
  const handle: LongTimer = {
    clear: () => clearTimeout(timer),
    unref: () => {
      unrefed = true;
      timer.unref();
      return handle;
    },
  };
  return handle;
}
