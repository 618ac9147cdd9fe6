import type { Writable } from 'node:stream';

/**
 * A one-line progress bar on a terminal, shown only once work has run for `delayMs` (short runs
 * stay quiet) and never on a pipe or file (logs and --json output stay clean).
 */
export interface Progress {
  update(fraction: number, label?: string): void;
  done(): void;
}

export function progressBar(stream: Writable & { isTTY?: boolean }, options: { delayMs?: number; width?: number } = {}): Progress {
  const started = Date.now();
  const delay = options.delayMs ?? 1000;
  const width = options.width ?? 30;
  let shown = false;
  let lastDraw = 0;
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  return {
    update(fraction, label = '') {
      const now = Date.now();
      if (now - started < delay || now - lastDraw < 100) return;
      lastDraw = now;
      shown = true;
      const f = Math.min(1, Math.max(0, fraction));
      const filled = Math.round(f * width);
      const eta = f > 0 ? ((now - started) / f - (now - started)) / 1000 : 0;
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(f * 100).toFixed(0).padStart(3)}% ${label} eta ${eta.toFixed(0)}s\x1b[K`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
