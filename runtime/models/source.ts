/**
 * Fetches model files from a local path or an http(s) URL, and resolves a model's companion files
 * (tfjs weight shards) relative to it.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CrimeError } from '../errors.js';

export interface FetchOptions {
  /** Per-file timeout for http(s) downloads. */
  timeoutMs?: number;
}

export function isUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

/** The location of `name` next to `location` (a sibling file or URL). */
export function siblingOf(location: string, name: string): string {
  if (isUrl(location)) return new URL(name, location).href;
  if (name.includes('..') || name.startsWith('/')) {
    throw new CrimeError('MODEL_LOAD_FAILED', `model file reference "${name}" leaves the model's directory`);
  }
  return join(dirname(location), name);
}

export async function readModelBytes(location: string, options: FetchOptions = {}): Promise<Uint8Array> {
  if (!isUrl(location)) {
    try {
      return new Uint8Array(await readFile(location));
    } catch (err) {
      throw new CrimeError('MODEL_LOAD_FAILED', `cannot read model file ${location}: ${(err as Error).message}`, { cause: err });
    }
  }
  let response: Response;
  try {
    response = await fetch(location, { signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) });
  } catch (err) {
    throw new CrimeError('MODEL_LOAD_FAILED', `cannot fetch model ${location}: ${(err as Error).message}`, { cause: err });
  }
  if (!response.ok) {
    throw new CrimeError('MODEL_LOAD_FAILED', `cannot fetch model ${location}: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}
