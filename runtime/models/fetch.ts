/**
 * `crime model fetch`: puts the model an RnnTopology names into a local file, as the operator's
 * init container does before the runtime starts (into an emptyDir shared with it).
 *
 * - http(s): downloaded with a stall timeout and a size bound, streamed to a temporary file next
 *   to the destination and renamed into place only when complete and verified, so a failed or
 *   interrupted fetch never leaves a half file behind;
 * - a local path or file:///: copied the same way (for `crime up` and tests);
 * - pvc://: not fetched, the operator mounts the claim; asking is an error that says so.
 *
 * For tfjs, the URI names model.json and its weight shards (weightsManifest paths, relative to it)
 * are fetched beside it; `sha256` covers the file the URI names. The pure parts (planning, shard
 * names, sizes, messages) are separate from the I/O below them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { CrimeError } from '../errors.js';
import { siblingOf } from './source.js';
import { parseModelUri } from './uri.js';

export const DEFAULT_MAX_BYTES = 2 * 2 ** 30;
export const DEFAULT_TIMEOUT_MS = 60_000;

/** A failed fetch, with a one-line reason fit for a pod's termination message. */
/** A fetch failed (MODEL_LOAD_FAILED), or was asked for wrongly (`usage`: a pvc:// URI, a bad digest; INVALID_INPUT). */
export class FetchError extends CrimeError {
  constructor(message: string, options: { usage?: boolean; cause?: unknown } = {}) {
    super(options.usage ? 'INVALID_INPUT' : 'MODEL_LOAD_FAILED', message.replace(/\s*\n\s*/g, ' '), options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'FetchError';
  }
}

export type ModelFormat = 'onnx' | 'tfjs';

export interface FetchModelOptions {
  uri: string;
  /** Where the file the URI names goes (for tfjs, model.json; its shards go beside it). */
  out: string;
  /** Unset: tfjs when the URI's path ends in .json, else onnx. */
  format?: ModelFormat;
  /** Expected SHA-256 of the file the URI names, hexadecimal. */
  sha256?: string;
  /** Bound on the bytes fetched in total (all files). */
  maxBytes?: number;
  /** A request fails when no headers or no bytes arrive for this long. */
  timeoutMs?: number;
  /** Relative local paths are taken from here (default: the working directory). */
  baseDir?: string;
}

export interface FetchedFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface FetchedModel {
  format: ModelFormat;
  /** The file the URI names first, then any shards. */
  files: FetchedFile[];
}

// ---- Pure parts ----

/** Where to read from: an http(s) URL or a local path. Throws a usage FetchError for pvc://. */
export type FetchSource = { kind: 'http'; url: string } | { kind: 'local'; path: string };

export function planFetch(uri: string, baseDir = process.cwd()): FetchSource {
  let parsed;
  try {
    parsed = parseModelUri(uri);
  } catch (err) {
    throw new FetchError((err as Error).message, { usage: true, cause: err });
  }
  if (parsed.kind === 'pvc') {
    throw new FetchError(
      `${uri} is not fetched: a pvc:// model is read from the claim "${parsed.claim}", which the operator mounts into the pod; no init container is needed`,
      { usage: true },
    );
  }
  if (parsed.kind === 'http') return parsed;
  return { kind: 'local', path: isAbsolute(parsed.path) ? parsed.path : resolvePath(baseDir, parsed.path) };
}

export function inferFormat(uri: string): ModelFormat {
  const path = /^https?:\/\//.test(uri) ? new URL(uri).pathname : uri;
  return /\.json$/i.test(path) ? 'tfjs' : 'onnx';
}

/** Normalises a digest given on the command line; throws a usage FetchError if it is not one. */
export function normaliseSha256(hex: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new FetchError(`--sha256 must be 64 hexadecimal digits, got "${hex}"`, { usage: true });
  return hex.toLowerCase();
}

/** Bytes from "2147483648", "512Mi", "2Gi", "2GiB", "100M". */
export function parseByteSize(text: string): number {
  const m = /^(\d+)(K|M|G|T|Ki|Mi|Gi|Ti)?B?$/.exec(text.trim());
  if (m === null) throw new FetchError(`a size must be a whole number of bytes with an optional K, M, G, Ki, Mi or Gi, got "${text}"`, { usage: true });
  const unit: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  return Number(m[1]) * (unit[m[2] ?? ''] ?? 1);
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${+(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${+(n / 2 ** 20).toFixed(2)} MiB`;
  if (n >= 2 ** 10) return `${+(n / 2 ** 10).toFixed(2)} KiB`;
  return `${n} bytes`;
}

export function digestMismatch(what: string, expected: string, actual: string): string {
  return `sha256 mismatch for ${what}: expected ${expected}, got ${actual}`;
}

export function tooLarge(what: string, maxBytes: number): string {
  return `${what} is larger than the limit of ${formatBytes(maxBytes)} (--max-bytes)`;
}

/**
 * The weight shard paths of a tfjs model.json, each checked to stay beside it: relative, no ".."
 * segment, no scheme, query or backslash.
 */
export function tfjsShardPaths(modelJson: string, what: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(modelJson);
  } catch (err) {
    throw new FetchError(`${what} is not a tfjs model.json: ${(err as Error).message}`, { cause: err });
  }
  const manifest = (doc as { weightsManifest?: unknown } | null)?.weightsManifest;
  if (!Array.isArray(manifest)) throw new FetchError(`${what} is not a tfjs model.json: it has no weightsManifest list`);
  const paths: string[] = [];
  for (const group of manifest as { paths?: unknown }[]) {
    if (!Array.isArray(group?.paths)) throw new FetchError(`${what}: a weightsManifest entry has no paths list`);
    for (const p of group.paths as unknown[]) {
      if (typeof p !== 'string' || p === '' || p.startsWith('/') || /[\\:?#]/.test(p) || p.split('/').some((s) => s === '..' || s === '' || s === '.')) {
        throw new FetchError(`${what}: weight shard path ${JSON.stringify(p)} does not stay beside model.json`);
      }
      if (!paths.includes(p)) paths.push(p);
    }
  }
  return paths;
}

/**
 * Where a failure's one-line reason is written for Kubernetes (terminationMessagePath): the flag if
 * given ('' turns it off), else /dev/termination-log when it exists and is writable.
 */
export function terminationLogPath(flag: string | undefined, writable: (path: string) => boolean): string | undefined {
  if (flag !== undefined) return flag === '' ? undefined : flag;
  return writable('/dev/termination-log') ? '/dev/termination-log' : undefined;
}

/** Kubernetes keeps at most 4096 bytes of a termination message. */
export function terminationMessage(reason: string): string {
  const line = reason.replace(/\s*\n\s*/g, ' ');
  const bytes = Buffer.from(line);
  return bytes.length <= 4096 ? line : `${bytes.subarray(0, 4093).toString('utf8').replace(/\uFFFD$/, '')}...`;
}

// ---- I/O ----

interface Budget {
  maxBytes: number;
  used: number;
}

interface Staged {
  temp: string;
  dest: string;
  file: FetchedFile;
}

function tempPathFor(dest: string): string {
  return join(dirname(dest), `.${randomBytes(6).toString('hex')}.part`);
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/** Streams `source` into a temporary file beside `dest`, counting against `budget` and hashing. */
async function stage(source: Readable, dest: string, what: string, budget: Budget, onData: () => void = () => undefined): Promise<Staged> {
  await mkdir(dirname(dest), { recursive: true });
  const temp = tempPathFor(dest);
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      onData();
      bytes += chunk.length;
      budget.used += chunk.length;
      if (budget.used > budget.maxBytes) {
        done(new FetchError(tooLarge(what, budget.maxBytes)));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, meter, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
  } catch (err) {
    await removeQuietly(temp);
    throw err;
  }
  return { temp, dest, file: { path: dest, bytes, sha256: hash.digest('hex') } };
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  const detail = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
  return detail;
}

async function stageHttp(url: string, dest: string, budget: Budget, timeoutMs: number): Promise<Staged> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let stalled = false;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort();
    }, timeoutMs);
  };
  const stallMessage = (): string => `no data from ${url} for ${timeoutMs / 1000} s (--timeout)`;
  arm();
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    } catch (err) {
      throw new FetchError(stalled ? stallMessage() : `cannot fetch ${url}: ${describeNetworkError(err)}`, { cause: err });
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel().catch(() => undefined);
      throw new FetchError(`cannot fetch ${url}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(declared) && budget.used + declared > budget.maxBytes) {
      controller.abort();
      throw new FetchError(tooLarge(`${url} (${formatBytes(declared)})`, budget.maxBytes));
    }
    try {
      return await stage(Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>), dest, url, budget, arm);
    } catch (err) {
      if (err instanceof FetchError) throw err;
      throw new FetchError(stalled ? stallMessage() : `download of ${url} failed: ${describeNetworkError(err)}`, { cause: err });
    }
  } finally {
    clearTimeout(timer);
  }
}

async function stageLocal(path: string, dest: string, budget: Budget): Promise<Staged> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new FetchError(`cannot read ${path}: not a file`);
    size = s.size;
  } catch (err) {
    if (err instanceof FetchError) throw err;
    throw new FetchError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  if (budget.used + size > budget.maxBytes) throw new FetchError(tooLarge(`${path} (${formatBytes(size)})`, budget.maxBytes));
  try {
    return await stage(createReadStream(path), dest, path, budget);
  } catch (err) {
    if (err instanceof FetchError) throw err;
    throw new FetchError(`cannot copy ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function stageFrom(source: FetchSource, dest: string, budget: Budget, timeoutMs: number): Promise<Staged> {
  return source.kind === 'http' ? stageHttp(source.url, dest, budget, timeoutMs) : stageLocal(source.path, dest, budget);
}

function locationOf(source: FetchSource): string {
  return source.kind === 'http' ? source.url : source.path;
}

/**
 * Fetches the model (and, for tfjs, its shards) into `out`. Every file is staged beside its
 * destination and renamed into place only once all are complete and the digest matches; on any
 * failure nothing new is left behind.
 */
export async function fetchModel(options: FetchModelOptions): Promise<FetchedModel> {
  const source = planFetch(options.uri, options.baseDir);
  const format = options.format ?? inferFormat(options.uri);
  const expected = options.sha256 === undefined ? undefined : normaliseSha256(options.sha256);
  const budget: Budget = { maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES, used: 0 };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const out = resolvePath(options.out);
  const staged: Staged[] = [];
  try {
    const main = await stageFrom(source, out, budget, timeoutMs);
    staged.push(main);
    if (expected !== undefined && main.file.sha256 !== expected) throw new FetchError(digestMismatch(options.uri, expected, main.file.sha256));
    if (format === 'tfjs') {
      const location = locationOf(source);
      for (const shard of tfjsShardPaths(await readFile(main.temp, 'utf8'), options.uri)) {
        const shardLocation = siblingOf(location, shard);
        const shardSource: FetchSource = source.kind === 'http' ? { kind: 'http', url: shardLocation } : { kind: 'local', path: shardLocation };
        staged.push(await stageFrom(shardSource, join(dirname(out), shard), budget, timeoutMs));
      }
    }
    // Shards first, the named file last: its presence means the model is complete.
    for (const s of [...staged.slice(1), staged[0] as Staged]) await rename(s.temp, s.dest);
    return { format, files: staged.map((s) => s.file) };
  } catch (err) {
    await Promise.all(staged.map((s) => removeQuietly(s.temp)));
    if (err instanceof FetchError) throw err;
    throw new FetchError(`cannot write ${out}: ${(err as Error).message}`, { cause: err });
  }
}
