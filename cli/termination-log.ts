/**
 * The termination log of a pod's container (terminationMessagePath): where a command that ends a
 * container writes its one-line reason, so the pod's status shows it and the operator copies it
 * into the topology's (operator/render/failures.ts). Used by `crime model fetch` and `crime runtime`.
 */
import { accessSync, constants, writeFileSync } from 'node:fs';
import { toCrimeError } from '../runtime/errors.js';
import { terminationLogPath, terminationMessage } from '../runtime/models/fetch.js';

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The flag's file ('' for none), else /dev/termination-log when it exists and is writable. */
export function terminationLog(flag: string | undefined): string | undefined {
  return terminationLogPath(flag, writable);
}

/**
 * Runs `body`; if it throws, writes the reason to the termination log first (`CODE: message` with
 * `withCode`, the message alone otherwise) and rethrows.
 */
export async function reportingFailure<T>(logPath: string | undefined, io: { stderr: NodeJS.WritableStream }, command: string, body: () => Promise<T>, withCode = false): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (logPath !== undefined) {
      const e = toCrimeError(err);
      try {
        writeFileSync(logPath, terminationMessage(withCode ? `${e.code}: ${e.message}` : e.message));
      } catch (w) {
        io.stderr.write(`${command}: cannot write the termination log ${logPath}: ${(w as Error).message}\n`);
      }
    }
    throw err;
  }
}
