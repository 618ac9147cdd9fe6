/**
 * How a long-running command (cluster up, operator, up, runtime, mapper, …) knows to stop: the first
 * SIGTERM or SIGINT, whatever its stdin is (a terminal, a pipe, /dev/null, nohup, a service manager).
 *
 * - It holds the event loop itself until then. Nothing else may: `crime cluster up` keeps only
 *   unreferenced child processes, and a command waiting on a promise that nothing in the loop can
 *   settle ends with "unsettled top-level await" (exit 13) as soon as it printed its lines.
 * - SIGHUP: on a terminal it means the terminal went away, so the command stops as on SIGTERM.
 *   Detached (no terminal on stdin, stdout or stderr: nohup, a service manager, pipes) it is ignored,
 *   which is what nohup asks for: Node resets the ignored disposition nohup hands it to the default,
 *   which would end the process.
 */
import { isatty } from 'node:tty';

export interface UntilSignal {
  /** resolves with the signal that asked the command to stop */
  signalled: Promise<NodeJS.Signals>;
  /** removes the handlers and lets the event loop go; call once stopping */
  dispose(): void;
}

/** Whether the process runs on a terminal (any of its standard streams is one). */
export const onTerminal = (): boolean => [0, 1, 2].some((fd) => isatty(fd));

/** The longest a timer may wait (a longer one fires at once). */
const HOLD_MS = 2 ** 31 - 1;

export function untilSignal(options: { terminal?: boolean } = {}): UntilSignal {
  const stopOn: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', ...(options.terminal ?? onTerminal() ? (['SIGHUP'] as const) : [])];
  const ignore = (): void => undefined;
  let hold: NodeJS.Timeout | undefined = setInterval(ignore, HOLD_MS);
  let resolveSignal!: (signal: NodeJS.Signals) => void;
  const signalled = new Promise<NodeJS.Signals>((resolve) => (resolveSignal = resolve));
  const stop = (signal: NodeJS.Signals): void => {
    // Our listener stays until this signal's other listeners ran: one that kills everything unless
    // someone else handles the signal (devcluster/processes.ts) must see us, whichever was first.
    queueMicrotask(dispose);
    resolveSignal(signal);
  };
  const dispose = (): void => {
    if (hold === undefined) return;
    clearInterval(hold);
    hold = undefined;
    for (const s of stopOn) process.off(s, stop);
    process.off('SIGHUP', ignore);
  };
  for (const s of stopOn) process.on(s, stop);
  if (!stopOn.includes('SIGHUP')) process.on('SIGHUP', ignore);
  return { signalled, dispose };
}
