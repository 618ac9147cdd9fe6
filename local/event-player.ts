import type { TimedEvent } from '../runtime/timed-events.js';
import type { LinkConditions } from './link-emulator.js';

/** What events act on: a local topology's links and devices. */
export interface EventTarget {
  setLink(from: string, to: string, conditions: Partial<LinkConditions>): unknown;
  setSlowdown(device: string, slowdown: number): void;
  killDevice(device: string): Promise<void>;
  startDevice(device: string): Promise<void>;
}

export interface PlayedEvent {
  event: TimedEvent;
  /** ms after the start the event was due, and when it was applied (undefined until then) */
  dueMs: number;
  appliedMs?: number;
  /** why applying it failed, if it did */
  error?: string;
}

export interface EventPlayerOptions {
  events: readonly TimedEvent[];
  target: EventTarget;
  /** the performance.now() time events' atSec count from (default: now) */
  startAt?: number;
  clock?: () => number;
}

/**
 * Plays a load file's events (runtime/timed-events.ts) on a running local topology at their times:
 * link changes through the link emulators, slowdowns through the emulated runtimes, devices down
 * (killed, as a crash) and up (restarted). Events due at the same time keep their order; each is
 * applied once, even if the previous one is still starting a device.
 */
export class EventPlayer {
  readonly played: PlayedEvent[];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly clock: () => number;
  private readonly startAt: number;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: EventPlayerOptions) {
    this.clock = o.clock ?? (() => performance.now());
    this.startAt = o.startAt ?? this.clock();
    this.played = o.events.map((event) => ({ event, dueMs: event.atSec * 1000 }));
    for (const p of this.played) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        // In order: a device started by one event is up before the next event about it.
        this.chain = this.chain.then(() => this.apply(p));
      }, Math.max(0, this.startAt + p.dueMs - this.clock()));
      this.timers.add(timer);
    }
  }

  /** Events not yet applied. */
  get pending(): number {
    return this.played.filter((p) => p.appliedMs === undefined && p.error === undefined).length;
  }

  /** Resolves once every event was applied (or failed). */
  async done(): Promise<void> {
    while (this.timers.size > 0) await new Promise((r) => setTimeout(r, 20));
    await this.chain;
  }

  /** Drops the events not yet due. */
  cancel(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async apply(p: PlayedEvent): Promise<void> {
    const e = p.event;
    const t = this.o.target;
    try {
      if (e.kind === 'link') {
        t.setLink(e.from, e.to, { ...(e.rttMs === undefined ? {} : { rttMs: e.rttMs }), ...(e.bandwidthMbps === undefined ? {} : { bandwidthMbps: e.bandwidthMbps }) });
      } else {
        if (e.slowdown !== undefined) t.setSlowdown(e.device, e.slowdown);
        if (e.down === true) await t.killDevice(e.device);
        if (e.down === false) await t.startDevice(e.device);
      }
      p.appliedMs = this.clock() - this.startAt;
    } catch (err) {
      p.error = err instanceof Error ? err.message : String(err);
    }
  }
}
