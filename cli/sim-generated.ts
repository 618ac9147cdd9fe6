import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Objective } from '../runtime/engine/types.js';
import { UsageError } from '../runtime/errors.js';
import type { CliIo } from './command.js';
import { choice, intOption, listOption } from './options.js';
import { progressBar } from './progress.js';

/** The options of `crime sim --generate` and `crime sim --sweep` (strings, as parseArgs gives them). */
export interface GeneratedOptions {
  seed?: string | undefined;
  from?: string | undefined;
  objective?: string | undefined;
  family?: string | undefined;
  seeds?: string | undefined;
  out?: string | undefined;
  json?: boolean | undefined;
}

type Family = 'nominal' | 'adversity';

function selection(values: GeneratedOptions, both: boolean): { objectives: Objective[]; families: Family[]; seed: number; from: number } {
  const objective = choice(values.objective, 'objective', both ? ['latency', 'energy', 'both'] : ['latency', 'energy'], both ? 'both' : 'latency');
  const family = choice(values.family, 'family', both ? ['nominal', 'adversity', 'both'] : ['nominal', 'adversity'], both ? 'both' : 'nominal');
  return {
    objectives: objective === 'both' ? ['latency', 'energy'] : [objective],
    families: family === 'both' ? ['nominal', 'adversity'] : [family],
    seed: intOption(values.seed, 'seed', 1, 0),
    from: intOption(values.from, 'from', 0, 0),
  };
}

/** `crime sim --generate N`: N scenario files, written to --out DIR (or one printed on stdout). */
export async function generateFiles(countText: string, values: GeneratedOptions, io: CliIo): Promise<number> {
  const count = intOption(countText, 'generate', 1, 1);
  const { objectives, families, seed, from } = selection(values, false);
  if (count > 1 && values.out === undefined) throw new UsageError('--generate N with N > 1 needs --out DIR (one file per scenario)');
  const { generateScenario } = await import('../sim/generate.js');
  if (values.out !== undefined) await mkdir(values.out, { recursive: true });
  for (let index = from; index < from + count; index++) {
    const g = generateScenario({ seed, index, objective: objectives[0]!, family: families[0]! });
    if (values.out === undefined) {
      io.stdout.write(g.text);
    } else {
      const file = join(values.out, `${g.name}.yaml`);
      await writeFile(file, g.text);
      io.stdout.write(`${file}\n`);
    }
  }
  return 0;
}

/**
 * `crime sim --sweep N`: N generated scenarios per objective and family, each at every trace seed;
 * the distribution of CRIME's distance from the oracle and from the best single device, and the
 * worst scenarios written out as files that replay the run.
 */
export async function sweep(countText: string, values: GeneratedOptions, io: CliIo): Promise<number> {
  const count = intOption(countText, 'sweep', 1, 1);
  const { objectives, families, seed, from } = selection(values, true);
  const traceSeeds = listOption(values.seeds)?.map((v) => intOption(v, 'seeds', 0, 0));
  const { runGeneratedSweep, summarizeSweep, formatSweepSummary } = await import('../sim/sweep.js');
  const bar = progressBar(io.stderr);
  const runs = runGeneratedSweep({
    count,
    seed,
    from,
    objectives,
    families,
    ...(traceSeeds ? { traceSeeds } : {}),
    onProgress: (done, total, name) => bar.update(done / total, name),
  });
  bar.done();
  const summaries = summarizeSweep(runs);
  const out = values.out ?? (await mkdtemp(join(tmpdir(), 'crime-sweep-')));
  await mkdir(out, { recursive: true });
  const written = new Map<string, string>();
  for (const s of summaries) {
    for (const run of [s.worst, s.worstVsBest]) {
      if (!run) continue;
      const file = join(out, `${run.name}@${run.traceSeed}.yaml`);
      if (!written.has(file)) await writeFile(file, run.text);
      written.set(file, run.name);
    }
  }
  if (values.json) {
    const strip = <T extends { text: string }>(r: T | null): Omit<T, 'text'> | null => {
      if (!r) return null;
      const { text: _text, ...rest } = r;
      return rest;
    };
    io.stdout.write(
      `${JSON.stringify({
        seed,
        count,
        traceSeeds: traceSeeds ?? 'own',
        summaries: summaries.map((s) => ({ ...s, worst: strip(s.worst), worstVsBest: strip(s.worstVsBest) })),
        runs: runs.map((r) => strip(r)),
        files: [...written.keys()],
      })}\n`,
    );
    return 0;
  }
  io.stdout.write(`CRIME vs the oracle over ${count} generated scenarios per row (seed ${seed}${from ? `, from ${from}` : ''}), trace seeds ${traceSeeds?.join(',') ?? 'their own'}; % above the oracle's mean cost\n\n`);
  io.stdout.write(formatSweepSummary(summaries));
  io.stdout.write(`\nworst scenarios (replay with crime sim --scenario FILE):\n${[...written.keys()].map((f) => `  ${f}\n`).join('')}`);
  return 0;
}
