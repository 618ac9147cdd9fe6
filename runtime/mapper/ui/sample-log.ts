/**
 * What the mapper believed over time, for its live page: every few seconds each link's learned RTT
 * and bandwidth and the crossover lengths of its cost curves. A ring of a fixed number of samples,
 * so an hour costs no more memory than a minute.
 */
import type { Sample } from './browser/live-data.js';

export class SampleLog {
  private readonly ring: Sample[] = [];
  private total = 0;

  constructor(readonly capacity = 600) {}

  push(sample: Sample): void {
    if (this.ring.length < this.capacity) this.ring.push(sample);
    else this.ring[this.total % this.capacity] = sample;
    this.total++;
  }

  get seq(): number {
    return this.total;
  }

  get size(): number {
    return this.ring.length;
  }

  /** The samples from sequence number `since` on (the oldest kept if older), oldest first. */
  since(since: number): { samples: Sample[]; next: number } {
    const from = Math.max(since, this.total - this.ring.length, 0);
    const samples: Sample[] = [];
    for (let s = from; s < this.total; s++) samples.push(this.ring[s % this.capacity] as Sample);
    return { samples, next: this.total };
  }
}
