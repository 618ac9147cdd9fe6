/**
 * Everything the mapper's live page shows, gathered in one place: the recent requests (recorded by
 * the pipeline), and, every second, the learned links and cost curves. `data(cursor)` is the
 * documented JSON of GET /ui/data and of every /ui/events message. No secrets: device names and
 * numbers only (no URLs, no token, no configuration).
 */
import type { MappingEngine } from '../../engine/engine.js';
import { costCurves } from './curves.js';
import type { CostCurves, LiveCursor, LiveData } from './browser/live-data.js';
import { RequestLog } from './request-log.js';
import { SampleLog } from './sample-log.js';

export interface LiveViewOptions {
  /** the current engine and its limits, undefined until the mapper is ready */
  current: () => { engine: MappingEngine; maxSteps: number } | undefined;
  device: string;
  requests?: RequestLog;
  samples?: SampleLog;
  /** wall-clock ms since the epoch (default Date.now) */
  clock?: () => number;
}

/** Most points in one answer: a page opened late gets the newest ones, not a burst of megabytes. */
const MAX_POINTS_PER_ANSWER = 4096;

export class LiveView {
  readonly requests: RequestLog;
  readonly samples: SampleLog;
  private curves: CostCurves | null = null;
  private readonly clock: () => number;

  constructor(private readonly o: LiveViewOptions) {
    this.requests = o.requests ?? new RequestLog();
    this.samples = o.samples ?? new SampleLog();
    this.clock = o.clock ?? Date.now;
    this.requests.declare([o.device]);
  }

  /** Takes one sample of the learned links and curves (the mapper calls it every second). */
  sample(): void {
    const current = this.o.current();
    if (!current) return;
    const { engine, maxSteps } = current;
    this.requests.declare(engine.neighbourNames);
    this.curves = costCurves({ estimate: (n) => engine.estimate(n), maxSteps, device: this.o.device, objective: engine.objective });
    const snap = engine.snapshot();
    this.samples.push({
      t: this.clock(),
      links: snap.neighbours.map((nb) => ({
        name: nb.name,
        rttMs: nb.samples > 0 ? round(nb.rttMs) : null,
        bandwidthMbps: nb.samples > 0 && Number.isFinite(nb.bandwidthMbps) ? round(nb.bandwidthMbps) : null,
        down: nb.down,
      })),
      crossovers: this.curves.crossovers.map((c) => c.n),
    });
  }

  data(cursor: LiveCursor = { points: 0, samples: 0 }): LiveData {
    const current = this.o.current();
    const points = this.requests.since(cursor.points, MAX_POINTS_PER_ANSWER);
    const samples = this.samples.since(cursor.samples);
    return {
      device: this.o.device,
      objective: current?.engine.objective ?? null,
      maxSteps: current?.maxSteps ?? null,
      now: this.clock(),
      devices: this.requests.devices,
      counts: this.requests.counts(),
      points: points.points,
      samples: samples.samples,
      curves: this.curves,
      next: { points: points.next, samples: samples.next },
    };
  }
}

function round(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(4)) : v;
}
