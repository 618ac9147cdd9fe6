/**
 * scripts/need-tools, what CI (.ci/run) and scripts/build-image.sh install host tools with: a tool
 * present costs nothing and prints nothing; one that is missing and cannot be installed fails,
 * naming its packages, so the tests that need it fail instead of skipping unseen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/need-tools', import.meta.url));

test('scripts/need-tools: present tools are a silent no-op; a missing one that cannot be installed fails naming its packages', () => {
  const present = spawnSync('bash', [SCRIPT, 'bash', 'sh:dash'], { encoding: 'utf8' });
  assert.equal(present.status, 0, present.stderr);
  assert.equal(present.stdout + present.stderr, '');

  // A PATH with no apt-get (a machine it cannot install on), whoever runs this.
  const bin = mkdtempSync(join(tmpdir(), 'crime-need-tools-'));
  try {
    for (const tool of ['bash', 'id']) symlinkSync(spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), join(bin, tool));
    const missing = spawnSync('/bin/bash', [SCRIPT, 'bash', 'crime-no-such-tool:crime-pkg-a,crime-pkg-b'], { encoding: 'utf8', env: { PATH: bin, HOME: bin } });
    assert.equal(missing.status, 1, missing.stderr);
    assert.match(missing.stderr, /need-tools: error: missing crime-pkg-a crime-pkg-b: install them \(Debian\/Ubuntu: apt-get install crime-pkg-a crime-pkg-b\)/);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
