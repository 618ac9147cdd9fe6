import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { CrimeError } from '../runtime/errors.js';
import type { Topology, TopologyDevice } from '../runtime/topology/topology.js';
import { entryOf } from '../runtime/topology/topology.js';
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

  private constructor(private readonly o: LaunchOptions) {}

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
    return `http://127.0.0.1:${this.device(entryOf(this.o.topology).name).mapperPort}`;
  }

  private device(name: string): DeviceProcesses {
    const d = this.devices.get(name);
    if (!d) throw new CrimeError('NOT_FOUND', `no device "${name}" in topology ${this.o.topology.name}`);
    return d;
  }

  private link(from: string, to: string): LinkEmulator {
    const l = this.links.get(`${from}->${to}`);
    if (!l) throw new CrimeError('NOT_FOUND', `no link ${from}->${to}: ${from} does not offload to ${to}`);
    return l;
  }

  private async boot(): Promise<void> {
    const { topology, workDir, settings } = this.o;
    this.modelLocation(); // refuses a pvc:// model before anything starts
    await mkdir(join(workDir, 'logs'), { recursive: true });
    const tokenFile = join(workDir, 'token');
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
    const source = this.o.topology.model.source;
    if (source.kind === 'http') return source.url;
    if (source.kind === 'pvc') {
      throw new InvalidInputError('spec.model.uri', `${this.o.topology.model.uri}: a pvc:// model lives on a cluster volume that only the operator mounts; for crime up use a local path or an http(s) URL`);
    }
    return isAbsolute(source.path) ? source.path : resolvePath(this.o.baseDir, source.path);
  }

  private configFile(name: string): string {
    return join(this.o.workDir, `${name}.mapper.yaml`);
  }

  private async writeMapperConfig(d: TopologyDevice, tokenFile: string): Promise<void> {
    const p = this.device(d.name);
    const config = renderMapperConfig(this.o.topology, d.name, {
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
    const { topology, workDir } = this.o;
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
    await Promise.all(
      [...this.devices.values()].flatMap((p) => [p.mapper, p.runtime].filter((c): c is StartedChild => c !== undefined).map((c) => stopChild(c.child))),
    );
    await Promise.all([...this.links.values()].map((l) => l.close()));
  }
}
