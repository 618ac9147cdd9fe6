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
  /** requests in progress at once before new ones get 503 + Retry-After */
  maxInFlight: 256,
} as const;

export const RUNTIME_DEFAULTS = {
  port: 8081,
  maxBodyBytes: 32 * 1024 * 1024,
  /** requests that may wait for the model */
  maxQueue: 16,
} as const;
