/**
 * A one-shot timer that can be injected: production code takes a `SetTimer` in its options so
 * that tests can see and fire the waits it asks for instead of sleeping (no timed tests).
 */
export type SetTimer = (fn: () => void, ms: number) => { cancel(): void };

/** setTimeout that does not keep the process alive on its own. */
export const unrefTimer: SetTimer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};
