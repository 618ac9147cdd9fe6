/**
 * `crime bench throughput`: how much load one runtime takes before its p99 latency crosses a
 * budget, without batching (the baseline: one request per run, as a runtime serves by default) and
 * with it, measured in the same run. Open-loop Poisson load at rising rates against two real
 * `crime runtime` processes on the same generated model, the two configurations taking turns at
 * every rate (the order alternating), so load from elsewhere on the machine hits both alike.
 */
import { Agent } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCrime, stopChild, type StartedChild } from '../local/child.js';
import { sampleInput } from '../runtime/backends/input.js';
import { OnnxBackend } from '../runtime/backends/onnx.js';
import type { ConcreteBackendName, ModelInput } from '../runtime/backends/types.js';
import { toCrimeError } from '../runtime/errors.js';
import { generateModel } from '../runtime/models/generate.js';
import { MODEL_PRESETS, type ModelPresetName } from '../runtime/models/spec.js';
import { RuntimeClient, type RuntimeInferResult } from '../runtime/server/client.js';
import { servingArgs, type ServingSettings } from '../runtime/serving-settings.js';
import { quantile } from '../stats/quantile.js';
import { Random } from '../stats/random.js';

export interface ThroughputOptions {
  preset: ModelPresetName;
  /** steps of every request */
  length: number;
  /** the ONNX backend both runtimes use: onnx-cpu here, onnx-cuda on a GPU machine */
  backend: Extract<ConcreteBackendName, 'onnx-cpu' | 'onnx-cuda'>;
  /** how the batched runtime serves (the baseline serves one request per run, one run at a time) */
  batched: ServingSettings;
  /** more configurations measured in the same run, the same way (where the gain comes from) */
  also?: readonly ServingSettings[];
  /** the p99 budget in ms (default: 10 × the batch-1 latency measured first) */
  budgetMs?: number;
  /**
   * offered rates in requests per second (default: from 0.3× the batch-1 capacity, ×1.2 a step, up
   * to max(12, 1.5 × maxBatch × concurrency) times it; each configuration stops once over budget)
   */
  rates?: readonly number[];
  /**
   * measured time per configuration and rate (default 4000), in `rounds` slices (default 4) that
   * the configurations take in turn, each after `warmupMs` of the same load (default 300): a stall
   * of the machine then falls on every configuration alike, not on whichever had the window
   */
  windowMs?: number;
  rounds?: number;
  warmupMs?: number;
  /**
   * requests per configuration at low load (default 120; 0 skips): one at a time, each sent
   * `lowLoadPauseMs` (default 20) after the last answer, so every one finds the queue empty
   */
  lowLoadRequests?: number;
  lowLoadPauseMs?: number;
  /** onnxruntime intra-op threads of every run (default 1) */
  threads?: number;
  seed?: number;
  onProgress?: (line: string) => void;
}

/** One configuration at one offered rate. */
export interface LoadWindow {
  offeredRps: number;
  /** answered requests per second */
  achievedRps: number;
  sent: number;
  failed: number;
  /** end to end at the client; a failed request counts as over any budget */
  p50Ms: number;
  p99Ms: number;
  /** where a request's time went, means over the answered ones (ms) */
  meanBatch: number;
  /** the run's time divided by the requests in it: the model's share of one request */
  computePerRequestMs: number;
  /** the run's time (the whole batch's): what a request waits for once its run starts */
  computeMs: number;
  queueMs: number;
  /** in the runtime, outside queue and run: reading, decoding, answering */
  runtimeOverheadMs: number;
  /** outside the runtime: the client and loopback */
  clientMs: number;
}

export interface ConfigResult {
  serving: ServingSettings;
  /** what the runtime says it runs (GET /v1/model): the batch it can take, its worker threads */
  effective: { maxBatch: number; workers: number };
  /** the offered rate at which p99 first crosses the budget for good (interpolated), req/s */
  rpsAtBudget: number;
  /** true when the budget was never crossed: rpsAtBudget is then only a lower bound */
  censored: boolean;
  /**
   * Low load: one request at a time, each after a pause (the queue always empty): what batching
   * costs a request that has no companion. offeredRps is 0 here; achievedRps is what was sent.
   */
  lowLoad?: LoadWindow;
  windows: LoadWindow[];
}

export interface ThroughputReport {
  model: string;
  length: number;
  backend: string;
  threads: number;
  /** batch-1 latency of one request on the idle baseline runtime (p50, ms) */
  batch1Ms: number;
  budgetMs: number;
  /** the machine's 1-minute load average before and after (os.loadavg), and its cores */
  load: { before: number; after: number; cores: number };
  baseline: ConfigResult;
  batched: ConfigResult;
  /** batched.rpsAtBudget / baseline.rpsAtBudget */
  ratio: number;
  /** the --also configurations, each with its ratio to the baseline */
  others: Array<ConfigResult & { ratio: number }>;
  /**
   * The model alone, in this process on one thread (no HTTP): ms per sequence when B sequences run
   * as one batch, and what that saves against B = 1. The part of the gain that is GEMM efficiency.
   */
  gemm: Array<{ batch: number; msPerSequence: number; speedup: number }>;
}

const round = (v: number, d = 3): number => Math.round(v * 10 ** d) / 10 ** d;
const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/** Sends requests at a Poisson rate for `durationMs` and collects every answer (or failure) of those sent. */
async function openLoop(client: RuntimeClient, input: ModelInput, rate: number, durationMs: number, random: Random, timeoutMs: number): Promise<Array<{ ms: number; reply?: RuntimeInferResult }>> {
  const results: Array<Promise<{ ms: number; reply?: RuntimeInferResult }>> = [];
  const start = performance.now();
  let next = start;
  while (next - start < durationMs) {
    const wait = next - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    // Everything due by now goes out at once: a late timer does not lower the offered rate.
    while (next <= performance.now() && next - start < durationMs) {
      const sent = performance.now();
      results.push(client.infer(input, { timeoutMs }).then(
        (reply) => ({ ms: performance.now() - sent, reply }),
        () => ({ ms: Infinity }),
      ));
      next += random.exponential(1000 / rate);
    }
  }
  return Promise.all(results);
}

/**
 * Low load for several configurations, taking turns in rounds of `count / rounds` requests: one
 * request at a time, the next `pauseMs` after the last answer, so every request finds its runtime
 * idle (empty queue, no run in progress).
 */
async function lowLoad(clients: readonly RuntimeClient[], input: ModelInput, count: number, pauseMs: number, timeoutMs: number): Promise<LoadWindow[]> {
  const rounds = 6;
  const samples = clients.map(() => [] as Array<{ ms: number; reply?: RuntimeInferResult }>);
  const busyMs = clients.map(() => 0);
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < clients.length; j++) {
      const c = (j + round) % clients.length;
      const started = performance.now();
      for (let k = 0; k < Math.ceil(count / rounds); k++) {
        await new Promise((r) => setTimeout(r, pauseMs));
        const sent = performance.now();
        samples[c]!.push(await clients[c]!.infer(input, { timeoutMs }).then((reply) => ({ ms: performance.now() - sent, reply }), () => ({ ms: Infinity })));
      }
      busyMs[c]! += performance.now() - started;
    }
  }
  return samples.map((s, c) => summarise(0, busyMs[c]!, s));
}

function summarise(offeredRps: number, durationMs: number, samples: Array<{ ms: number; reply?: RuntimeInferResult }>): LoadWindow {
  const ok = samples.filter((s) => s.reply !== undefined);
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const replies = ok.map((s) => s.reply as RuntimeInferResult);
  return {
    offeredRps: round(offeredRps, 1),
    achievedRps: round((ok.length / durationMs) * 1000, 1),
    sent: samples.length,
    failed: samples.length - ok.length,
    p50Ms: round(quantile(sorted, 0.5)),
    p99Ms: round(quantile(sorted, 0.99)),
    meanBatch: round(mean(replies.map((r) => r.batch.size)), 2),
    computePerRequestMs: round(mean(replies.map((r) => r.computeMs / r.batch.size))),
    computeMs: round(mean(replies.map((r) => r.computeMs))),
    queueMs: round(mean(replies.map((r) => r.queueMs))),
    runtimeOverheadMs: round(mean(replies.map((r) => Math.max(0, r.remoteMs - r.queueMs - r.computeMs)))),
    clientMs: round(mean(ok.map((s) => s.ms - (s.reply as RuntimeInferResult).remoteMs))),
  };
}

/**
 * The offered rate at which p99 crosses the budget for good: the first window over it that is
 * followed by another one over it (one noisy window does not end a configuration), interpolated
 * linearly from the window before. A window with failures is over any budget.
 */
export function rateAtBudget(windows: readonly LoadWindow[], budgetMs: number): { rps: number; censored: boolean } {
  const over = (w: LoadWindow | undefined): boolean => w !== undefined && (w.p99Ms > budgetMs || w.failed > 0);
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i] as LoadWindow;
    if (!over(w) || (i + 1 < windows.length && !over(windows[i + 1]))) continue;
    const before = windows[i - 1];
    if (before === undefined) return { rps: 0, censored: false };
    if (!Number.isFinite(w.p99Ms) || w.failed > 0 || w.p99Ms <= before.p99Ms) return { rps: before.offeredRps, censored: false };
    const f = (budgetMs - before.p99Ms) / (w.p99Ms - before.p99Ms);
    return { rps: round(before.offeredRps + f * (w.offeredRps - before.offeredRps), 1), censored: false };
  }
  return { rps: windows.at(-1)?.offeredRps ?? 0, censored: true };
}

/** The model alone: per-sequence time of batches of 1 … 32 on one thread, medians of a few runs. */
async function gemmEfficiency(model: Uint8Array, backend: ThroughputOptions['backend'], threads: number, length: number, maxBatch: number): Promise<ThroughputReport['gemm']> {
  const onnx = await OnnxBackend.create({ model, name: 'bench', device: backend === 'onnx-cuda' ? 'cuda' : 'cpu', threads });
  try {
    const rows: ThroughputReport['gemm'] = [];
    for (let batch = 1; batch <= Math.min(32, maxBatch); batch *= 2) {
      const inputs = Array.from({ length: batch }, () => sampleInput(onnx.info, length));
      const times: number[] = [];
      for (let k = 0; k < 2 + Math.max(3, Math.ceil(12 / batch)); k++) times.push((await onnx.inferBatch(inputs)).computeMs / batch);
      const ms = quantile(times.slice(2).sort((a, b) => a - b), 0.5);
      rows.push({ batch, msPerSequence: round(ms), speedup: round((rows[0]?.msPerSequence ?? ms) / ms, 2) });
    }
    return rows;
  } finally {
    await onnx.dispose();
  }
}

export async function runThroughputBench(options: ThroughputOptions): Promise<ThroughputReport> {
  const progress = options.onProgress ?? ((): void => undefined);
  const threads = options.threads ?? 1;
  const windowMs = options.windowMs ?? 4000;
  const rounds = Math.max(1, options.rounds ?? 4);
  const warmupMs = options.warmupMs ?? 300;
  const loadBefore = loadavg()[0] ?? 0;
  const dir = await mkdtemp(join(tmpdir(), 'crime-bench-throughput-'));
  const children: StartedChild[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 2048 });
  const clients: RuntimeClient[] = [];
  try {
    const spec = MODEL_PRESETS[options.preset];
    const { onnx } = await generateModel({ spec, formats: ['onnx'], outDir: dir });
    const model = onnx as string;
    const baselineServing: ServingSettings = { maxBatch: 1, maxDelayMs: 0, concurrency: 1 };
    const start = async (name: string, serving: ServingSettings): Promise<RuntimeClient> => {
      const child = await startCrime([
        'runtime', '--model', model, '--backend', options.backend, '--port', '0', '--max-steps', String(options.length),
        '--threads', String(threads), '--queue', '4096', '--log-level', 'warn', ...servingArgs(serving),
      ], join(dir, `${name}.log`));
      children.push(child);
      const client = new RuntimeClient({ baseUrl: child.url, agent });
      clients.push(client);
      return client;
    };
    // The model alone first: in this process, so a backend that cannot load (onnx-cuda without a
    // GPU) fails here with its own reason, before any runtime is started.
    progress(`the model alone on ${options.backend}, batches of 1 to 32 (GEMM efficiency) ...`);
    const { readFile } = await import('node:fs/promises');
    const gemm = await gemmEfficiency(new Uint8Array(await readFile(model)), options.backend, threads, options.length, options.batched.maxBatch);
    progress(`starting two runtimes (${options.backend}, ${spec.name}): baseline (batch 1) and batched (${JSON.stringify(options.batched)})`);
    const configs = [
      { name: 'baseline', serving: baselineServing, client: await start('baseline', baselineServing) },
      { name: 'batched', serving: options.batched, client: await start('batched', options.batched) },
    ];
    for (const [i, serving] of (options.also ?? []).entries()) {
      const name = `${serving.maxBatch}/${serving.maxDelayMs}/${serving.concurrency}`;
      configs.push({ name, serving, client: await start(`also-${i}`, serving) });
    }
    const effective = await Promise.all(configs.map(async (c) => {
      const served = (await c.client.model()).serving;
      return { maxBatch: served?.maxBatch ?? 1, workers: served?.workers ?? 0 };
    }));
    const input = sampleInput(await configs[0]!.client.model(), options.length);
    // Batch-1 latency on the idle baseline: the scale of the rates and of the default budget.
    const alone: number[] = [];
    for (let k = 0; k < 30; k++) {
      const t0 = performance.now();
      await configs[0]!.client.infer(input);
      if (k >= 5) alone.push(performance.now() - t0);
    }
    const batch1Ms = round(quantile(alone.sort((a, b) => a - b), 0.5));
    const budgetMs = options.budgetMs ?? round(10 * batch1Ms, 1);
    const capacity = 1000 / batch1Ms;
    const most = Math.max(12, ...configs.map((c) => 1.5 * c.serving.maxBatch * c.serving.concurrency)) * capacity;
    const rates = options.rates ?? Array.from({ length: 80 }, (_, k) => round(0.3 * capacity * 1.2 ** k, 1)).filter((r) => r <= most);
    const lowLoadRequests = options.lowLoadRequests ?? 120;
    const lowLoadPauseMs = options.lowLoadPauseMs ?? 20;
    const idle = lowLoadRequests > 0 ? await lowLoad(configs.map((c) => c.client), input, lowLoadRequests, lowLoadPauseMs, Math.max(10_000, 20 * budgetMs)) : [];
    for (const [c, w] of idle.entries()) progress(`${configs[c]!.name.padEnd(9)} low load: p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms, queue ${w.queueMs} ms, run ${w.computeMs} ms`);
    progress(`batch-1 latency ${batch1Ms} ms, p99 budget ${budgetMs} ms; rates ${rates[0]} … ${rates.at(-1)} req/s, ${windowMs} ms each in ${rounds} slices taken in turn`);
    const windows: LoadWindow[][] = configs.map(() => []);
    const random = new Random(options.seed ?? 1);
    const timeoutMs = Math.max(10_000, 20 * budgetMs);
    const ended = (ws: readonly LoadWindow[]): boolean => ws.length >= 2 && ws.slice(-2).every((w) => w.p99Ms > budgetMs || w.failed > 0);
    for (const [k, rate] of rates.entries()) {
      // Two windows over the budget in a row end a configuration.
      const live = configs.map((_, i) => i).filter((i) => !ended(windows[i] as LoadWindow[]));
      const samples = new Map(live.map((i) => [i, [] as Awaited<ReturnType<typeof openLoop>>]));
      // The window in slices, the configurations taking turns (starting one further each slice and rate).
      for (let round = 0; round < rounds; round++) {
        for (let j = 0; j < live.length; j++) {
          const c = live[(j + round + k) % live.length] as number;
          const config = configs[c]!;
          await openLoop(config.client, input, rate, warmupMs, random, timeoutMs);
          samples.get(c)?.push(...(await openLoop(config.client, input, rate, windowMs / rounds, random, timeoutMs)));
        }
      }
      for (const c of live) {
        const w = summarise(rate, windowMs, samples.get(c) ?? []);
        (windows[c] as LoadWindow[]).push(w);
        progress(`${configs[c]!.name.padEnd(9)} ${String(rate).padStart(7)} req/s: p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms, batch ${w.meanBatch}, ${w.failed} failed`);
      }
      if (windows.every(ended)) break;
    }
    const result = (c: number): ConfigResult => {
      const at = rateAtBudget(windows[c] as LoadWindow[], budgetMs);
      const low = idle[c];
      return { serving: configs[c]!.serving, effective: effective[c]!, rpsAtBudget: at.rps, censored: at.censored, ...(low === undefined ? {} : { lowLoad: low }), windows: windows[c] as LoadWindow[] };
    };
    const baseline = result(0);
    const batched = result(1);
    const ratioOf = (c: ConfigResult): number => (baseline.rpsAtBudget > 0 ? round(c.rpsAtBudget / baseline.rpsAtBudget, 2) : Number.NaN);
    const others = configs.slice(2).map((_, i) => {
      const r = result(i + 2);
      return { ...r, ratio: ratioOf(r) };
    });
    return {
      model: spec.name,
      length: options.length,
      backend: options.backend,
      threads,
      batch1Ms,
      budgetMs,
      load: { before: round(loadBefore, 2), after: round(loadavg()[0] ?? 0, 2), cores: (await import('node:os')).cpus().length },
      baseline,
      batched,
      ratio: ratioOf(batched),
      others,
      gemm,
    };
  } catch (err) {
    throw toCrimeError(err);
  } finally {
    for (const c of clients) c.close();
    agent.destroy();
    await Promise.all(children.map((c) => stopChild(c.child)));
    await rm(dir, { recursive: true, force: true });
  }
}

/** The window of a configuration nearest below a rate: where the time of a request goes there. */
function windowNear(r: ConfigResult, rps: number): LoadWindow | undefined {
  return [...r.windows].reverse().find((w) => w.offeredRps <= rps) ?? r.windows[0];
}

export function formatThroughputReport(r: ThroughputReport): string {
  const line = (name: string, c: ConfigResult): string =>
    `  ${name.padEnd(9)} ${JSON.stringify(c.serving)} (runs: batch ≤ ${c.effective.maxBatch}, ${c.effective.workers} worker threads): ` +
    `${c.censored ? '≥ ' : ''}${c.rpsAtBudget} req/s at p99 ≤ ${r.budgetMs} ms`;
  const table = (name: string, c: ConfigResult): string[] => [
    `${name}: offered  achieved  p50 ms  p99 ms  batch  compute/req  run ms  queue ms  runtime ms  client ms  failed`,
    ...c.windows.map((w) => [w.offeredRps, w.achievedRps, w.p50Ms, w.p99Ms, w.meanBatch, w.computePerRequestMs, w.computeMs, w.queueMs, w.runtimeOverheadMs, w.clientMs, w.failed]
      .map((v, i) => String(v).padStart(i === 0 ? name.length + 9 : [8, 8, 8, 7, 13, 8, 10, 12, 11, 8][i - 1] ?? 8)).join('')),
  ];
  const at = r.baseline.rpsAtBudget;
  const where = [windowNear(r.baseline, at), windowNear(r.batched, at), windowNear(r.batched, r.batched.rpsAtBudget)];
  const also = r.others.map((o) => `${line(`${o.serving.maxBatch}/${o.serving.maxDelayMs}/${o.serving.concurrency}`, o)}: ${o.ratio}x`);
  return [
    `crime bench throughput: ${r.model} at n = ${r.length} on ${r.backend} (${r.threads} thread${r.threads === 1 ? '' : 's'} per run), open-loop Poisson load, the same run`,
    `machine: ${r.load.cores} cores, load average ${r.load.before} before, ${r.load.after} after`,
    `batch-1 latency ${r.batch1Ms} ms (idle); p99 budget ${r.budgetMs} ms`,
    line('baseline', r.baseline),
    line('batched', r.batched),
    `  ratio     ${Number.isFinite(r.ratio) ? r.ratio : '-'}x${r.batched.censored ? ' (batched never crossed the budget: a lower bound)' : ''}`,
    ...also,
    '',
    `Where a request's time goes, ms: both near the baseline's limit (${at} req/s) / batched near its own (${r.batched.rpsAtBudget} req/s)`,
    ...(['computePerRequestMs', 'computeMs', 'queueMs', 'runtimeOverheadMs', 'clientMs', 'meanBatch', 'p50Ms', 'p99Ms'] as const).map((k) =>
      `  ${k.padEnd(20)} ${where.map((w) => (w === undefined ? '-' : String(w[k]))).join(' / ')}`),
    ...(r.baseline.lowLoad === undefined ? [] : [
      '',
      'Low load (one request at a time, each after a pause: the queue always empty), ms:',
      '  config        p50      p99    queue      run  runtime   client',
      ...[['baseline', r.baseline] as const, ['batched', r.batched] as const, ...r.others.map((o) => [`${o.serving.maxBatch}/${o.serving.maxDelayMs}/${o.serving.concurrency}`, o] as const)]
        .flatMap(([name, c]) => (c.lowLoad === undefined ? [] : [`  ${name.padEnd(9)}${[c.lowLoad.p50Ms, c.lowLoad.p99Ms, c.lowLoad.queueMs, c.lowLoad.computeMs, c.lowLoad.runtimeOverheadMs, c.lowLoad.clientMs].map((v) => String(v).padStart(9)).join('')}`])),
    ]),
    '',
    'The model alone on one thread (no HTTP), ms per sequence:',
    ...r.gemm.map((g) => `  batch ${String(g.batch).padStart(2)}: ${g.msPerSequence} (${g.speedup}x batch 1)`),
    '',
    ...table('baseline', r.baseline),
    '',
    ...table('batched', r.batched),
    '',
    ...r.others.flatMap((o) => [...table(`${o.serving.maxBatch}/${o.serving.maxDelayMs}/${o.serving.concurrency}`, o), '']),
  ].join('\n');
}
