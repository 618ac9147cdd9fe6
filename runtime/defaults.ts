/**
 * Every default a user can override, in one place: the RnnTopology's mapping settings, the
 * mapper's configuration and limits, the runtime's, and what the simulator assumes of them.
 * The CRD's `default:` values must equal these (a test checks it).
 */
export const MAPPING_DEFAULTS = {
  /** RLS forgetting factor: about the last 50 samples count */
  forgetting: 0.98,
  /** ping a neighbour not used for this long */
  pingIdleSeconds: 5,
  /** least time an offload may take before it is abandoned for the next candidate */
  requestTimeoutMs: 5000,
} as const;

/**
 * How long one attempt at a candidate may take (runtime/mapper/deadline.ts), inside the request's
 * budget (mapping.requestTimeoutMs at the entry). Fixed: they are ratios and margins, not settings.
 */
export const HOP_TIMEOUT = {
  /** an attempt may take this many times its estimate ... */
  factor: 3,
  /**
   * ... and at least this much more than it: estimates of short requests are a few ms, and a
   * neighbour whose own neighbour hangs needs room to fall back before it answers
   */
  slackMs: 500,
  /**
   * the cheapest later candidate is kept this many times its estimate of room (plus reserveSlackMs):
   * when many requests fall back at once, they queue behind each other ...
   */
  reserveFactor: 3,
  reserveSlackMs: 20,
  /** ... but an attempt always gets at least this share of the time left */
  minShare: 0.5,
  /** the callee must answer this long before the caller's timeout, beyond the network time */
  answerMarginMs: 20,
} as const;

/** How often a mapper asks its runtime whether it is ready, and how long it waits for the answer. */
export const RUNTIME_PROBE_MS = 1000;

/** Input lengths a mapper runs through its runtime at start-up to seed its compute model (and later to keep it fresh). */
export const CALIBRATION_STEPS: readonly number[] = [1, 8, 32, 128];

/**
 * Self-calibration: while its runtime is idle, a device times a few of its own inferences so its
 * compute model stays right at lengths callers stopped sending it (runtime/engine/self-calibration.ts).
 */
export const SELF_CALIBRATION_DEFAULTS = {
  /** most share of the device's time spent calibrating (0 turns it off) */
  budget: 0.02,
  /** time one run when the compute model learned nothing for this long */
  idleSeconds: 5,
  /** a length is worth a run when the model's own relative standard error there exceeds this */
  tolerance: 0.2,
} as const;

export const MODEL_DEFAULTS = {
  /** longer inputs are refused with 413 INPUT_TOO_LONG */
  maxSteps: 2000,
} as const;

export const MAPPER_DEFAULTS = {
  port: 8080,
  /** largest request body accepted, bytes */
  maxBodyBytes: 32 * 1024 * 1024,
  /**
   * request bodies being received at once, all together, bytes: bounds the memory bodies take
   * (decoding a JSON body takes a few times its size) whatever the number of clients
   */
  maxBodyBytesInFlight: 64 * 1024 * 1024,
  /** requests being mapped at once (bodies already read) before new ones get 503 + Retry-After */
  maxInFlight: 256,
  /** open connections from one client address; a neighbour's mapper uses up to 64 */
  maxConnectionsPerClient: 128,
  /** a request's headers must arrive within this long */
  headersTimeoutMs: 10_000,
  /** a request's body must arrive within this long of its headers (408 otherwise) */
  bodyTimeoutMs: 10_000,
  /** a connection silent both ways for this long is closed */
  idleTimeoutMs: 60_000,
} as const;

/**
 * How a runtime serves when a device does not say (runtime/serving-settings.ts picks by device).
 * Measured with `crime bench throughput` (docs/runtime.md#batching): see there for the numbers.
 */
export const SERVING_DEFAULTS = {
  /** edge and gateway devices: one request at a time, batch 1, as before batching existed */
  off: { maxBatch: 1, maxDelayMs: 0, concurrency: 1 },
  /** a cloud device without a GPU: batches form behind a busy run, none is held back */
  cloudCpu: { maxBatch: 16, maxDelayMs: 0, concurrency: 1 },
  /** a GPU device: a batch of 64 costs about what one request costs (docs/reference.md) */
  gpu: { maxBatch: 64, maxDelayMs: 0, concurrency: 2 },
} as const;

export const RUNTIME_DEFAULTS = {
  port: 8081,
  maxBodyBytes: 32 * 1024 * 1024,
  /** requests that may wait for the model */
  maxQueue: 16,
} as const;
