/**
 * A pod stopped while its sandbox is being made (deleted right after it was bound, or its runner
 * stopping during start-up) leaves no network behind: the next pod of that number would fail with
 * "File exists". Root only (network namespaces).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { silentLogger } from '../../runtime/log.js';
import { MAX_SLOTS, PodNetwork, podNamespace, run } from './netns.js';
import { PodWorker } from './pod.js';
import { tryClaimSlot, type SlotClaim } from './slots.js';

test('a pod stopped while its sandbox is made leaves no namespace or veth behind', { skip: process.getuid?.() !== 0 ? 'needs root for network namespaces' : false }, async () => {
  let claim: SlotClaim | undefined;
  for (let s = MAX_SLOTS - 1; s >= 0 && !claim; s--) claim = await tryClaimSlot(s);
  assert.ok(claim, 'a free slot');
  const dir = mkdtempSync(join(tmpdir(), 'crime-pod-test-'));
  try {
    const pod: V1Pod = { metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: { containers: [{ name: 'c', image: 'crime', command: ['sleep', '60'] }] } };
    const worker = new PodWorker(pod, {
      slot: claim.slot,
      id: 0,
      dir,
      claimsDir: join(dir, 'claims'),
      sources: { configMap: () => undefined, secret: () => undefined },
      onSandbox: () => Promise.resolve(),
      nodeEnv: {},
      containers: { kind: 'checkout', binDir: join(dir, 'bin'), mount: { source: dir, target: '/opt/crime', readOnly: true } },
      onStatus: () => undefined,
      logger: silentLogger,
    });
    const running = worker.run();
    await worker.stop(0);
    await running;
    assert.ok(!(await run('ip', ['netns', 'list'])).stdout.includes(podNamespace(claim.slot, 0)), 'no namespace left');
    // The same pod number again, as the runner reuses it.
    const again = await PodNetwork.create(claim.slot, 0, 'again');
    await again.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await claim.release();
  }
});
