/**
 * scripts/gpu-throughput.sh on a machine without a GPU (this one): it refuses to pretend (exit 2,
 * saying why), and its dry run exercises the whole pipeline (two real runtimes, the load, the JSON
 * with the fields the issue names, the SVG, the ratio check) on the CPU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/gpu-throughput.sh', import.meta.url));
const hasGpu = spawnSync('nvidia-smi', ['-L']).status === 0;

test('scripts/gpu-throughput.sh: no GPU, no run (exit 2, why); the dry run goes through the whole pipeline on the CPU', { timeout: 180_000, skip: hasGpu ? 'this machine has a GPU: run the script for real' : false }, () => {
  const out = mkdtempSync(join(tmpdir(), 'crime-gpu-script-'));
  try {
    const real = spawnSync('bash', [SCRIPT, '--out', out], { encoding: 'utf8' });
    assert.equal(real.status, 2, real.stderr);
    assert.match(real.stderr, /no NVIDIA GPU here/);
    assert.equal(spawnSync('bash', [SCRIPT, '--bogus'], { encoding: 'utf8' }).status, 2);

    const dry = spawnSync('bash', [SCRIPT, '--dry-run', '--out', out, '--image', 'example.invalid/crime:cuda'], { encoding: 'utf8' });
    assert.equal(dry.status, 0, `${dry.stdout}\n${dry.stderr}`);
    assert.match(dry.stdout, /docker run --rm --gpus all --user \d+:\d+ -v \S+:\/out example\.invalid\/crime:cuda bench throughput --preset cove2x300 --length 100 --backend onnx-cuda --json --plot \/out\/throughput-gpu\.svg/);
    const r = JSON.parse(readFileSync(join(out, 'throughput-dry-run.json'), 'utf8')) as { budgetMs: number; baseline: { rpsAtBudget: number }; batched: { rpsAtBudget: number; serving: unknown }; ratio: number };
    assert.equal(r.budgetMs, 5000);
    assert.ok(r.baseline.rpsAtBudget > 0 && r.batched.rpsAtBudget > 0 && Number.isFinite(r.ratio));
    assert.deepEqual(r.batched.serving, { maxBatch: 64, maxDelayMs: 0, concurrency: 2 });
    assert.ok(existsSync(join(out, 'throughput-dry-run.svg')));
    assert.match(dry.stdout, /ratio \S+x \(target 20x\)/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
