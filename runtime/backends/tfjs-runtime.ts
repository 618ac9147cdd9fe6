/**
 * Loads one of the tfjs flavours and activates its engine backend: tfjs-node-gpu and tfjs-node (optional,
 * native libtensorflow; imported only when present), the WebAssembly backend, or plain JavaScript.
 */
import type * as TfNamespace from '@tensorflow/tfjs';
import { CrimeError } from '../errors.js';

export type Tf = typeof TfNamespace;

export type TfjsBackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'tfjs-wasm' | 'tfjs-cpu';

export const TFJS_BACKENDS: readonly TfjsBackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu'];

export interface TfjsRuntime {
  name: TfjsBackendName;
  tf: Tf;
  /** The tfjs engine backend this flavour registers: "tensorflow", "wasm" or "cpu". */
  engineBackend: string;
  /** Human-readable facts for the selection log (threads, SIMD). */
  details: Record<string, string | number | boolean>;
}

/** Imports a package by a name TypeScript does not resolve (it may not be installed). */
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

function unavailable(name: TfjsBackendName, reason: string, cause?: unknown): CrimeError {
  return new CrimeError('BACKEND_UNAVAILABLE', `${name} is not available: ${reason}`, cause === undefined ? {} : { cause });
}

async function activate(tf: Tf, name: TfjsBackendName, engineBackend: string): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(engineBackend);
  } catch (err) {
    throw unavailable(name, `backend "${engineBackend}" failed to initialise: ${(err as Error).message}`, err);
  }
  if (!ok) throw unavailable(name, `backend "${engineBackend}" failed to initialise`);
}

export async function loadTfjsRuntime(name: TfjsBackendName): Promise<TfjsRuntime> {
  if (name === 'tfjs-node-gpu' || name === 'tfjs-node') {
    const pkg = `@tensorflow/${name}`;
    let tf: Tf;
    try {
      tf = (await importOptional(pkg)) as Tf;
    } catch (err) {
      throw unavailable(name, `${pkg} is not installed (optional dependency: it downloads libtensorflow at install)`, err);
    }
    await activate(tf, name, 'tensorflow');
    return { name, tf, engineBackend: 'tensorflow', details: { package: pkg } };
  }
  const tf = await import('@tensorflow/tfjs');
  if (name === 'tfjs-wasm') {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
    } catch (err) {
      throw unavailable(name, '@tensorflow/tfjs-backend-wasm is not installed', err);
    }
    await activate(tf, name, 'wasm');
    return {
      name, tf, engineBackend: 'wasm',
      details: {
        simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
        // The threaded build needs SharedArrayBuffer workers that Node does not give it: one thread.
        threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'multi' : 1,
      },
    };
  }
  await activate(tf, name, 'cpu');
  return { name, tf, engineBackend: 'cpu', details: { pureJs: true } };
}
