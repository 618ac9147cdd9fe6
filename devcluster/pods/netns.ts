/**
 * Pod networking for the pod runner, the way a CNI plugin does it, on this machine only: each pod
 * gets its own network namespace (its own loopback, so every pod can use 127.0.0.1:8081 and
 * 0.0.0.0:8080 as in a real cluster) and a veth pair with a link-local pod IP (169.254.1.0 to
 * 169.254.127.255). The host side answers for the gateway 169.254.0.1 (proxy ARP, as Calico does)
 * and routes each pod IP to its veth. Service addresses the runner emulates live on the host's
 * loopback (169.254.128.0/17). Nothing leaves the machine. Needs root (or CAP_NET_ADMIN), iproute2,
 * and iptables for the Service port rewrites in each pod's namespace (services.ts).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const GATEWAY_IP = '169.254.0.1';

export async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args);
  } catch (err) {
    throw new Error(`ip ${args.join(' ')}: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`);
  }
}

/**
 * Several runners may share the machine (a dev cluster and a test): each holds a slot (slots.ts),
 * and its namespaces, veths and addresses carry the slot's number, so they never clash and a dead
 * runner's leftovers can be found by name.
 */
export const MAX_SLOTS = 6;
const SLOT_OCTETS = 15;

/** Pod n of slot s: 169.254.(1 + 15s + n/254).(n%254 + 1). */
export function podIP(slot: number, n: number): string {
  const step = Math.floor(n / 254);
  if (step >= SLOT_OCTETS) throw new Error('out of pod addresses');
  return `169.254.${1 + slot * SLOT_OCTETS + step}.${(n % 254) + 1}`;
}

/** Emulated service address n of slot s, from 169.254.128.0 on, skipping 169.254.169.x (cloud metadata). */
export function serviceIP(slot: number, n: number): string {
  const step = Math.floor(n / 254);
  if (step >= SLOT_OCTETS) throw new Error('out of service addresses');
  let third = 128 + slot * SLOT_OCTETS + step;
  if (third >= 169) third++;
  return `169.254.${third}.${(n % 254) + 1}`;
}

/** The slot whose serviceIP this is, if any (the inverse of serviceIP). */
export function slotOfServiceIP(address: string): number | undefined {
  const m = /^169\.254\.(\d+)\.(\d+)$/.exec(address);
  if (!m) return undefined;
  let third = Number(m[1]);
  const fourth = Number(m[2]);
  if (third < 128 || third === 169 || fourth < 1 || fourth > 254) return undefined;
  if (third > 169) third--;
  const slot = Math.floor((third - 128) / SLOT_OCTETS);
  return slot < MAX_SLOTS ? slot : undefined;
}

/** Names of pod n of slot s: its network namespace, and the host's end of its veth. */
export const podNamespace = (slot: number, n: number): string => `crime-s${slot}-${n}`;
export const podVeth = (slot: number, n: number): string => `crs${slot}p${n}`;
/** Whether a network namespace or host link name is one of slot s's pods'. */
export const isSlotNamespace = (name: string, slot: number): boolean => new RegExp(`^crime-s${slot}-\\d+$`).test(name);
export const isSlotVeth = (name: string, slot: number): boolean => new RegExp(`^crs${slot}p\\d+$`).test(name);

/** Network namespaces `checkNetworkAdmin` makes for a moment: crime-probe-<pid>-<random>. */
export const PROBE_PREFIX = 'crime-probe-';

/** Checks once that this process may create network namespaces and rewrite ports in them; a clear error if not. */
export async function checkNetworkAdmin(): Promise<void> {
  // Named by process and at random: never a leftover's name (slots.ts removes those of dead processes).
  const probe = `${PROBE_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    await ip('netns', 'add', probe);
  } catch (err) {
    throw new Error(`the pod runner needs root (CAP_NET_ADMIN) and iproute2 to give each pod a network namespace: ${(err as Error).message}`);
  }
  try {
    await restoreNat(probe, natRules([]));
  } catch (err) {
    throw new Error(`the pod runner needs iptables (with NAT) for Service ports in each pod's namespace: ${(err as Error).message}`);
  } finally {
    await ip('netns', 'del', probe);
  }
}

/**
 * The nat table of a pod's namespace (iptables-restore input): each connection to a Service
 * address and port goes to the port its proxy really listens on, as kube-proxy rewrites a
 * ClusterIP. The whole table is replaced at once, so a pod never sees half an update.
 */
export function natRules(forwards: ReadonlyArray<{ ip: string; port: number; to: number }>): string {
  const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]'];
  for (const f of forwards) lines.push(`-A OUTPUT -d ${f.ip}/32 -p tcp -m tcp --dport ${f.port} -j DNAT --to-destination ${f.ip}:${f.to}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

function restoreNat(ns: string, rules: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'iptables-restore', '-w'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`iptables-restore in ${ns}: ${stderr.trim() || `exit ${String(code)}`}`))));
    child.stdin.end(rules);
  });
}

/** The host side shared by every pod of every runner: the gateway address on the loopback (kept: other runners may use it). */
export async function setUpHost(): Promise<void> {
  await ip('addr', 'replace', `${GATEWAY_IP}/32`, 'dev', 'lo');
}

export async function addHostAddress(address: string): Promise<void> {
  await ip('addr', 'replace', `${address}/32`, 'dev', 'lo');
}

export async function removeHostAddress(address: string): Promise<void> {
  await ip('addr', 'del', `${address}/32`, 'dev', 'lo').catch(() => undefined);
}

/** What a pod sees of the Services: its hosts file, and where each Service port really listens. */
export interface ServiceView {
  hosts: Array<{ ip: string; names: string[] }>;
  /** connections to `ip:port` go to `ip:to` (rewritten in the pod's namespace) */
  forwards: Array<{ ip: string; port: number; to: number }>;
}

export class PodNetwork {
  private constructor(
    readonly ns: string,
    readonly ip: string,
    private readonly hostVeth: string,
  ) {}

  /** `/etc/netns/<ns>/hosts`: `ip netns exec` mounts it over /etc/hosts for the pod's processes. */
  get hostsFile(): string {
    return `/etc/netns/${this.ns}/hosts`;
  }

  static async create(slot: number, id: number, hostname: string): Promise<PodNetwork> {
    const ns = podNamespace(slot, id);
    const veth = podVeth(slot, id);
    const address = podIP(slot, id);
    await ip('netns', 'add', ns);
    const net = new PodNetwork(ns, address, veth);
    try {
      await ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      await ip('link', 'set', veth, 'up');
      await run('sysctl', ['-qw', `net.ipv4.conf.${veth}.proxy_arp=1`]);
      await ip('route', 'replace', `${address}/32`, 'dev', veth, 'src', GATEWAY_IP);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'addr', 'add', `${address}/32`, 'dev', 'eth0');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
      await ip('-n', ns, 'route', 'add', GATEWAY_IP, 'dev', 'eth0');
      await ip('-n', ns, 'route', 'add', 'default', 'via', GATEWAY_IP, 'dev', 'eth0');
      mkdirSync(`/etc/netns/${ns}`, { recursive: true });
      net.writeHosts(hostname, []);
      await restoreNat(ns, natRules([]));
    } catch (err) {
      await net.destroy();
      throw err;
    }
    return net;
  }

  /**
   * What the pod sees of the Services: their names in its hosts file and their ports rewritten to
   * where their proxies listen. The port rewrites go first, so a name never resolves to an address
   * whose port leads nowhere.
   */
  async setServices(hostname: string, view: ServiceView): Promise<void> {
    await restoreNat(this.ns, natRules(view.forwards));
    this.writeHosts(hostname, view.hosts);
  }

  /** Rewrites the hosts file in place (the bind mount keeps pointing at the same file). */
  writeHosts(hostname: string, entries: ReadonlyArray<{ ip: string; names: string[] }>): void {
    const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${this.ip}\t${hostname}`, ...entries.map((e) => `${e.ip}\t${e.names.join(' ')}`)];
    writeFileSync(this.hostsFile, `${lines.join('\n')}\n`);
  }

  async destroy(): Promise<void> {
    await ip('link', 'del', this.hostVeth).catch(() => undefined);
    await ip('netns', 'del', this.ns).catch(() => undefined);
    rmSync(`/etc/netns/${this.ns}`, { recursive: true, force: true });
  }
}
