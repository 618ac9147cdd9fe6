/**
 * Slots: several pod runners share this machine (a dev cluster and the tests), each in a slot of its
 * own whose number is in every namespace, veth and address it makes (netns.ts), so they never clash.
 *
 * A slot is held by listening on an abstract Unix socket, which the kernel lets go when its process
 * dies, however it dies (SIGKILL, a crash, Ctrl-C on the whole process group), and which only one
 * process can hold: a runner that gets a slot's socket therefore knows that no live runner uses the
 * slot, and first removes what a dead one left in it. Containers run in process groups of their
 * own and outlive a runner that was killed; while one of them is in a namespace, the namespace and
 * its veth stay, and the next pod of that number would fail with "File exists". So: the processes
 * in the slot's namespaces, the namespaces, the host's veths and the Service addresses of the slot.
 *
 * The slot file (/run/crime-pod-runner/slot-N) holds the runner's PID: it says who holds a slot,
 * and keeps runners of older versions (which know only the file) and this one out of each other's
 * slots. A live PID in it keeps the slot taken even when its socket is free.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { ip, isSlotNamespace, isSlotVeth, MAX_SLOTS, PROBE_PREFIX, removeHostAddress, run, slotOfServiceIP } from './netns.js';

export const SLOTS_DIR = '/run/crime-pod-runner';

export interface SlotClaim {
  readonly slot: number;
  /** Lets the slot go (the runner has removed what it made). */
  release(): Promise<void>;
}

const slotFile = (slot: number): string => `${SLOTS_DIR}/slot-${slot}`;

/** Whether a process with this PID exists (EPERM: it does, and is not ours to signal). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(slot: number): number | undefined {
  try {
    const pid = Number(readFileSync(slotFile(slot), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Listens on the slot's abstract socket; undefined when a live process already does. */
function holdSocket(slot: number): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer((s) => s.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err)));
    // The leading NUL: Linux's abstract namespace, no file, gone with the process.
    server.listen({ path: `\0crime-pod-runner-slot-${slot}` }, () => {
      server.unref();
      resolve(server);
    });
  });
}

const closeServer = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** Takes the first slot no live runner holds, after removing what a dead one left in it. */
export async function claimSlot(): Promise<SlotClaim> {
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const claim = await tryClaimSlot(slot);
    if (claim) return claim;
  }
  const holders = Array.from({ length: MAX_SLOTS }, (_, s) => `${s}: ${ownerOf(s) ?? '?'}`).join(', ');
  throw new Error(`every pod-runner slot (${MAX_SLOTS}) is held by a live runner (slot: PID ${holders}; ${SLOTS_DIR})`);
}

/** Takes this slot if no live runner holds it, after removing what a dead one left in it; else undefined. */
export async function tryClaimSlot(slot: number): Promise<SlotClaim | undefined> {
  const server = await holdSocket(slot);
  if (!server) return undefined;
  const owner = ownerOf(slot);
  if (owner !== undefined && owner !== process.pid && alive(owner)) {
    await closeServer(server);
    return undefined;
  }
  try {
    mkdirSync(SLOTS_DIR, { recursive: true });
    writeFileSync(slotFile(slot), String(process.pid));
    await removeLeftovers(slot);
  } catch (err) {
    await closeServer(server);
    throw err;
  }
  return {
    slot,
    release: async () => {
      if (ownerOf(slot) === process.pid) rmSync(slotFile(slot), { force: true });
      await closeServer(server);
    },
  };
}

const lines = async (cmd: string, args: string[]): Promise<string[]> => (await run(cmd, args)).stdout.split('\n').filter((l) => l.trim() !== '');

/** PIDs of the processes in a named network namespace. */
async function pidsIn(ns: string): Promise<number[]> {
  return (await lines('ip', ['netns', 'pids', ns]).catch(() => [])).map(Number).filter((p) => p > 0);
}

/** Kills every process in the namespace (a dead runner's containers) and waits, up to 5 s, until they are gone. */
async function killAllIn(ns: string): Promise<void> {
  for (let waited = 0; waited < 5000; waited += 100) {
    const pids = await pidsIn(ns);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * What a dead runner left in the slot: its pods' processes and namespaces, the host's ends of their
 * veths (also those whose namespace lost its name), its Service addresses; and probe namespaces of
 * processes that are gone. Only called while holding the slot.
 */
async function removeLeftovers(slot: number): Promise<void> {
  for (const line of await lines('ip', ['netns', 'list'])) {
    const ns = line.split(' ')[0] ?? '';
    const probeOf = ns.startsWith(PROBE_PREFIX) ? Number(ns.slice(PROBE_PREFIX.length).split('-')[0]) : undefined;
    if (probeOf !== undefined && probeOf > 0 && !alive(probeOf)) await ip('netns', 'del', ns).catch(() => undefined);
    if (!isSlotNamespace(ns, slot)) continue;
    await killAllIn(ns);
    await ip('netns', 'del', ns).catch(() => undefined);
    rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
  }
  // /etc/netns folders of namespaces already gone.
  for (const name of readdirSafe('/etc/netns')) if (isSlotNamespace(name, slot)) rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
  for (const line of await lines('ip', ['-o', 'link', 'show'])) {
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? '';
    if (isSlotVeth(name, slot)) await ip('link', 'del', name).catch(() => undefined);
  }
  for (const line of await lines('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo'])) {
    const address = /inet (\S+)\/32/.exec(line)?.[1] ?? '';
    if (slotOfServiceIP(address) === slot) await removeHostAddress(address);
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
