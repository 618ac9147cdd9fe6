/**
 * Slots of the pod runner: a dead runner's leftovers (its containers outlive it, holding their
 * namespaces and veths) are removed by the next runner of the slot, and a live runner's slot is
 * never touched. The addresses and names of a slot are told apart from every other slot's.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, it, test } from 'node:test';
import { isSlotNamespace, isSlotVeth, MAX_SLOTS, PodNetwork, podIP, podVeth, run, serviceIP, slotOfServiceIP } from './netns.js';
import { SLOTS_DIR, tryClaimSlot } from './slots.js';

test('every Service address belongs to its own slot only; pod and gateway addresses to none', () => {
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    for (let n = 0; n < 254 * 15; n += 7) {
      assert.equal(slotOfServiceIP(serviceIP(slot, n)), slot, serviceIP(slot, n));
      assert.equal(slotOfServiceIP(podIP(slot, n)), undefined, podIP(slot, n));
    }
  }
  for (const other of ['169.254.0.1', '169.254.169.254', '169.254.128.0', '169.254.255.1', '127.0.0.1', '169.254.128.1.5']) assert.equal(slotOfServiceIP(other), undefined, other);
  assert.ok(isSlotNamespace('crime-s1-12', 1) && !isSlotNamespace('crime-s1-12', 0) && !isSlotNamespace('crime-s11-2', 1) && !isSlotNamespace('crime-probe-1', 1));
  assert.ok(isSlotVeth('crs2p0', 2) && !isSlotVeth('crs2p0', 0) && !isSlotVeth('crs12p0', 2) && !isSlotVeth('eth0', 2));
});

/** What a runner holds in its slot: a pod's namespace and veth with a container process in it, a Service address. */
interface Held {
  slot: number;
  ns: string;
  container: number;
  child: ChildProcess;
}

const dist = new URL('./', import.meta.url).href;

/**
 * A runner in another process: it takes the highest free slot (runners take the lowest, so the
 * tests of others on this machine stay clear of it), makes pod 0 and Service address 0, starts a
 * detached process in the pod's namespace as the runner starts containers, and removes it all when
 * its stdin closes.
 */
async function runnerElsewhere(): Promise<Held> {
  const script = `
    const { spawn } = await import('node:child_process');
    const { tryClaimSlot } = await import(${JSON.stringify(`${dist}slots.js`)});
    const { PodNetwork, addHostAddress, removeHostAddress, serviceIP } = await import(${JSON.stringify(`${dist}netns.js`)});
    let claim;
    for (let s = ${MAX_SLOTS - 1}; s >= 0 && !claim; s--) claim = await tryClaimSlot(s);
    const net = await PodNetwork.create(claim.slot, 0, 'left');
    await addHostAddress(serviceIP(claim.slot, 0));
    const c = spawn('ip', ['netns', 'exec', net.ns, 'sleep', '600'], { detached: true, stdio: 'ignore' });
    c.unref();
    console.log(JSON.stringify({ slot: claim.slot, ns: net.ns, container: c.pid }));
    process.stdin.resume().on('end', async () => {
      process.kill(-c.pid, 'SIGKILL');
      await net.destroy();
      await removeHostAddress(serviceIP(claim.slot, 0));
      await claim.release();
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the other runner exited (${String(code)})`)));
  });
  return { ...(JSON.parse(line) as Omit<Held, 'child'>), child };
}

const exited = (child: ChildProcess): Promise<void> => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/** Whether a process runs (a zombie has finished: its parent died and nobody reaped it yet). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const namespaces = async (): Promise<string[]> => (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
const links = async (): Promise<string> => (await run('ip', ['-o', 'link', 'show'])).stdout;
const loopback = async (): Promise<string> => (await run('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo'])).stdout;

describe('pod-runner slots: a dead runner\'s leftovers go, a live runner\'s stay', { skip: process.getuid?.() !== 0 ? 'needs root for network namespaces' : false }, () => {
  it('a runner killed with its containers running: the next runner of its slot kills them and removes their namespace, veth and address, then makes the same pod again', async () => {
    const dead = await runnerElsewhere();
    dead.child.kill('SIGKILL');
    await exited(dead.child);
    assert.ok(running(dead.container), 'the container outlives its runner (its own process group)');
    assert.ok((await namespaces()).includes(dead.ns));

    const claim = await tryClaimSlot(dead.slot);
    assert.ok(claim, 'the dead runner\'s slot is free');
    try {
      assert.ok(!running(dead.container), 'the container is killed');
      assert.ok(!(await namespaces()).includes(dead.ns), 'its namespace is gone');
      assert.doesNotMatch(await links(), new RegExp(`\\d+: ${podVeth(dead.slot, 0)}[@:]`), 'its veth is gone');
      assert.doesNotMatch(await loopback(), new RegExp(`inet ${serviceIP(dead.slot, 0).replace(/\./g, '\\.')}/32`), 'its Service address is gone');
      // Before: "ip link add crsNp0 type veth ...: RTNETLINK answers: File exists".
      const again = await PodNetwork.create(dead.slot, 0, 'again');
      await again.destroy();
    } finally {
      await claim.release();
    }
  });

  it('a live runner\'s slot is refused and nothing of it is touched; so is a slot whose file names a live process (a runner of an older version)', async () => {
    const live = await runnerElsewhere();
    try {
      assert.equal(await tryClaimSlot(live.slot), undefined);
      assert.ok(running(live.container), 'its container runs');
      assert.ok((await namespaces()).includes(live.ns), 'its namespace stays');
      assert.match(await links(), new RegExp(`\\d+: ${podVeth(live.slot, 0)}[@:]`), 'its veth stays');
      assert.match(await loopback(), new RegExp(`inet ${serviceIP(live.slot, 0).replace(/\./g, '\\.')}/32`), 'its Service address stays');
    } finally {
      live.child.stdin?.end();
      await exited(live.child);
    }
    // The slot is free again; a slot file naming a live process keeps it taken all the same.
    const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      // 'wx': never over another runner's file, should one have taken the slot meanwhile.
      writeFileSync(`${SLOTS_DIR}/slot-${live.slot}`, String(sleeper.pid), { flag: 'wx' });
      assert.equal(await tryClaimSlot(live.slot), undefined);
    } finally {
      sleeper.kill('SIGKILL');
      await exited(sleeper);
    }
    const claim = await tryClaimSlot(live.slot);
    assert.ok(claim, 'free once that process is gone');
    await claim.release();
  });
});
