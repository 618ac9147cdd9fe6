/**
 * A worker thread of onnx-pool.ts: one OnnxBackend (its own session) that runs the batches the
 * main thread posts, so the model runs off the event loop. Messages: in `{id, inputs}`, out
 * `{id, outputs, computeMs}` or `{id, error}`; at start one `{ready, info, batching}` or `{failed}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CrimeError, toCrimeError } from '../errors.js';
import { OnnxBackend, type OnnxBackendOptions } from './onnx.js';
import { runBatch, type ModelInput } from './types.js';

export interface WorkerRequest {
  id: number;
  inputs: ModelInput[];
}

export type WorkerReply =
  | { id: number; outputs: Float32Array[]; computeMs: number }
  | { id: number; error: { code: string; message: string } };

export type WorkerStart =
  | { ready: true; info: OnnxBackend['info']; batching: OnnxBackend['batching'] }
  | { failed: { code: string; message: string } };

function errorOf(err: unknown): { code: string; message: string } {
  const e = toCrimeError(err);
  return { code: e.code, message: e.message };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new CrimeError('INTERNAL', 'onnx-worker runs only as a worker thread');
  let backend: OnnxBackend;
  try {
    backend = await OnnxBackend.create(workerData as OnnxBackendOptions);
  } catch (err) {
    port.postMessage({ failed: errorOf(err) } satisfies WorkerStart);
    return;
  }
  port.on('message', (request: WorkerRequest | 'dispose') => {
    if (request === 'dispose') {
      void backend.dispose().finally(() => port.close());
      return;
    }
    runBatch(backend, request.inputs).then(
      ({ outputs, computeMs }) => port.postMessage({ id: request.id, outputs, computeMs } satisfies WorkerReply, outputs.map((o) => o.buffer as ArrayBuffer)),
      (err: unknown) => port.postMessage({ id: request.id, error: errorOf(err) } satisfies WorkerReply),
    );
  });
  port.postMessage({ ready: true, info: backend.info, batching: backend.batching } satisfies WorkerStart);
}

void main();
