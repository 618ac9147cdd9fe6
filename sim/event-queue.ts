/** A discrete-event queue: a binary min-heap on (time, insertion order), so ties run in FIFO order. */
interface Entry {
  time: number;
  seq: number;
  run: () => void;
}

export class EventQueue {
  private heap: Entry[] = [];
  private seq = 0;
  private current = 0;

  get now(): number {
    return this.current;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `run` at absolute time `time` (never before now). */
  at(time: number, run: () => void): void {
    const entry = { time: Math.max(time, this.current), seq: this.seq++, run };
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, h[parent] as Entry)) break;
      h[i] = h[parent] as Entry;
      i = parent;
    }
    h[i] = entry;
  }

  after(delay: number, run: () => void): void {
    this.at(this.current + Math.max(0, delay), run);
  }

  /** Runs events in time order until none are left or `until` returns true. */
  run(until?: () => boolean): void {
    while (this.heap.length > 0) {
      if (until?.()) return;
      const next = this.pop();
      this.current = next.time;
      next.run();
    }
  }

  private pop(): Entry {
    const h = this.heap;
    const top = h[0] as Entry;
    const last = h.pop() as Entry;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let best = last;
        if (l < h.length && before(h[l] as Entry, best)) {
          m = l;
          best = h[l] as Entry;
        }
        if (r < h.length && before(h[r] as Entry, best)) m = r;
        if (m === i) break;
        h[i] = h[m] as Entry;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
