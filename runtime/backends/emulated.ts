import type { Backend, BatchResult, InferResult, ModelInput } from './types.js';

/** How a local-mode device should behave: compute time perStepMs·n + fixedMs. */
export interface EmulatedProfile {
  perStepMs: number;
  fixedMs: number;
  /**
   * Compute times × this (default 1): a device slowing down while it runs. Read on every inference,
   * so whoever holds the profile can change it (`crime runtime --emulate` takes `slowdown K` lines on
   * its stdin: that is how `crime up` plays a load file's device events).
   */
  slowdown?: number;
}

/**
 * A backend that behaves like a slower device: every inference runs for real, then holds its slot
 * until perStepMs·n + fixedMs has passed (never less than the real time) and reports that time.
 * Local topologies run every device on one machine; this is how an ARM edge node or a gateway is
 * emulated next to a "cloud" that runs at this machine's full speed. Never used unless asked for.
 * A batch is held for the time of its longest sequence, as on a GPU, where a batch costs about
 * what one sequence costs (docs/reference.md).
 */
export function emulateProfile(inner: Backend, profile: EmulatedProfile): Backend {
  if (!(profile.perStepMs >= 0) || !(profile.fixedMs >= 0)) throw new RangeError('an emulated profile needs perStepMs ≥ 0 and fixedMs ≥ 0');
  const hold = async (steps: number, computeMs: number): Promise<number> => {
    const target = (profile.perStepMs * steps + profile.fixedMs) * (profile.slowdown ?? 1);
    if (target > computeMs) await new Promise((resolve) => setTimeout(resolve, target - computeMs));
    return Math.max(target, computeMs);
  };
  const batch = inner.inferBatch?.bind(inner);
  return {
    name: inner.name,
    info: inner.info,
    ...(inner.batching ? { batching: inner.batching } : {}),
    async infer(input: ModelInput): Promise<InferResult> {
      const result = await inner.infer(input);
      return { outputs: result.outputs, computeMs: await hold(input.steps, result.computeMs) };
    },
    ...(batch
      ? {
          async inferBatch(inputs: readonly ModelInput[]): Promise<BatchResult> {
            const result = await batch(inputs);
            return { outputs: result.outputs, computeMs: await hold(Math.max(...inputs.map((i) => i.steps)), result.computeMs) };
          },
        }
      : {}),
    dispose: () => inner.dispose(),
  };
}

/** Parses "PER_STEP_MS,FIXED_MS" as given on the command line. */
export function parseProfile(text: string): EmulatedProfile {
  const [perStepMs, fixedMs = 0] = text.split(',').map((s) => Number(s.trim()));
  if (perStepMs === undefined || !Number.isFinite(perStepMs) || perStepMs < 0 || !Number.isFinite(fixedMs) || fixedMs < 0) {
    throw new RangeError(`expected "PER_STEP_MS,FIXED_MS" with non-negative numbers, got "${text}"`);
  }
  return { perStepMs, fixedMs };
}

/**
 * Applies one control line to a running emulation: `slowdown K` (K > 0; 1 restores the profile's
 * own speed). Returns an error message for a line it does not understand.
 */
export function applyEmulationLine(profile: EmulatedProfile, line: string): string | undefined {
  const m = /^\s*slowdown\s+(\S+)\s*$/.exec(line);
  if (!m) return `expected "slowdown K", got ${JSON.stringify(line)}`;
  const k = Number(m[1]);
  if (!Number.isFinite(k) || k <= 0) return `slowdown must be a number above 0, got ${m[1]}`;
  profile.slowdown = k;
  return undefined;
}
