/** Prometheus metrics of the operator, on its own registry. */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'crime_operator_reconciles_total',
    help: 'Reconciles by result (ok, error)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: 'crime_operator_reconcile_seconds',
    help: 'Time one reconcile took',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'crime_operator_queue_depth', help: 'Keys waiting in the work queue', registers: [this.registry] });
  readonly apiRequests = new Counter({
    name: 'crime_operator_api_requests_total',
    help: 'Requests to the Kubernetes API by verb and HTTP status (0: no answer); watches are not counted',
    labelNames: ['verb', 'code'] as const,
    registers: [this.registry],
  });
  readonly apiSeconds = new Histogram({
    name: 'crime_operator_api_request_seconds',
    help: 'Time of one request to the Kubernetes API, by verb',
    labelNames: ['verb'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
    registers: [this.registry],
  });
  readonly informerRestarts = new Counter({
    name: 'crime_operator_informer_restarts_total',
    help: 'Watch restarts by kind and reason (error, gone, stall, relist)',
    labelNames: ['kind', 'reason'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({ name: 'crime_operator_leader', help: '1 while this replica leads', registers: [this.registry] });

  /** Counts one API request (KubeRest's onCall). */
  readonly onCall = (verb: string, code: number, seconds: number): void => {
    this.apiRequests.inc({ verb, code: String(code) });
    this.apiSeconds.observe({ verb }, seconds);
  };

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The API writes so far (every verb but GET): what an idle resync must not add to. */
  async writes(): Promise<number> {
    const values = (await this.apiRequests.get()).values;
    return values.filter((v) => v.labels.verb !== 'GET').reduce((n, v) => n + v.value, 0);
  }
}
