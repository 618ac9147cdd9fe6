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
  /**
   * Request: ms left until the caller gives up on the request. A request still waiting for its turn
   * when they have passed is answered 504 TIMEOUT without running (the caller is gone).
   */
  deadline: 'crime-deadline-ms',
} as const;

export const BINARY_TYPE = 'application/octet-stream';
export const JSON_TYPE = 'application/json';

/** GET /v1/model. */
export interface RuntimeModelInfo extends ModelInfo {
  backend: ConcreteBackendName;
  maxSteps: number;
}

/** POST /v1/infer, JSON response (binary responses carry the same numbers in headers). */
export interface InferResponseBody {
  outputs: number[];
  computeMs: number;
  queueMs: number;
}

/** POST /v1/infer, JSON request. */
export type InferRequestBody = { inputs: number[][] } | { tokens: number[] };
