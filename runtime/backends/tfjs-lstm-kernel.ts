/**
 * A fused LSTM cell kernel registered with tfjs for its CPU-memory backends (wasm and cpu). Per step the
 * op-by-op cell costs ~14 tfjs ops, and on these backends each op's bookkeeping (~5–15 µs) outweighs
 * its arithmetic; this kernel does the gate math (z = r + x, σ/tanh, c' and h') in one op while the
 * recurrent matMul stays with the backend (XNNPACK on wasm). Not registered for tfjs-node, where
 * reading tensors per step could mean a device sync.
 */
import type * as TfNamespace from '@tensorflow/tfjs';
import type { Tf } from './tfjs-runtime.js';

export const LSTM_CELL_KERNEL = 'CrimeLstmCell';

/** Engine backends whose tensors live in CPU memory, where reading them in a kernel is a copy. */
const HOST_MEMORY_BACKENDS = ['wasm', 'cpu'] as const;

interface HostBackend {
  readSync(dataId: object): unknown;
  write(values: Float32Array, shape: number[], dtype: 'float32'): object;
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/**
 * Inputs: r = h·U [1, 4u], x = the step's input projection + bias [1, 4u], c [1, u]; gates in Keras
 * order (i, f, c, o). Outputs: [h', c'].
 */
const kernelFunc: TfNamespace.KernelFunc = ({ inputs, backend }) => {
  const host = backend as HostBackend;
  const { r, x, c } = inputs as Record<'r' | 'x' | 'c', TfNamespace.TensorInfo>;
  const rv = host.readSync(r.dataId) as Float32Array;
  const xv = host.readSync(x.dataId) as Float32Array;
  const cv = host.readSync(c.dataId) as Float32Array;
  const units = cv.length;
  const hOut = new Float32Array(units);
  const cOut = new Float32Array(units);
  for (let j = 0; j < units; j++) {
    const i = sigmoid((rv[j] ?? 0) + (xv[j] ?? 0));
    const f = sigmoid((rv[units + j] ?? 0) + (xv[units + j] ?? 0));
    const g = Math.tanh((rv[2 * units + j] ?? 0) + (xv[2 * units + j] ?? 0));
    const o = sigmoid((rv[3 * units + j] ?? 0) + (xv[3 * units + j] ?? 0));
    const cj = f * (cv[j] ?? 0) + i * g;
    cOut[j] = cj;
    hOut[j] = o * Math.tanh(cj);
  }
  const shape = [1, units];
  return [
    { dataId: host.write(hOut, shape, 'float32'), shape, dtype: 'float32' },
    { dataId: host.write(cOut, shape, 'float32'), shape, dtype: 'float32' },
  ];
};

/** Registers the kernel for the active engine backend if it keeps tensors in host memory. */
export function fusedCellAvailable(tf: Tf): boolean {
  const backend = tf.getBackend();
  if (!(HOST_MEMORY_BACKENDS as readonly string[]).includes(backend)) return false;
  if (tf.getKernel(LSTM_CELL_KERNEL, backend) === undefined) {
    tf.registerKernel({ kernelName: LSTM_CELL_KERNEL, backendName: backend, kernelFunc });
  }
  return true;
}

/** One LSTM step through the fused kernel: returns [h', c']. */
export function fusedCell(tf: Tf, r: TfNamespace.Tensor2D, x: TfNamespace.Tensor2D, c: TfNamespace.Tensor2D): [TfNamespace.Tensor2D, TfNamespace.Tensor2D] {
  const [h, cNew] = tf.engine().runKernel(LSTM_CELL_KERNEL, { r, x, c }) as TfNamespace.Tensor2D[];
  if (h === undefined || cNew === undefined) throw new Error(`${LSTM_CELL_KERNEL} returned no outputs`);
  return [h, cNew];
}
