import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The compiled `crime` entry point, so local processes run exactly what a user would run. */
export const CRIME_BIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface StartedChild {
  child: ChildProcess;
  /** the URL from its "listening URL" line */
  url: string;
}

/**
 * Runs `crime <args>` as a child process with its logs (stderr) appended to `logFile`, and waits
 * for the "listening URL" line it prints when ready. The child exits when this process goes away
 * (CRIME_EXIT_WITH_PARENT), so nothing outlives an interrupted run.
 */
export function startCrime(args: string[], logFile: string, timeoutMs = 120_000): Promise<StartedChild> {
  return startScript(CRIME_BIN, args, logFile, timeoutMs);
}

/** Like startCrime, for any script that prints "listening URL" when ready. */
export function startScript(script: string, args: string[], logFile: string, timeoutMs = 120_000): Promise<StartedChild> {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['--enable-source-maps', script, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, CRIME_EXIT_WITH_PARENT: '1' },
  });
  child.stderr?.pipe(log);
  return new Promise<StartedChild>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`crime ${args[0]} did not start within ${timeoutMs} ms (log: ${logFile})`));
    }, timeoutMs);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const m = /^listening (http:\/\/\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] as string });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`crime ${args[0]} exited (${signal ?? `code ${code}`}) before it was ready; see ${logFile}`));
    });
  });
}

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
