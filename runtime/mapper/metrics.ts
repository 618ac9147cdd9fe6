/**
 * Prometheus metrics of one mapper, on its own registry: requests by decision and outcome,
 * latency, stage times, fallbacks, pings, and the engine's learned models as gauges (read from the
 * engine at scrape time, so they are never stale).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EngineSnapshot } from '../engine/engine.js';

const BUCKETS = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000].map((ms) => ms / 1000);

export class MapperMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'crime_mapper_requests_total',
    help: 'Requests by origin (client or peer), the engine\'s first choice, and outcome (ok, failed)',
    labelNames: ['origin', 'decision', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'crime_mapper_rejected_total',
    help: 'Requests refused before mapping, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'crime_mapper_request_seconds',
    help: 'Time from request decoded to answer ready, by where it was served (local or offload)',
    labelNames: ['served_by'] as const,
    buckets: BUCKETS,
    registers: [this.registry],
  });
  readonly stage = new Histogram({
    name: 'crime_mapper_stage_seconds',
    help: 'Time per pipeline stage (decode, decide, invoke, encode)',
    labelNames: ['stage'] as const,
    buckets: [0.00001, 0.00005, 0.0001, 0.0005, ...BUCKETS],
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({
    name: 'crime_mapper_fallbacks_total',
    help: 'Candidates that failed and were replaced by the next best, by candidate and error code',
    labelNames: ['from', 'code'] as const,
    registers: [this.registry],
  });
  readonly pings = new Counter({
    name: 'crime_mapper_pings_total',
    help: 'Pings to neighbours by outcome (ok or the error code)',
    labelNames: ['neighbour', 'outcome'] as const,
    registers: [this.registry],
  });
  /** the end node's radio time on pings is what they cost it under the energy objective */
  readonly pingBytes = new Counter({
    name: 'crime_mapper_ping_bytes_total',
    help: 'Payload bytes of the pings sent to neighbours (bandwidth probes), by neighbour',
    labelNames: ['neighbour'] as const,
    registers: [this.registry],
  });
  readonly policy = new Gauge({
    name: 'crime_mapper_policy',
    help: 'The mapping policy in force (crime, local, threshold, device:<name>): 1 for it',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'crime_mapper_config_reloads_total',
    help: 'Configuration file changes, by outcome (applied, refused)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly runtimeUp = new Gauge({ name: 'crime_mapper_runtime_up', help: '1 while this device\'s runtime answers, else 0', registers: [this.registry] });
  readonly inFlight = new Gauge({ name: 'crime_mapper_in_flight', help: 'Requests being mapped now', registers: [this.registry] });

  constructor(options: { snapshot: () => EngineSnapshot | undefined; defaultMetrics?: boolean }) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'crime_mapper_' });
    const { snapshot } = options;
    const engineGauge = (name: string, help: string, read: (s: EngineSnapshot) => number): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const s = snapshot();
          if (s) this.set(read(s));
        },
      });
    };
    engineGauge('crime_engine_compute_ms_per_step', 'Learned local compute time per input step (slope of T(n))', (s) => s.compute.perStepMs);
    engineGauge('crime_engine_compute_fixed_ms', 'Learned local fixed compute time (intercept of T(n))', (s) => s.compute.fixedMs);
    engineGauge('crime_engine_queue_ms', 'Expected queue wait at the local runtime', (s) => s.queueMs);
    const neighbourGauge = (name: string, help: string, read: (n: EngineSnapshot['neighbours'][number]) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['neighbour'] as const,
        registers: [this.registry],
        collect() {
          const s = snapshot();
          this.reset();
          for (const n of s?.neighbours ?? []) this.set({ neighbour: n.name }, read(n));
        },
      });
    };
    neighbourGauge('crime_engine_link_rtt_ms', 'Learned round-trip time to each neighbour', (n) => n.rttMs);
    neighbourGauge('crime_engine_link_bandwidth_mbps', 'Learned bandwidth to each neighbour (+Inf until measured)', (n) => n.bandwidthMbps);
    neighbourGauge('crime_engine_neighbour_up', '1 if the neighbour answers, 0 after a failure until a ping succeeds', (n) => (n.down ? 0 : 1));
    neighbourGauge('crime_engine_neighbour_queue_ms', 'Believed queue wait at each neighbour', (n) => n.queueMs);
  }
}
