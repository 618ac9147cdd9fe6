/**
 * The runtime's HTTP contract, shared by the server and RuntimeClient: paths, headers, bodies.
 */
import type { ConcreteBackendName, ModelInfo } from '../backends/types.js';

export const PATHS = {
  infer: '/v1/infer',
  model: '/v1/model',
  healthz: '/healthz',
  readyz: '/readyz',
  metrics: '/metrics',
} as const;

export const HEADERS = {
  /** Request: "n,featureSize" (float32) or "n" (int32 tokens); binary response: "outputSize". */
  shape: 'crime-shape',
  /** Request: "float32" (default for floats models) or "int32" (default for tokens models). */
  dtype: 'crime-dtype',
  /** Echoed request id (the mapper's), for log correlation. */
  requestId: 'crime-request-id',
  computeMs: 'crime-compute-ms',
  queueMs: 'crime-queue-ms',
  /** The runtime's own elapsed time for the request, from body received to response written. */
  remoteMs: 'crime-remote-ms',
  /** Response: requests in the batch this one ran in (1 without batching); compute-ms is that batch's. */
  batchSize: 'crime-batch-size',
  /** Response: the steps that batch ran (its longest sequence's). */
  batchSteps: 'crime-batch-steps',
  /**
   * Request: ms left until the caller gives up on the request. A request still waiting for its turn
   * when they have passed is answered 504 TIMEOUT without running (the caller is gone).
   */
  deadline: 'crime-deadline-ms',
} as const;

export const BINARY_TYPE = 'application/octet-stream';
export const JSON_TYPE = 'application/json';

/** How the runtime serves, as it runs (GET /v1/model): the configuration within what the backend allows. */
export interface RuntimeServing {
  /** most requests in one run: the configured maxBatch, or 1 where the model or backend cannot batch */
  maxBatch: number;
  maxDelayMs: number;
  concurrency: number;
  /** requests of different lengths share a run (the model takes their lengths) */
  mixedLengths: boolean;
  /** runs execute in worker threads, off the event loop */
  workers: number;
  /** why maxBatch is below the configured one, when it is */
  note?: string;
}

/** GET /v1/model. */
export interface RuntimeModelInfo extends ModelInfo {
  backend: ConcreteBackendName;
  maxSteps: number;
  /** absent from runtimes older than batching */
  serving?: RuntimeServing;
}

/** POST /v1/infer, JSON response (binary responses carry the same numbers in headers). */
export interface InferResponseBody {
  outputs: number[];
  /** the run's time: the whole batch's when it ran in one */
  computeMs: number;
  queueMs: number;
  /** the batch it ran in: { size: 1, steps: n } without batching */
  batch: { size: number; steps: number };
}

/** POST /v1/infer, JSON request. */
export type InferRequestBody = { inputs: number[][] } | { tokens: number[] };
