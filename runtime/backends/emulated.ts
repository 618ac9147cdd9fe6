import type { Backend, InferResult, ModelInput } from './types.js';

/**
 * A backend that behaves like a device `factor` times slower: every inference runs for real, then
 * holds its slot for (factor − 1) × its compute time and reports the stretched time. Local
 * topologies run every device on one machine; this is how an ARM edge node or a gateway is
 * emulated next to a "cloud" that runs at full speed. Never used unless asked for.
 */
export function emulateSlowdown(inner: Backend, factor: number): Backend {
  if (!(factor >= 1)) throw new RangeError('the emulated slowdown must be at least 1');
  if (factor === 1) return inner;
  return {
    name: inner.name,
    info: inner.info,
    async infer(input: ModelInput): Promise<InferResult> {
      const result = await inner.infer(input);
      await new Promise((resolve) => setTimeout(resolve, (factor - 1) * result.computeMs));
      return { outputs: result.outputs, computeMs: result.computeMs * factor };
    },
    dispose: () => inner.dispose(),
  };
}
