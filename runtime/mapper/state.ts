import type { SelfCalibrationPolicy } from '../engine/self-calibration.js';
import { CrimeError } from '../errors.js';
import type { RuntimeModelInfo } from '../server/protocol.js';
import type { MapperLimits } from './config.js';
import type { Pipeline } from './pipeline.js';

/** What the handlers read on every request; replaced as a whole when the configuration reloads. */
export interface MapperState {
  device: string;
  /** set once the runtime is ready and the engine calibrated */
  pipeline: Pipeline | undefined;
  model: RuntimeModelInfo | undefined;
  maxSteps: number;
  token: string | undefined;
  clientsNeedToken: boolean;
  limits: MapperLimits;
  /** the budget of a request that enters here without a shorter one (mapping.requestTimeoutMs) */
  requestTimeoutMs: number;
  /** mapping.selfCalibration, as the engine takes it */
  selfCalibration: SelfCalibrationPolicy;
  /** whether this device's runtime answers */
  runtime: { readonly up: boolean };
}

export function readyState(state: MapperState): { pipeline: Pipeline; model: RuntimeModelInfo } {
  if (!state.pipeline || !state.model) throw new CrimeError('NOT_READY', 'the mapper is still calibrating its runtime', { retryAfterSec: 1 });
  return { pipeline: state.pipeline, model: state.model };
}
