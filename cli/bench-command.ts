import { parseArgs } from 'node:util';
import { UsageError } from '../runtime/errors.js';
import { groupUsage, type Command } from './command.js';
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { choice, intOption, listOption, numberOption, required, servingOption } from './options.js';
import { progressBar } from './progress.js';

const decide: Command = {
  name: 'decide',
  summary: 'per-request decision overhead of the mapping engine',
  usage: `Usage: crime bench decide [--json] [--decisions N] [--candidates 2,4,8]

Times the mapping engine's per-request decision for 2, 4 and 8 candidates (local plus
neighbours), one call per sample, and the cost of learning from one compute time and one
offload reply. The baseline is the clock read alone, timed the same way in the same run.

Options:
  --json            print one JSON object instead of the table
  --decisions N     timed decisions per candidate count (default 200000)
  --candidates L    comma-separated candidate counts (default 2,4,8)`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: { json: { type: 'boolean', default: false }, decisions: { type: 'string' }, candidates: { type: 'string' } },
      strict: true,
    });
    const decisions = intOption(values.decisions, 'decisions', 200_000, 1000);
    const candidates = (listOption(values.candidates) ?? ['2', '4', '8']).map((c) => intOption(c, 'candidates', 0, 1));
    const { benchDecide, formatDecideBench } = await import('../bench/decide.js');
    const bar = progressBar(io.stderr);
    const result = benchDecide({ decisions, candidates, onProgress: (f, label) => bar.update(f, label) });
    bar.done();
    io.stdout.write(values.json ? `${JSON.stringify(result)}\n` : formatDecideBench(result));
    return 0;
  },
};

const infer: Command = {
  name: 'infer',
  summary: 'inference latency per backend vs raw onnxruntime-node',
  usage: `Usage: crime bench infer [--json] [--steps 10,100,500] [--backends LIST] [--model PRESET]
                         [--repeats N] [--budget-ms N] [--threads N]

Per-step batch-1 latency of a generated model (default cove2x300: 2-layer LSTM, 300/300) on each
backend, against raw onnxruntime-node on the same model in the same run (ratio column).
Targets: onnx-cpu, onnx-cuda, tfjs-node-gpu, tfjs-node, tfjs-wasm, tfjs-cpu; append /predict for the
generic tfjs-layers path, /http to go through the runtime server and RuntimeClient.
Default: onnx-cpu,onnx-cpu/http,onnx-cuda,tfjs-node-gpu,tfjs-node,tfjs-wasm,tfjs-wasm/predict,tfjs-cpu
Unavailable backends are listed as skipped.`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        json: { type: 'boolean' },
        steps: { type: 'string' },
        backends: { type: 'string' },
        model: { type: 'string' },
        repeats: { type: 'string' },
        'budget-ms': { type: 'string' },
        threads: { type: 'string' },
      },
    });
    const { isPresetName } = await import('../runtime/models/spec.js');
    const preset = values.model ?? 'cove2x300';
    if (!isPresetName(preset)) throw new UsageError('--model must be a preset (cove2x300, imdb1x128, tiny2x24)');
    const steps = listOption(values.steps)?.map((s) => intOption(s, 'steps', 0, 1));
    const targets = listOption(values.backends);
    const options = {
      preset,
      ...(steps === undefined ? {} : { steps }),
      ...(targets === undefined ? {} : { targets }),
      repeats: intOption(values.repeats, 'repeats', 5, 1),
      budgetMs: intOption(values['budget-ms'], 'budget-ms', 2000, 0),
      threads: intOption(values.threads, 'threads', 1, 1),
      progress: (line: string) => void io.stderr.write(`${line}\n`),
    };
    const { runInferBench, formatInferReport } = await import('../bench/infer-bench.js');
    const report = await runInferBench(options);
    io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatInferReport(report));
    return 0;
  },
};

const hop: Command = {
  name: 'hop',
  summary: 'latency a mapper adds in front of its runtime',
  usage: `Usage: crime bench hop [--json] [--steps 10,500] [--transports tcp,unix] [--model PRESET]
                       [--rate R] [--count N] [--page]

Starts a real runtime (on TCP and on a Unix socket) and, per transport, a real mapper and a
do-nothing forwarder reaching it that way, as separate processes, and sends the same requests to
the runtime directly (the baseline), through the forwarder and through the mapper, every path in
turn, at a fixed rate on loopback, with JSON and with binary bodies. Reports p50 and p99 of each,
what the mapper and the forwarder add, and their ratio, against the target: at n = 10 the mapper
adds at most 1.2x what the forwarder adds on the same transport.

Options:
  --json          print one JSON object instead of the table
  --steps L       input lengths (default 10,500)
  --transports L  how the forwarder and the mapper reach the runtime: tcp (127.0.0.1), unix (a
                  Unix socket, as in the operator's pods); default tcp,unix
  --model PRESET  cove2x300 (default, 300 floats per step), imdb1x128 (tokens), tiny2x24
  --rate R        requests per second per path (default 50; 100 with --page)
  --count N       measured requests per path and case (default 300)
  --page          instead: what the mapper's live page costs. Per transport (default unix, as in
                  a pod) a mapper without its page (--no-ui) and one with /ui open the whole time
                  (its event stream read and parsed), the runtime directly for reference; p50/p99
                  and each mapper's CPU time per request. Target: the hop at most 2 % longer.`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        json: { type: 'boolean' }, page: { type: 'boolean' }, steps: { type: 'string' }, transports: { type: 'string' }, model: { type: 'string' }, rate: { type: 'string' }, count: { type: 'string' },
      },
    });
    const { isPresetName } = await import('../runtime/models/spec.js');
    const { HOP_TRANSPORTS, runHopBench, formatHopReport } = await import('../bench/hop.js');
    const transports = (listOption(values.transports) ?? (values.page ? ['unix'] : [...HOP_TRANSPORTS])).map((t) => choice(t, 'transports', HOP_TRANSPORTS, 'tcp'));
    if (transports.length === 0 || new Set(transports).size !== transports.length) throw new UsageError('--transports: give tcp, unix or both, once each');
    const preset = values.model ?? 'cove2x300';
    if (!isPresetName(preset)) throw new UsageError('--model must be a preset (cove2x300, imdb1x128, tiny2x24)');
    const steps = (listOption(values.steps) ?? ['10', '500']).map((s) => intOption(s, 'steps', 0, 1));
    const rate = intOption(values.rate, 'rate', values.page ? 100 : 50, 1);
    const count = intOption(values.count, 'count', 300, 10);
    const bar = progressBar(io.stderr);
    if (values.page) {
      const { runPageHopBench, formatPageReport } = await import('../bench/hop-page.js');
      const report = await runPageHopBench({ preset, steps, transports, rate, count, onProgress: (f, label) => bar.update(f, label) });
      bar.done();
      io.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatPageReport(report));
      return 0;
    }
    const report = await runHopBench({ preset, steps, transports, rate, count, onProgress: (f, label) => bar.update(f, label) });
    bar.done();
    io.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatHopReport(report));
    return 0;
  },
};

const operator: Command = {
  name: 'operator',
  summary: 'the operator on the dev control plane: apply latency, a burst to Ready, memory, idle writes',
  usage: `Usage: crime bench operator [--json] [--sequential N] [--burst N] [--resync-seconds N]

Starts the dev control plane (as crime cluster up does) and the operator as its own process, then
measures: apply → all children exist, one topology at a time, against the API server's own
create → watch latency in the same run (the baseline); a burst of topologies applied at once until
all are Ready, and how long after kwok marked the last pod Ready; the operator's RSS; API writes
while it resyncs an idle cluster. Takes a few minutes with the defaults.

Options:
  --json              print one JSON object instead of the summary
  --sequential N      topologies applied one at a time (default 30)
  --burst N           topologies of 3 devices applied at once (default 200)
  --resync-seconds N  the operator's resync period during the idle phase (default 10)`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: { json: { type: 'boolean' }, sequential: { type: 'string' }, burst: { type: 'string' }, 'resync-seconds': { type: 'string' } },
    });
    const { runOperatorBench, formatOperatorBench } = await import('../bench/operator-bench.js');
    const bar = progressBar(io.stderr);
    const report = await runOperatorBench({
      sequential: intOption(values.sequential, 'sequential', 30, 1),
      burst: intOption(values.burst, 'burst', 200, 1),
      resyncSeconds: intOption(values['resync-seconds'], 'resync-seconds', 10, 1),
      onProgress: (f, label) => bar.update(f, label),
    });
    bar.done();
    io.stdout.write(values.json ? `${JSON.stringify(report)}\n` : formatOperatorBench(report));
    return 0;
  },
};

const throughput: Command = {
  name: 'throughput',
  summary: 'load one runtime takes within a p99 budget, batching off vs on',
  usage: `Usage: crime bench throughput [--preset P] [--length N] [--json] [--plot FILE] [--budget-ms MS]
                              [--backend onnx-cpu|onnx-cuda] [--max-batch N] [--max-delay-ms MS]
                              [--concurrency N] [--rates R1,R2,...] [--window-ms MS] [--threads N]
                              [--also B/D/C,...] [--low-load N]

Starts two real runtimes on the same generated model (dynamic batch): the baseline serves one
request per run, one run at a time (a runtime's default); the batched one as --max-batch,
--max-delay-ms and --concurrency say (default: the serving defaults of a cloud device, a GPU's
with --backend onnx-cuda). Sends open-loop Poisson load of requests of N steps at rising rates,
the two taking turns at every rate, and reports the rate at which each one's p99 crosses the
budget, their ratio, p50/p99 against the offered load, where a request's time goes, and the model
alone in batches of 1 to 32 (the GEMM-efficiency part of the gain). Reports the machine's load.

Options:
  --preset P        cove2x300 (default), imdb1x128, tiny2x24
  --length N        steps of every request (default 100)
  --json            print one JSON object instead of the tables
  --plot FILE       write p50/p99 against the offered load, and the batch sizes, as SVG
  --budget-ms MS    the p99 budget (default 10 × the batch-1 latency measured first)
  --backend B       onnx-cpu (default) or onnx-cuda (a GPU machine; see scripts/gpu-throughput.sh)
  --rates L         offered rates, req/s (default from 0.3× the batch-1 capacity, ×1.2 a step, to
                    max(12, 1.5 × max-batch × concurrency) times it; each stops once over budget)
  --window-ms MS    measured time per configuration and rate (default 4000), in 4 slices the
                    configurations take in turn, each after 300 ms of warm-up
  --threads N       onnxruntime intra-op threads per run, both runtimes (default 1)
  --also L          more configurations in the same run, MAXBATCH/MAXDELAYMS/CONCURRENCY each,
                    e.g. 1/0/2,16/0/2: where the gain comes from (in the JSON's others[])
  --low-load N      requests per configuration at low load first (default 120, 0 skips): one at a
                    time, 20 ms after the last answer, so each finds the queue empty (lowLoad)`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        preset: { type: 'string' }, length: { type: 'string' }, json: { type: 'boolean' }, plot: { type: 'string' }, 'budget-ms': { type: 'string' },
        backend: { type: 'string' }, 'max-batch': { type: 'string' }, 'max-delay-ms': { type: 'string' }, concurrency: { type: 'string' },
        rates: { type: 'string' }, 'window-ms': { type: 'string' }, threads: { type: 'string' }, seed: { type: 'string' }, also: { type: 'string' },
        'low-load': { type: 'string' },
      },
    });
    const { isPresetName } = await import('../runtime/models/spec.js');
    const preset = values.preset ?? 'cove2x300';
    if (!isPresetName(preset)) throw new UsageError('--preset must be a preset (cove2x300, imdb1x128, tiny2x24)');
    const backend = choice(values.backend, 'backend', ['onnx-cpu', 'onnx-cuda'] as const, 'onnx-cpu');
    const { SERVING_DEFAULTS } = await import('../runtime/defaults.js');
    const batched = servingOption(values, backend === 'onnx-cuda' ? SERVING_DEFAULTS.gpu : SERVING_DEFAULTS.cloudCpu);
    if (batched.maxBatch === 1 && batched.concurrency === 1) throw new UsageError('--max-batch 1 with --concurrency 1 is the baseline: nothing to compare');
    const rates = listOption(values.rates)?.map((r) => numberOption(r, 'rates', 0, 0.1));
    const also = listOption(values.also)?.map((spec) => {
      const [maxBatch, maxDelayMs, concurrency, ...rest] = spec.split('/');
      if (rest.length > 0 || concurrency === undefined) throw new UsageError(`--also takes MAXBATCH/MAXDELAYMS/CONCURRENCY, got "${spec}"`);
      return servingOption({ 'max-batch': maxBatch, 'max-delay-ms': maxDelayMs, concurrency }, SERVING_DEFAULTS.off);
    });
    const budgetMs = values['budget-ms'] === undefined ? undefined : numberOption(values['budget-ms'], 'budget-ms', 0, 0.1);
    const { runThroughputBench, formatThroughputReport } = await import('../bench/throughput.js');
    const report = await runThroughputBench({
      preset,
      length: intOption(values.length, 'length', 100, 1),
      backend,
      batched,
      ...(budgetMs === undefined ? {} : { budgetMs }),
      ...(rates === undefined ? {} : { rates }),
      ...(also === undefined ? {} : { also }),
      windowMs: intOption(values['window-ms'], 'window-ms', 4000, 100),
      threads: intOption(values.threads, 'threads', 1, 1),
      lowLoadRequests: intOption(values['low-load'], 'low-load', 120, 0),
      seed: intOption(values.seed, 'seed', 1, 0),
      onProgress: (line) => void io.stderr.write(`${line}\n`),
    });
    if (values.plot !== undefined) {
      const { plotThroughput } = await import('../bench/throughput-plot.js');
      writeFileSync(values.plot, plotThroughput(report));
    }
    io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatThroughputReport(report));
    return 0;
  },
};

const mapping: Command = {
  name: 'mapping',
  summary: 'CRIME live against the policies it replaces, on the same trace, beside crime sim\'s prediction',
  usage: `Usage: crime bench mapping --topology FILE [--local FILE] --load FILE
                           [--policies crime,local,threshold,device:NAME,...] [--json] [--plot FILE.svg]
                           [--work-dir DIR]

Runs the topology as crime up does (once), and per policy switches every mapper to it by a
configuration reload, lets them learn their neighbours again, and replays the identical trace of
the load file (same lengths, bodies and arrival times) while the control API plays its events.
Records per request the serving device, the end-to-end latency and the end node's energy (its power
model on the measured times). Prints per policy the mean latency and energy, CRIME's reduction
against each single-device policy, its increase over the best fixed policy and over the live
hindsight bound (per request, the best single-device run for it: optimistic), each beside what
crime sim --topology predicts for the same inputs. The baseline is the single-device runs of the
same bench.

Options:
  --topology FILE   an RnnTopology (examples/topologies/three-tier.yaml)
  --local FILE      its local settings (examples/loads/*.local.yaml)
  --load FILE       the load: requests, seed, arrival, lengths, events (examples/loads/)
  --policies L      default: crime, local, threshold and device:NAME for every device the entry reaches
  --json            print one JSON object (per-request records included) instead of the table
  --plot FILE.svg   the mapping figure of CRIME's run (input length over time, coloured by the
                    serving device), live above simulated
  --work-dir DIR    keep the run's configurations and logs there (default: a temp dir, removed)`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        topology: { type: 'string' }, local: { type: 'string' }, load: { type: 'string' }, policies: { type: 'string' },
        json: { type: 'boolean', default: false }, plot: { type: 'string' }, 'work-dir': { type: 'string' },
      },
    });
    const [{ readTopologyRun }, { benchPolicies }, { runMappingBench }, { formatMappingBench, plotMappingBench }] = await Promise.all([
      import('./topology-run.js'), import('./bench-policies.js'), import('../bench/mapping.js'), import('../bench/mapping-report.js'),
    ]);
    const inputs = await readTopologyRun({ topology: required(values.topology, 'topology FILE'), local: values.local, load: required(values.load, 'load FILE') });
    const policies = benchPolicies(inputs.topology, listOption(values.policies));
    const bar = progressBar(io.stderr);
    const result = await runMappingBench({
      ...inputs,
      policies,
      ...(values['work-dir'] === undefined ? {} : { workDir: values['work-dir'] }),
      onProgress: (f, label) => bar.update(f, label),
    });
    bar.done();
    if (values.plot) await writeFile(values.plot, plotMappingBench(result, inputs.topology.devices.map((d) => d.name)));
    io.stdout.write(values.json ? `${JSON.stringify(result)}\n` : formatMappingBench(result) + (values.plot ? `plot written to ${values.plot}\n` : ''));
    return 0;
  },
};

/** Each `crime bench <name>` prints its figures against a baseline run in the same process. */
const benchmarks: readonly Command[] = [decide, infer, hop, operator, throughput, mapping];

export const benchCommand: Command = {
  name: 'bench',
  summary: `run a benchmark (${benchmarks.map((b) => b.name).join(', ')})`,
  usage: groupUsage('crime bench', 'Benchmarks, each printing its figures as ratios against a baseline measured in the same run.', benchmarks),
  subcommands: benchmarks,
};
