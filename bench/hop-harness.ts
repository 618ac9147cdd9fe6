/**
 * What `crime bench hop` and `crime bench hop --page` share: one real `crime runtime` (TCP and a
 * Unix socket), the request bodies, and the measuring loop: the same requests to every path in
 * turn, the order rotating, paced so each path gets `rate` requests a second.
 */
import { Agent } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sampleInput } from '../runtime/backends/input.js';
import type { ModelInput } from '../runtime/backends/types.js';
import { send } from '../runtime/http/request.js';
import { startCrime, type StartedChild } from '../local/child.js';
import { generateModel } from '../runtime/models/generate.js';
import { MODEL_PRESETS, type ModelPresetName } from '../runtime/models/spec.js';
import { unixAddress } from '../runtime/http/unix-socket.js';
import { RuntimeClient, toJsonBody } from '../runtime/server/client.js';
import type { RuntimeModelInfo } from '../runtime/server/protocol.js';
import { quantile } from '../stats/quantile.js';

/** How a sidecar reaches the runtime (and the direct baseline the client takes). */
export type HopTransport = 'tcp' | 'unix';
export const HOP_TRANSPORTS: readonly HopTransport[] = ['tcp', 'unix'];

export interface Quantiles {
  p50Ms: number;
  p99Ms: number;
}

export interface HopPath {
  transport: HopTransport;
  /** what the path goes through: 'direct', or the name of the sidecar */
  kind: string;
  url: URL;
  socketPath?: string;
  /** the process answering, when it is ours (for its CPU time) */
  pid?: number;
}

export interface HopCase {
  encoding: 'json' | 'binary';
  steps: number;
}

export const round = (v: number): number => Math.round(v * 1000) / 1000;
export const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 100) / 100 : Number.NaN);

export function quantiles(xs: number[]): Quantiles {
  xs.sort((a, b) => a - b);
  return { p50Ms: round(quantile(xs, 0.5)), p99Ms: round(quantile(xs, 0.99)) };
}

function body(input: ModelInput, encoding: 'json' | 'binary'): { headers: Record<string, string>; bytes: Uint8Array } {
  if (encoding === 'json') return { headers: { 'content-type': 'application/json' }, bytes: Buffer.from(JSON.stringify(toJsonBody(input))) };
  const width = input.kind === 'floats' ? input.data.length / input.steps : 1;
  return {
    headers: {
      'content-type': 'application/octet-stream',
      'crime-shape': input.kind === 'floats' ? `${input.steps},${width}` : String(input.steps),
    },
    bytes: new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength),
  };
}

export interface HopRuntime {
  child: StartedChild;
  /** how each transport reaches it: http://127.0.0.1:PORT or unix:/path */
  address: Record<HopTransport, string>;
  socket: string;
  info: RuntimeModelInfo;
}

/** A real runtime with a generated model of `preset`, listening on TCP and on a Unix socket in `dir`. */
export async function startHopRuntime(dir: string, preset: ModelPresetName, maxSteps: number): Promise<HopRuntime> {
  const { onnx } = await generateModel({ spec: MODEL_PRESETS[preset], formats: ['onnx'], outDir: dir });
  const socket = join(dir, 'runtime.sock');
  const child = await startCrime(['runtime', '--model', onnx as string, '--socket', socket, '--port', '0', '--max-steps', String(maxSteps), '--log-level', 'warn'], join(dir, 'runtime.log'));
  const client = new RuntimeClient({ baseUrl: child.url });
  const info = await client.model();
  client.close();
  return { child, address: { tcp: child.url, unix: unixAddress(socket) }, socket, info };
}

/** The direct path to the runtime over `transport`. */
export function directPath(runtime: HopRuntime, transport: HopTransport): HopPath {
  return transport === 'unix'
    ? { transport, kind: 'direct', url: new URL('/v1/infer', 'http://localhost'), socketPath: runtime.socket }
    : { transport, kind: 'direct', url: new URL('/v1/infer', runtime.child.url) };
}

/** CPU time of a process so far (all its threads: V8's GC helpers too), in ms; undefined where /proc cannot tell. */
export async function cpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    // Each thread's schedstat starts with its time on a CPU in ns (exact, unlike stat's clock ticks).
    const tasks = await readdir(`/proc/${pid}/task`);
    const ns = await Promise.all(tasks.map((t) => readFile(`/proc/${pid}/task/${t}/schedstat`, 'utf8').then((text) => Number(text.split(' ')[0]), () => 0)));
    return ns.reduce((a, b) => a + b, 0) / 1e6;
  } catch {
    return undefined;
  }
}

export interface MeasureOptions {
  paths: readonly HopPath[];
  cases: readonly HopCase[];
  info: RuntimeModelInfo;
  /** requests per second per path */
  rate: number;
  count: number;
  warmup: number;
  onProgress?: (fraction: number, label: string) => void;
}

export interface CaseSamples {
  /** latencies in ms, per path (the order of `paths`) */
  latencies: number[][];
  /** CPU ms each path's process spent per measured request (undefined without a pid) */
  cpuMsPerRequest: Array<number | undefined>;
  /** requests per second each path got while measured */
  achievedRate: number;
}

/**
 * Every case: `warmup + count` rounds, each sending one request to every path (starting one
 * further each round, so no path always follows the same one), a round every 1000/rate ms.
 */
export async function measurePaths(o: MeasureOptions): Promise<CaseSamples[]> {
  const agent = new Agent({ keepAlive: true });
  const out: CaseSamples[] = [];
  try {
    const { paths } = o;
    const roundMs = 1000 / o.rate;
    for (const [i, c] of o.cases.entries()) {
      const { headers, bytes } = body(sampleInput(o.info, c.steps), c.encoding);
      const time = async (p: HopPath): Promise<number> => {
        const t0 = performance.now();
        const res = await send({
          agent, method: 'POST', url: p.url, headers: { ...headers, accept: 'application/json' }, body: bytes, timeoutMs: 60_000, peer: `${p.kind} (${p.transport})`,
          ...(p.socketPath === undefined ? {} : { socketPath: p.socketPath }),
        });
        if (res.status !== 200) throw new Error(`${p.kind} (${p.transport}) answered HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
        return performance.now() - t0;
      };
      const latencies = paths.map(() => [] as number[]);
      let cpuBefore: Array<number | undefined> = [];
      let measuredFrom = 0;
      for (let k = 0; k < o.warmup + o.count; k++) {
        if (k === o.warmup) {
          cpuBefore = await Promise.all(paths.map((p) => cpuMs(p.pid)));
          measuredFrom = performance.now();
        }
        const roundStart = performance.now();
        for (let j = 0; j < paths.length; j++) {
          const at = (j + k) % paths.length;
          const ms = await time(paths[at] as HopPath);
          if (k >= o.warmup) latencies[at]?.push(ms);
          const wait = roundStart + ((j + 1) * roundMs) / paths.length - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        o.onProgress?.((i + (k + 1) / (o.warmup + o.count)) / o.cases.length, `${c.encoding} n=${c.steps}`);
      }
      const seconds = (performance.now() - measuredFrom) / 1000;
      const cpuAfter = await Promise.all(paths.map((p) => cpuMs(p.pid)));
      out.push({
        latencies,
        cpuMsPerRequest: paths.map((_, j) => {
          const a = cpuBefore[j];
          const b = cpuAfter[j];
          return a === undefined || b === undefined ? undefined : round((b - a) / o.count);
        }),
        achievedRate: Math.round((o.count / seconds) * 10) / 10,
      });
    }
    return out;
  } finally {
    agent.destroy();
  }
}
