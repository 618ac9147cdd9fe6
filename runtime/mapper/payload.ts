import type { ModelInfo } from '../backends/types.js';
import type { PayloadModel } from '../engine/types.js';

/** HTTP headers and framing of a request, for the link model's byte counts. */
export const REQUEST_OVERHEAD_BYTES = 400;

/**
 * What one request and its reply take on the wire between mappers, as the engine counts it: the
 * configured sizes, or the model's (binary float32 or int32 steps; JSON outputs, ~12 bytes a
 * number, plus the reply's headers and advertisement), and the request's headers. The mapper and
 * `crime sim --topology` use the same numbers, so a simulated link carries what a live one does.
 */
export function payloadOf(configured: { stepBytes: number; outputBytes: number } | undefined, model: Pick<ModelInfo, 'inputKind' | 'featureSize' | 'outputSize'>): Required<PayloadModel> {
  return {
    stepBytes: configured?.stepBytes ?? (model.inputKind === 'tokens' ? 4 : model.featureSize * 4),
    outputBytes: configured?.outputBytes ?? model.outputSize * 12 + 600,
    overheadBytes: REQUEST_OVERHEAD_BYTES,
  };
}
