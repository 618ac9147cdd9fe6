/** Polling with a deadline, for conditions the control plane reaches eventually. */
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** What is awaited, for the timeout message, e.g. "pod web-0 Running". */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** stops the wait at once (its reason thrown) */
  signal?: AbortSignal;
}

/**
 * Calls `probe` until it returns a value other than undefined, and returns that value. Errors thrown
 * by `probe` count as "not yet"; the last one is reported if the deadline passes.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what}${detail}`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}
