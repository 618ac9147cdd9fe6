import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { CrimeError } from '../runtime/errors.js';
import type { Topology, TopologyDevice } from '../runtime/topology/topology.js';
import { entryOf, withPolicy } from '../runtime/topology/topology.js';
import type { MappingPolicy } from '../runtime/mapping-policy.js';
import type { TimedEvent } from '../runtime/timed-events.js';
import { EventPlayer } from './event-player.js';
import { renderMapperConfig } from '../runtime/topology/mapper-config.js';
import { formatMapperConfig } from '../runtime/mapper/config.js';
import { servingArgs } from '../runtime/serving-settings.js';
import { InvalidInputError } from '../runtime/validate.js';
import { startCrime, stopChild, type StartedChild } from './child.js';
import { LinkEmulator, type LinkConditions } from './link-emulator.js';
import { emulationOf, linkFor, type LocalSettings } from './settings.js';

export interface LaunchOptions {
  topology: Topology;
  /** the topology file's folder: relative model paths are resolved against it */
  baseDir: string;
  settings: LocalSettings;
  /** where configs, the token and the processes' logs go */
  workDir: string;
  /** progress lines for the user */
  onProgress?: (line: string) => void;
}

interface DeviceProcesses {
  spec: TopologyDevice;
  runtimePort: number;
  mapperPort: number;
  runtime?: StartedChild;
  mapper?: StartedChild;
}

export interface DeviceStatus {
  name: string;
  running: boolean;
  runtimePid: number | undefined;
  mapperPid: number | undefined;
  mapperUrl: string;
  runtimeUrl: string;
  emulate: { perStepMs: number; fixedMs: number } | undefined;
}

/**
 * Where a local run loads the topology's model from: its http(s) URL, or its path (relative to the
 * topology file's folder `baseDir`). A pvc:// model is refused: only the operator mounts claims.
 */
export function localModelLocation(topology: Topology, baseDir: string): string {
  const source = topology.model.source;
  if (source.kind === 'http') return source.url;
  if (source.kind === 'pvc') {
    throw new InvalidInputError('spec.model.uri', `${topology.model.uri}: a pvc:// model lives on a cluster volume that only the operator mounts; for crime up use a local path or an http(s) URL`);
  }
  return isAbsolute(source.path) ? source.path : resolvePath(baseDir, source.path);
}

/** Whether a mapper says (on /metrics) that it serves under this policy. */
async function servesPolicy(mapperUrl: string, policy: MappingPolicy): Promise<boolean> {
  try {
    const res = await fetch(`${mapperUrl}/metrics`, { signal: AbortSignal.timeout(2000) });
    return (await res.text()).includes(`crime_mapper_policy{policy="${policy}"} 1`);
  } catch {
    return false;
  }
}

/** Whether nothing listens on a loopback port (binding it briefly is the only sure way to know). */
async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function alive(c: StartedChild | undefined): c is StartedChild {
  return c !== undefined && c.child.exitCode === null && c.child.signalCode === null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A topology running as local processes: per device a `crime runtime` and a `crime mapper` on
 * loopback, and a user-space link emulator in front of every neighbour a mapper calls. Devices
 * can be killed and restarted (on the same ports) and links changed while traffic flows.
 */
export class LocalTopology {
  private readonly devices = new Map<string, DeviceProcesses>();
  private readonly links = new Map<string, LinkEmulator>();
  /** the topology as running: its policy changes with setPolicy */
  private topology: Topology;
  private tokenFile = '';
  /** slowdowns set by events, kept across a device's restart (as the simulator keeps them) */
  private readonly slowdowns = new Map<string, number>();
  private player: EventPlayer | undefined;

  private constructor(private readonly o: LaunchOptions) {
    this.topology = o.topology;
  }

  static async start(options: LaunchOptions): Promise<LocalTopology> {
    const local = new LocalTopology(options);
    try {
      await local.boot();
    } catch (err) {
      await local.close();
      throw err;
    }
    return local;
  }

  get entryUrl(): string {
    return `http://127.0.0.1:${this.device(entryOf(this.topology).name).mapperPort}`;
  }

  private device(name: string): DeviceProcesses {
    const d = this.devices.get(name);
    if (!d) throw new CrimeError('NOT_FOUND', `no device "${name}" in topology ${this.topology.name}`);
    return d;
  }

  private link(from: string, to: string): LinkEmulator {
    const l = this.links.get(`${from}->${to}`);
    if (!l) throw new CrimeError('NOT_FOUND', `no link ${from}->${to}: ${from} does not offload to ${to}`);
    return l;
  }

  private async boot(): Promise<void> {
    const { workDir, settings } = this.o;
    const topology = this.topology;
    this.modelLocation(); // refuses a pvc:// model before anything starts
    await mkdir(join(workDir, 'logs'), { recursive: true });
    const tokenFile = join(workDir, 'token');
    this.tokenFile = tokenFile;
    await writeFile(tokenFile, randomBytes(32).toString('base64url'), { mode: 0o600 });
    // Each free port is released before the next is asked for, so the same one may come back.
    const chosen = new Set<number>();
    const distinctPort = async (): Promise<number> => {
      let port = await freePort();
      while (chosen.has(port)) port = await freePort();
      chosen.add(port);
      return port;
    };
    for (const spec of topology.devices) {
      this.devices.set(spec.name, { spec, runtimePort: await distinctPort(), mapperPort: await distinctPort() });
    }
    // The devices' ports were free a moment ago but are not held: a link listening on "any free
    // port" may be handed one of them, so such a link moves to another.
    for (const d of topology.devices) {
      for (const to of d.offloadTo) {
        let link = await LinkEmulator.start({ target: { host: '127.0.0.1', port: this.device(to).mapperPort }, ...linkFor(settings, d.name, to) });
        while (chosen.has(link.port)) {
          const taken = link;
          link = await LinkEmulator.start({ target: { host: '127.0.0.1', port: this.device(to).mapperPort }, ...linkFor(settings, d.name, to) });
          await taken.close();
        }
        this.links.set(`${d.name}->${to}`, link);
      }
    }
    for (const d of topology.devices) await this.writeMapperConfig(d, tokenFile);
    await Promise.all(topology.devices.map((d) => this.startDevice(d.name)));
  }

  private modelLocation(): string {
    return localModelLocation(this.topology, this.o.baseDir);
  }

  private configFile(name: string): string {
    return join(this.o.workDir, `${name}.mapper.yaml`);
  }

  private async writeMapperConfig(d: TopologyDevice, tokenFile: string): Promise<void> {
    const p = this.device(d.name);
    const config = renderMapperConfig(this.topology, d.name, {
      listen: { host: '127.0.0.1', port: p.mapperPort },
      runtimeUrl: `http://127.0.0.1:${p.runtimePort}`,
      neighbourUrl: (to) => this.link(d.name, to).url,
      tokenFile,
    });
    // Written beside and renamed over, so a running mapper never reads half a file.
    const file = this.configFile(d.name);
    await writeFile(`${file}.tmp`, formatMapperConfig(config));
    await rename(`${file}.tmp`, file);
  }

  /**
   * Starts (or restarts, on the same ports) a device's runtime and mapper. A device whose two
   * processes run is left alone (CONFLICT); one with a single survivor has it killed first, so both
   * start together; a port some other process took is a CONFLICT, not a failed start.
   */
  async startDevice(name: string): Promise<void> {
    const p = this.device(name);
    const { workDir } = this.o;
    const topology = this.topology;
    if (alive(p.runtime) && alive(p.mapper)) throw new CrimeError('CONFLICT', `${name} is running; kill it first to restart it`);
    await this.killDevice(name);
    for (const port of [p.runtimePort, p.mapperPort]) {
      if (!(await portFree(port))) throw new CrimeError('CONFLICT', `port ${port} of ${name} is taken by another process; try again once it is free`, { retryAfterSec: 1 });
    }
    const emulate = emulationOf(this.o.settings, name);
    const backend = p.spec.backend;
    const as = emulate ? ` (emulating ${emulate.perStepMs} ms/step + ${emulate.fixedMs} ms)` : '';
    this.o.onProgress?.(`starting ${name}: runtime on :${p.runtimePort}${as}, mapper on :${p.mapperPort}`);
    p.runtime = await startCrime(
      [
        'runtime',
        '--model', this.modelLocation(),
        '--format', topology.model.format,
        '--backend', backend,
        '--port', String(p.runtimePort),
        '--max-steps', String(topology.model.maxSteps),
        ...servingArgs(p.spec.serving),
        ...(emulate ? ['--emulate', `${emulate.perStepMs},${emulate.fixedMs}`] : []),
      ],
      join(workDir, 'logs', `${name}.runtime.log`),
    );
    const slowdown = this.slowdowns.get(name) ?? 1;
    if (slowdown !== 1) p.runtime.child.stdin?.write(`slowdown ${slowdown}\n`);
    p.mapper = await startCrime(['mapper', '--config', this.configFile(name)], join(workDir, 'logs', `${name}.mapper.log`));
    this.o.onProgress?.(`${name} ready`);
  }

  /** Kills a device's processes at once (SIGKILL), as a crash would. */
  async killDevice(name: string): Promise<void> {
    const p = this.device(name);
    for (const c of [p.mapper, p.runtime]) {
      if (!alive(c)) continue;
      const exited = new Promise<void>((resolve) => c.child.once('exit', () => resolve()));
      c.child.kill('SIGKILL');
      await exited;
    }
  }

  /**
   * Slows an emulated device down by `slowdown` (1 restores its speed) while it runs, and after a
   * restart. A device at this machine's full speed has no emulation to slow down: refused.
   */
  setSlowdown(name: string, slowdown: number): void {
    const p = this.device(name);
    if (!emulationOf(this.o.settings, name)) {
      throw new CrimeError('INVALID_INPUT', `${name} runs at this machine's speed: a slowdown needs its emulated speed in the local settings (devices[].perStepMs)`);
    }
    if (!(Number.isFinite(slowdown) && slowdown > 0)) throw new CrimeError('INVALID_INPUT', `slowdown must be a number above 0, got ${slowdown}`);
    this.slowdowns.set(name, slowdown);
    if (alive(p.runtime)) p.runtime.child.stdin?.write(`slowdown ${slowdown}\n`);
  }

  /** The devices of the topology as running (for events' targets). */
  topologyDevices(): Topology['devices'] {
    return this.topology.devices;
  }

  get policy(): MappingPolicy {
    return this.topology.mapping.policy;
  }

  /**
   * Switches the mapping policy by a configuration reload of every mapper, as an operator edits a
   * topology on a cluster, and resolves once every running mapper serves under it (it says so on
   * /metrics). Refused as parseTopology refuses it.
   */
  async setPolicy(policy: unknown, timeoutMs = 30_000): Promise<MappingPolicy> {
    let next: Topology;
    try {
      next = withPolicy(this.topology, policy);
    } catch (err) {
      if (err instanceof InvalidInputError) throw new CrimeError('INVALID_INPUT', `policy: ${err.message}`);
      throw err;
    }
    this.topology = next;
    for (const d of next.devices) await this.writeMapperConfig(d, this.tokenFile);
    const deadline = performance.now() + timeoutMs;
    for (const d of this.listDevices().filter((x) => x.running)) {
      while (!(await servesPolicy(d.mapperUrl, next.mapping.policy))) {
        if (performance.now() > deadline) throw new CrimeError('TIMEOUT', `${d.name} did not take policy ${next.mapping.policy} within ${timeoutMs} ms (see its mapper log)`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return next.mapping.policy;
  }

  /**
   * Undoes what events did: every link back to its local settings, every slowdown to 1, every device
   * that is down started again. Between runs that must start alike (crime bench mapping).
   */
  async resetConditions(): Promise<void> {
    this.player?.cancel();
    for (const [key, link] of this.links) {
      const [from, to] = key.split('->') as [string, string];
      link.set(linkFor(this.o.settings, from, to));
    }
    for (const name of [...this.slowdowns.keys()]) this.setSlowdown(name, 1);
    this.slowdowns.clear();
    for (const d of this.listDevices()) if (!d.running) await this.startDevice(d.name);
  }

  /** Plays events at their times from `startAt` (performance.now(); default now), replacing any still pending. */
  playEvents(events: readonly TimedEvent[], startAt?: number): EventPlayer {
    this.player?.cancel();
    this.player = new EventPlayer({ events, target: this, ...(startAt === undefined ? {} : { startAt }) });
    return this.player;
  }

  get events(): EventPlayer | undefined {
    return this.player;
  }

  setLink(from: string, to: string, conditions: Partial<LinkConditions>): LinkConditions {
    const link = this.link(from, to);
    link.set(conditions);
    return link.current;
  }

  listLinks(): Array<{ from: string; to: string } & LinkConditions> {
    return [...this.links.entries()].map(([key, link]) => {
      const [from, to] = key.split('->') as [string, string];
      return { from, to, ...link.current };
    });
  }

  listDevices(): DeviceStatus[] {
    return [...this.devices.values()].map((p) => ({
      name: p.spec.name,
      running: alive(p.mapper) && alive(p.runtime),
      runtimePid: p.runtime?.child.pid,
      mapperPid: p.mapper?.child.pid,
      mapperUrl: `http://127.0.0.1:${p.mapperPort}`,
      runtimeUrl: `http://127.0.0.1:${p.runtimePort}`,
      emulate: emulationOf(this.o.settings, p.spec.name),
    }));
  }

  async close(): Promise<void> {
    this.player?.cancel();
    await Promise.all(
      [...this.devices.values()].flatMap((p) => [p.mapper, p.runtime].filter((c): c is StartedChild => c !== undefined).map((c) => stopChild(c.child))),
    );
    await Promise.all([...this.links.values()].map((l) => l.close()));
  }
}
