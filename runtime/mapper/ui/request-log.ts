/**
 * The mapper's recent requests for its live page (/ui): a fixed ring of typed arrays, so recording
 * one request is O(1), allocates nothing, and the memory is the same after an hour as after a
 * minute. Device names are interned into a small table (a peer's reply names who served it, so
 * the table is bounded too: names past the limit are counted as OTHER_DEVICE).
 */

import { NO_DEVICE, OTHER_DEVICE, REQUEST_FLAGS, type RequestPoint } from './browser/live-data.js';

/** At most this many distinct device names; the rest are one "(other)". */
export const MAX_DEVICES = 32;

export interface RequestLogOptions {
  /** requests kept (default 4096) */
  capacity?: number;
  /** wall-clock time in ms since the epoch (default Date.now) */
  clock?: () => number;
}

export class RequestLog {
  readonly capacity: number;
  private readonly clock: () => number;
  private readonly at: Float64Array;
  private readonly steps: Int32Array;
  private readonly device: Uint8Array;
  private readonly flags: Uint8Array;
  private readonly latency: Float32Array;
  /** requests recorded since start; the next one goes to slot total % capacity */
  private total = 0;
  private readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  /** requests per device index since start */
  private readonly served = new Float64Array(MAX_DEVICES);

  constructor(options: RequestLogOptions = {}) {
    this.capacity = Math.max(1, Math.floor(options.capacity ?? 4096));
    this.clock = options.clock ?? Date.now;
    this.at = new Float64Array(this.capacity);
    this.steps = new Int32Array(this.capacity);
    this.device = new Uint8Array(this.capacity);
    this.flags = new Uint8Array(this.capacity);
    this.latency = new Float32Array(this.capacity);
  }

  /** Names first shown in this order (this device, then its neighbours) keep their colours on the page. */
  declare(names: readonly string[]): void {
    for (const name of names) this.deviceIndex(name);
  }

  /** Records one request: who served it (undefined when it failed), its flags, how long it took. */
  record(n: number, servedBy: string | undefined, flags: number, latencyMs: number): void {
    const slot = this.total % this.capacity;
    const device = servedBy === undefined ? this.deviceIndex(NO_DEVICE) : this.deviceIndex(servedBy);
    this.at[slot] = this.clock();
    this.steps[slot] = n;
    this.device[slot] = device;
    this.flags[slot] = servedBy === undefined ? flags | REQUEST_FLAGS.failed : flags;
    this.latency[slot] = latencyMs;
    this.served[device] = (this.served[device] as number) + 1;
    this.total++;
  }

  /** Sequence number of the next request to be recorded (a client's cursor). */
  get seq(): number {
    return this.total;
  }

  /** Device names by index (the points' third field). */
  get devices(): readonly string[] {
    return this.names;
  }

  /** Requests per device since start. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    this.names.forEach((name, i) => {
      out[name] = this.served[i] as number;
    });
    return out;
  }

  /**
   * The requests recorded from sequence number `since` on (the oldest still kept if it is older),
   * at most `max` of them, the newest ones; and the sequence number to ask from next time.
   */
  since(since: number, max = this.capacity): { points: RequestPoint[]; next: number } {
    const from = Math.max(since, this.total - this.capacity, this.total - max, 0);
    const points: RequestPoint[] = [];
    for (let s = from; s < this.total; s++) {
      const slot = s % this.capacity;
      points.push([this.at[slot] as number, this.steps[slot] as number, this.device[slot] as number, this.flags[slot] as number, round2(this.latency[slot] as number)]);
    }
    return { points, next: this.total };
  }

  private deviceIndex(name: string): number {
    const known = this.index.get(name);
    if (known !== undefined) return known;
    // Two slots stay free for the two names of our own.
    if (this.names.length >= MAX_DEVICES - 2 && name !== OTHER_DEVICE && name !== NO_DEVICE) return this.deviceIndex(OTHER_DEVICE);
    const i = this.names.length;
    this.names.push(name);
    this.index.set(name, i);
    return i;
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
