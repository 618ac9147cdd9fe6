/**
 * Prometheus metrics of one runtime server, on its own registry (several servers can share a process
 * in tests and in `crime up`).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Backend } from '../backends/types.js';

const MS_BUCKETS = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].map((ms) => ms / 1000);

export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'crime_runtime_requests_total',
    help: 'Inference requests by outcome ("ok" or the error code) and body encoding',
    labelNames: ['outcome', 'encoding'] as const,
    registers: [this.registry],
  });
  readonly computeSeconds = new Histogram({
    name: 'crime_runtime_compute_seconds',
    help: 'Model run time per request (backend only; the whole batch\'s for a request that ran in one)',
    buckets: MS_BUCKETS,
    registers: [this.registry],
  });
  readonly queueSeconds = new Histogram({
    name: 'crime_runtime_queue_seconds',
    help: 'Time a request waited for its run to start',
    buckets: [0, ...MS_BUCKETS],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'crime_runtime_batch_size',
    help: 'Requests in the batch each request ran in (1 without batching)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });
  readonly steps = new Counter({
    name: 'crime_runtime_steps_total',
    help: 'Sequence steps processed',
    registers: [this.registry],
  });
  readonly ready = new Gauge({
    name: 'crime_runtime_ready',
    help: '1 once the model is loaded and warmed up',
    registers: [this.registry],
  });
  readonly model = new Gauge({
    name: 'crime_runtime_model_info',
    help: 'The loaded model and the backend running it (value 1)',
    labelNames: ['model', 'format', 'backend', 'input_kind'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean; queueDepth?: () => number } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'crime_runtime_' });
    const depth = options.queueDepth;
    if (depth !== undefined) {
      new Gauge({
        name: 'crime_runtime_queue_depth',
        help: 'Requests waiting for an inference slot (read at scrape time)',
        registers: [this.registry],
        collect() {
          this.set(depth());
        },
      });
    }
  }

  modelLoaded(backend: Backend): void {
    const { info } = backend;
    this.model.set({ model: info.name, format: info.format, backend: backend.name, input_kind: info.inputKind }, 1);
  }
}
