/**
 * Creates the backend for a model: a named one, or with `auto` the fastest one that is available for the
 * model's format (onnx: CUDA, then CPU; tfjs: node-gpu, node, wasm, cpu). Logs which one and why.
 */
import { CrimeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { readModelBytes, type FetchOptions } from '../models/source.js';
import { OnnxBackend } from './onnx.js';
import { OnnxPoolBackend } from './onnx-pool.js';
import { TfjsBackend, type TfjsLstmPath } from './tfjs.js';
import { TFJS_BACKENDS, type TfjsBackendName } from './tfjs-runtime.js';
import { batchingOf, type Backend, type BackendName, type Clock, type ConcreteBackendName, type ModelFormat } from './types.js';

export const AUTO_ORDER: Record<ModelFormat, readonly ConcreteBackendName[]> = {
  onnx: ['onnx-cuda', 'onnx-cpu'],
  tfjs: TFJS_BACKENDS,
};

export interface CreateBackendOptions {
  /** Path or http(s) URL: an .onnx file, or a tfjs model.json. */
  location: string;
  /** Defaults to the location's extension (.onnx → onnx, .json → tfjs). */
  format?: ModelFormat;
  backend?: BackendName;
  /** Model name reported by GET /v1/model; defaults to the file name stem. */
  name?: string;
  /** onnxruntime intra-op threads (default 1). */
  threads?: number;
  /**
   * ONNX only: run the model in this many worker threads (onnx-pool.ts), each one run at a time,
   * instead of on the calling thread (0, the default: no hop, today's batch-1 latency).
   */
  workers?: number;
  tfjsLstmPath?: TfjsLstmPath;
  logger?: Logger;
  clock?: Clock;
  fetch?: FetchOptions;
}

export function formatOf(location: string): ModelFormat | undefined {
  const path = location.replace(/[?#].*$/, '').toLowerCase();
  if (path.endsWith('.onnx')) return 'onnx';
  if (path.endsWith('.json')) return 'tfjs';
  return undefined;
}

export function modelNameOf(location: string): string {
  const parts = location.replace(/[?#].*$/, '').split('/').filter((p) => p !== '');
  let stem = parts.pop() ?? 'model';
  if (stem === 'model.json' && parts.length > 0) stem = parts.pop() ?? stem;
  return stem.replace(/\.(onnx|json)$/i, '').replace(/\.tfjs$/i, '');
}

function formatOfBackend(name: ConcreteBackendName): ModelFormat {
  return name.startsWith('onnx') ? 'onnx' : 'tfjs';
}

export async function createBackend(options: CreateBackendOptions): Promise<Backend> {
  const logger = options.logger ?? silentLogger;
  const format = options.format ?? formatOf(options.location);
  if (format === undefined) {
    throw new CrimeError('MODEL_LOAD_FAILED', `cannot tell the model format of ${options.location}: pass a format (onnx or tfjs)`);
  }
  const requested = options.backend ?? 'auto';
  if (requested !== 'auto' && formatOfBackend(requested) !== format) {
    throw new CrimeError('BACKEND_UNAVAILABLE', `backend ${requested} cannot run ${format} models`);
  }
  const candidates = requested === 'auto' ? AUTO_ORDER[format] : [requested];
  const name = options.name ?? modelNameOf(options.location);
  const onnxBytes = format === 'onnx' ? await readModelBytes(options.location, options.fetch) : undefined;
  const skipped: { backend: ConcreteBackendName; reason: string }[] = [];
  for (const candidate of candidates) {
    try {
      const onnx = onnxBytes === undefined ? undefined : {
        model: onnxBytes, name, device: candidate === 'onnx-cuda' ? 'cuda' as const : 'cpu' as const,
        ...(options.threads === undefined ? {} : { threads: options.threads }),
      };
      const backend = onnx !== undefined
        ? (options.workers ?? 0) > 0
          ? await OnnxPoolBackend.create({ ...onnx, workers: options.workers ?? 1 })
          : await OnnxBackend.create({ ...onnx, ...(options.clock === undefined ? {} : { clock: options.clock }) })
        : await TfjsBackend.create({
          location: options.location, name, backend: candidate as TfjsBackendName,
          ...(options.tfjsLstmPath === undefined ? {} : { lstmPath: options.tfjsLstmPath }),
          ...(options.clock === undefined ? {} : { clock: options.clock }),
          ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
        });
      logger.info('backend selected', {
        backend: backend.name,
        requested,
        format,
        model: name,
        reason: requested === 'auto' ? `fastest available for ${format} (order: ${candidates.join(' > ')})` : 'requested',
        skipped,
        batching: batchingOf(backend),
        ...(backend instanceof TfjsBackend
          ? { tfjsPath: backend.path, tfjsFallback: backend.fallbackReason, ...backend.runtime.details }
          : {}),
      });
      return backend;
    } catch (err) {
      if (!(err instanceof CrimeError) || err.code !== 'BACKEND_UNAVAILABLE' || requested !== 'auto') throw err;
      skipped.push({ backend: candidate, reason: err.message });
    }
  }
  throw new CrimeError('BACKEND_UNAVAILABLE', `no backend available for ${format}: ${skipped.map((s) => s.reason).join('; ')}`);
}
