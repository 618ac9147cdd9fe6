/** Small parsing helpers shared by the subcommands (node:util parseArgs gives strings). */
import { readFile } from 'node:fs/promises';
import { CrimeError, InvalidInputError, UsageError } from '../runtime/errors.js';
import { parseServingSettings, type ServingSettings } from '../runtime/serving-settings.js';
import { untilSignal } from './until-signal.js';

export function intOption(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

export function numberOption(value: string | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number ≥ ${min}, got "${value}"`);
  return n;
}

export function listOption(value: string | undefined): string[] | undefined {
  return value?.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function choice<T extends string>(value: string | undefined, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

export function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

/**
 * Reads and parses a user's input file (a scenario, a topology, …). An unreadable file or invalid
 * content is the user's to fix (exit code 2), said in one line naming the file.
 */
export async function readInputFile<T>(file: string, what: string, parse: (text: string) => T | Promise<T>): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CrimeError('INVALID_INPUT', `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  try {
    return await parse(text);
  } catch (err) {
    if (err instanceof InvalidInputError) throw new CrimeError('INVALID_INPUT', `invalid ${what} ${file}: ${err.message}`, { cause: err });
    throw err;
  }
}

export interface Serving {
  url: string;
  /** every address it listens on, one "listening" line each (default: url) */
  addresses?: readonly string[];
  /** resolves once the server can serve; a rejection ends the command */
  ready: Promise<unknown>;
  close(): Promise<void>;
}

/**
 * A long-running server command: start it, wait until it is ready (closing it if it never gets
 * there), print "listening URL" per address (what `crime up` and the benchmarks wait for), serve
 * until SIGTERM or SIGINT, drain. A signal during start-up closes it too (the mapper's start-up
 * is aborted by its close) and ends the command without the readiness lines.
 */
export async function serveUntilSignal(io: { stdout: NodeJS.WritableStream }, start: () => Promise<Serving>): Promise<number> {
  const stop = untilSignal();
  let server: Serving | undefined;
  try {
    server = await start();
    const first = await Promise.race([stop.signalled.then(() => 'signal' as const), server.ready.then(() => 'ready' as const)]);
    if (first === 'ready') {
      io.stdout.write((server.addresses ?? [server.url]).map((a) => `listening ${a}\n`).join(''));
      await stop.signalled;
    }
  } finally {
    stop.dispose();
    await server?.close();
  }
  return 0;
}

/**
 * Writes a long-running command's readiness lines, then resolves on the first SIGTERM or SIGINT
 * (see until-signal.ts). The handlers go in first: whoever reads the lines may signal at once, and
 * a signal that came before them would kill the process without draining.
 */
export async function announceUntilSignal(stdout: NodeJS.WritableStream, lines: string): Promise<void> {
  const stop = untilSignal();
  try {
    stdout.write(lines);
    await stop.signalled;
  } finally {
    stop.dispose();
  }
}

const SERVING_FLAGS = { maxBatch: 'max-batch', maxDelayMs: 'max-delay-ms', concurrency: 'concurrency' } as const;

/**
 * A runtime's serving settings from --max-batch, --max-delay-ms and --concurrency, with the bounds
 * of the topology's spec.devices[].serving (one parser); an error names the flag.
 */
export function servingOption(values: Partial<Record<(typeof SERVING_FLAGS)[keyof typeof SERVING_FLAGS], string>>, defaults: ServingSettings): ServingSettings {
  const given: Record<string, unknown> = {};
  for (const [field, flag] of Object.entries(SERVING_FLAGS)) {
    const value = values[flag];
    if (value !== undefined) given[field] = value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  }
  try {
    return parseServingSettings(given, '', defaults);
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    const flag = SERVING_FLAGS[err.field as keyof typeof SERVING_FLAGS];
    throw new UsageError(`--${flag} ${err.message.slice(err.field.length + 2)}`);
  }
}
