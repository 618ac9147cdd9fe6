/**
 * Test helper: a clock and a SetTimer that move only when the test says so, so a test can check
 * the waits code asks for (a backoff's growth, a deadline) without sleeping: fire(ms) fires the
 * timers of one delay at once; advance(ms) moves the clock and fires what falls due, in order.
 */
import type { SetTimer } from '../timer.js';

export interface ManualTimers {
  setTimer: SetTimer;
  now: () => number;
  /** the delays of the timers pending now, oldest first */
  pending(): number[];
  /** every delay ever asked for, in order */
  readonly asked: number[];
  /** fires the pending timers of exactly `ms` (all pending ones without it); returns how many */
  fire(ms?: number): number;
  /** moves the clock by `ms`, firing each timer that falls due at its time, letting callbacks settle in between */
  advance(ms: number): Promise<void>;
}

/** Lets pending promise callbacks and I/O callbacks run (no time passes on a manual clock). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export function manualTimers(start = 0): ManualTimers {
  let timers: Array<{ fn: () => void; ms: number; at: number }> = [];
  const asked: number[] = [];
  let now = start;
  const take = (due: typeof timers): void => {
    timers = timers.filter((t) => !due.includes(t));
    for (const t of due) t.fn();
  };
  return {
    asked,
    now: () => now,
    setTimer: (fn, ms) => {
      const t = { fn, ms, at: now + ms };
      timers.push(t);
      asked.push(ms);
      return { cancel: () => void (timers = timers.filter((x) => x !== t)) };
    },
    pending: () => timers.map((t) => t.ms),
    fire(ms) {
      const due = timers.filter((t) => ms === undefined || t.ms === ms);
      take(due);
      return due.length;
    },
    async advance(ms) {
      const end = now + ms;
      await settle();
      for (;;) {
        const next = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        now = Math.max(now, next.at);
        take([next]);
        await settle();
      }
      now = end;
    },
  };
}
