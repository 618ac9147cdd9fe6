/**
 * One pod on a runner node, run the way a kubelet runs it: network and volumes first, init
 * containers one after another until each succeeds, then the containers, restarted by the pod's
 * restartPolicy with the kubelet's crash-loop back-off (10 s doubling to 5 min, reset after 10 min
 * of running), readiness, liveness and startup probes executed, and the pod's status reported on
 * every change.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { V1Container, V1ContainerState, V1ContainerStatus, V1EnvVar, V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import { backoffDelay, type BackoffPolicy } from '../../runtime/backoff.js';
import type { Logger } from '../../runtime/log.js';
import { ContainerProcess, execIn, type Exit, type LaunchSpec } from './container.js';
import { homeOf, imageMatches, resolveInRoot, type ImageBundle } from './image.js';
import { PodNetwork, GATEWAY_IP } from './netns.js';
import { runProbe } from './probes.js';
import { argvOf, baseEnvOf, ContainerConfigError, identityOf, workingDirOf } from './security.js';
import { PodVolumes, type BindMount, type VolumeSources } from './volumes.js';

/**
 * What containers run: this checkout (`crime` on the PATH is a shim, the package mounted read-only
 * where the image installs it), or an unpacked image the node holds, with crime-enter to enter it.
 */
export type ContainerSource = { kind: 'checkout'; binDir: string; mount: BindMount } | { kind: 'image'; bundle: ImageBundle; helper: string };

/** The kubelet's ErrImagePull / ErrImageNeverPull: the node does not have the image and cannot get it. */
class ImageMissingError extends Error {
  constructor(
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull',
    message: string,
  ) {
    super(message);
  }
}

export interface PodWorkerOptions {
  /** the runner's slot and the pod's number in it: its namespace and address */
  slot: number;
  id: number;
  dir: string;
  claimsDir: string;
  sources: VolumeSources;
  /** called once the pod's network namespace exists, before any container starts (the Services it sees) */
  onSandbox: () => Promise<void>;
  /** extra environment the node gives every container (e.g. its emulated compute speed) */
  nodeEnv: Record<string, string>;
  containers: ContainerSource;
  onStatus: (status: V1PodStatus) => void;
  logger: Logger;
}

interface Slot {
  spec: V1Container;
  init: boolean;
  restartCount: number;
  state: V1ContainerState;
  lastState?: V1ContainerState;
  ready: boolean;
  started: boolean;
  process?: ContainerProcess;
  stopProbes: Array<() => void>;
}

const CRASH_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000 };
const BACKOFF_RESET_MS = 600_000;

/** $(VAR) references expanded from `env`, as Kubernetes does in command, args and env values; $$ escapes. */
export function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (m === '$$' ? '$' : name !== undefined && name in env ? (env[name] as string) : m));
}

export class PodWorker {
  private network?: PodNetwork;
  /** the sandbox while it is being made: stop() waits for it, so one made after a stop is removed too */
  private sandbox?: Promise<PodNetwork | undefined>;
  private volumes?: PodVolumes;
  private readonly slots: Slot[];
  private stopped = false;
  private phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' = 'Pending';
  private readonly startTime = new Date();
  private initialized = false;
  private statusTimer: NodeJS.Timeout | undefined;
  private waitingReason = 'ContainerCreating';
  private waitingMessage: string | undefined;

  constructor(
    private pod: V1Pod,
    private readonly o: PodWorkerOptions,
  ) {
    const make = (spec: V1Container, init: boolean): Slot => ({ spec, init, restartCount: 0, state: { waiting: { reason: init ? 'PodInitializing' : 'ContainerCreating' } }, ready: false, started: false, stopProbes: [] });
    this.slots = [...(pod.spec?.initContainers ?? []).map((c) => make(c, true)), ...(pod.spec?.containers ?? []).map((c) => make(c, false))];
  }

  get name(): string {
    return `${this.pod.metadata?.namespace ?? ''}/${this.pod.metadata?.name ?? ''}`;
  }

  get ip(): string | undefined {
    return this.network?.ip;
  }

  get netns(): PodNetwork | undefined {
    return this.network;
  }

  get podObject(): V1Pod {
    return this.pod;
  }

  /** Sets up the sandbox and runs the pod until stopped. Never throws: problems show in status. */
  async run(): Promise<void> {
    const hostname = this.pod.spec?.hostname ?? this.pod.metadata?.name ?? 'pod';
    this.sandbox = PodNetwork.create(this.o.slot, this.o.id, hostname).catch((err: Error) => {
      this.waitingMessage = err.message;
      this.report();
      this.o.logger.error('pod sandbox failed', { pod: this.name, error: err.message });
      return undefined;
    });
    this.network = await this.sandbox;
    // Stopped while the sandbox was made: stop() removes it.
    if (!this.network || this.stopped) return;
    await this.o.onSandbox();
    this.volumes = new PodVolumes(this.pod, join(this.o.dir, 'volumes'), this.o.claimsDir, this.o.sources);
    mkdirSync(join(this.o.dir, 'logs'), { recursive: true });
    // The pod's hostname and resolv.conf, mounted into containers from an image (names resolve
    // through the hosts file: there is no cluster DNS server, so no nameserver line).
    const ns = this.pod.metadata?.namespace ?? 'default';
    mkdirSync(join(this.o.dir, 'etc'), { recursive: true });
    writeFileSync(join(this.o.dir, 'etc', 'hostname'), `${hostname}\n`);
    writeFileSync(join(this.o.dir, 'etc', 'resolv.conf'), `search ${ns}.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`);
    // Like the kubelet's FailedMount: a missing ConfigMap or Secret is retried until it appears.
    for (;;) {
      if (this.stopped) return;
      try {
        this.volumes.setUp();
        break;
      } catch (err) {
        this.waitingMessage = `MountVolume.SetUp failed: ${(err as Error).message}`;
        this.report();
        await sleep(1000);
      }
    }
    this.waitingMessage = undefined;
    this.report();
    for (const slot of this.slots.filter((s) => s.init)) {
      if (!(await this.runInit(slot))) return;
    }
    this.initialized = true;
    this.phase = 'Running';
    await Promise.all(this.slots.filter((s) => !s.init).map((s) => this.keepRunning(s)));
  }

  /** New ConfigMap or Secret contents: the mounted files follow, atomically. */
  refreshVolumes(): void {
    try {
      const changed = this.volumes?.refresh() ?? [];
      if (changed.length > 0) this.o.logger.debug('volumes updated', { pod: this.name, volumes: changed });
    } catch (err) {
      this.o.logger.warn('volume refresh failed', { pod: this.name, error: (err as Error).message });
    }
  }

  update(pod: V1Pod): void {
    this.pod = pod;
  }

  private env(spec: V1Container, uid?: number): Record<string, string> {
    const pod = this.pod;
    const source = this.o.containers;
    const base = source.kind === 'image' ? baseEnvOf(source.bundle) : { PATH: `${source.binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: '/root' };
    const env: Record<string, string> = { ...base, HOSTNAME: pod.spec?.hostname ?? pod.metadata?.name ?? '', ...this.o.nodeEnv };
    for (const e of spec.env ?? []) env[e.name] = this.envValue(e, env);
    if (source.kind === 'image' && env['HOME'] === undefined) env['HOME'] = homeOf(source.bundle.rootfs, uid ?? 0);
    return env;
  }

  private envValue(e: V1EnvVar, env: Record<string, string>): string {
    if (e.value !== undefined) return expand(e.value, env);
    const from = e.valueFrom;
    const ns = this.pod.metadata?.namespace ?? 'default';
    if (from?.fieldRef) {
      const path = from.fieldRef.fieldPath;
      const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
      if (label) return (label[1] === 'labels' ? this.pod.metadata?.labels : this.pod.metadata?.annotations)?.[label[2] as string] ?? '';
      const fields: Record<string, string | undefined> = {
        'metadata.name': this.pod.metadata?.name,
        'metadata.namespace': ns,
        'metadata.uid': this.pod.metadata?.uid,
        'spec.nodeName': this.pod.spec?.nodeName,
        'spec.serviceAccountName': this.pod.spec?.serviceAccountName,
        'status.podIP': this.network?.ip,
        'status.hostIP': GATEWAY_IP,
      };
      return fields[path] ?? '';
    }
    if (from?.configMapKeyRef) return this.o.sources.configMap(ns, from.configMapKeyRef.name ?? '')?.data?.[from.configMapKeyRef.key] ?? '';
    if (from?.secretKeyRef) {
      const b64 = this.o.sources.secret(ns, from.secretKeyRef.name ?? '')?.data?.[from.secretKeyRef.key];
      return b64 === undefined ? '' : Buffer.from(b64, 'base64').toString('utf8');
    }
    return '';
  }

  private launchSpec(spec: V1Container): Omit<LaunchSpec, 'logFile'> {
    const source = this.o.containers;
    const ns = (this.network as PodNetwork).ns;
    const volumes = (this.volumes as PodVolumes).mounts(spec.volumeMounts ?? []);
    const termination = { source: this.terminationFile(spec), target: spec.terminationMessagePath ?? '/dev/termination-log', readOnly: false };
    if (source.kind === 'checkout') {
      const env = this.env(spec);
      const argv = [...(spec.command ?? []), ...(spec.args ?? [])].map((a) => expand(a, env));
      if (argv.length === 0) throw new Error(`container ${spec.name} has no command (images are not emulated)`);
      return { ns, mounts: [source.mount, ...volumes, termination], argv, env, ...(spec.workingDir ? { workingDir: spec.workingDir } : {}) };
    }
    const { bundle, helper } = source;
    if (!imageMatches(bundle, spec.image ?? '')) {
      const never = spec.imagePullPolicy === 'Never';
      throw new ImageMissingError(never ? 'ErrImageNeverPull' : 'ErrImagePull', `image "${spec.image ?? ''}" is not on this node${never ? ' and its pull policy is Never' : ', and no registry is reachable from it'} (the node holds ${bundle.name})`);
    }
    const identity = identityOf(bundle, this.pod, spec);
    const env = this.env(spec, identity.uid);
    const argv = argvOf(bundle, spec).map((a) => expand(a, env));
    const etc = join(this.o.dir, 'etc');
    // What the kubelet mounts into every container: the pod's hosts file, hostname and resolv.conf.
    const podFiles = [
      { source: (this.network as PodNetwork).hostsFile, target: '/etc/hosts', readOnly: false },
      { source: join(etc, 'hostname'), target: '/etc/hostname', readOnly: false },
      { source: join(etc, 'resolv.conf'), target: '/etc/resolv.conf', readOnly: false },
    ];
    const inRoot = (m: BindMount): BindMount => ({ ...m, target: resolveInRoot(bundle.rootfs, m.target) });
    const scratch = join(this.o.dir, 'containers', spec.name);
    mkdirSync(scratch, { recursive: true });
    return {
      ns,
      mounts: [...volumes, termination, ...podFiles].map(inRoot),
      argv,
      env,
      image: { rootfs: bundle.rootfs, scratch, identity, cwd: resolveInRoot(bundle.rootfs, workingDirOf(bundle, spec)), helper, errorFile: this.startErrorFile(spec) },
    };
  }

  private startErrorFile(spec: V1Container): string {
    return join(this.o.dir, 'logs', `${spec.name}.start-error`);
  }

  private terminationFile(spec: V1Container): string {
    return join(this.o.dir, 'logs', `${spec.name}.termination-log`);
  }

  private logFile(spec: V1Container): string {
    return join(this.o.dir, 'logs', `${spec.name}.log`);
  }

  private start(slot: Slot): ContainerProcess {
    const spec = this.launchSpec(slot.spec);
    // Each run starts with an empty termination message, as with a fresh container.
    // Writable by any user, as the kubelet makes it (0666): a non-root container writes its reason there.
    writeEmpty(this.terminationFile(slot.spec), 0o666);
    writeEmpty(this.startErrorFile(slot.spec));
    const p = new ContainerProcess({ ...spec, logFile: this.logFile(slot.spec) });
    slot.process = p;
    slot.state = { running: { startedAt: p.startedAt } };
    slot.started = slot.spec.startupProbe === undefined;
    this.report();
    return p;
  }

  private finished(slot: Slot, p: ContainerProcess, exit: Exit): void {
    // The image, a mount or crime-enter failed before the command ran: containerd's StartError.
    const startError = exit.exitCode === 128 ? readText(this.startErrorFile(slot.spec)) : '';
    const message = startError || this.terminationMessage(slot.spec, exit.exitCode);
    slot.state = {
      terminated: {
        exitCode: exit.exitCode,
        reason: startError ? 'StartError' : exit.exitCode === 0 ? 'Completed' : 'Error',
        ...(message ? { message } : {}),
        startedAt: p.startedAt,
        finishedAt: exit.at,
      },
    };
    slot.process = undefined;
    slot.ready = false;
    slot.started = false;
    for (const stop of slot.stopProbes.splice(0)) stop();
    this.report();
  }

  private terminationMessage(spec: V1Container, exitCode: number): string | undefined {
    let text = '';
    try {
      text = readFileSync(this.terminationFile(spec), 'utf8').trim();
    } catch {
      // none written
    }
    if (text === '' && exitCode !== 0 && spec.terminationMessagePolicy === 'FallbackToLogsOnError') {
      try {
        text = readFileSync(this.logFile(spec), 'utf8').trim().split('\n').slice(-80).join('\n');
      } catch {
        // no log
      }
    }
    return text === '' ? undefined : text.slice(0, 4096);
  }

  private backoffMs(slot: Slot): number {
    return backoffDelay(CRASH_BACKOFF, slot.restartCount);
  }

  private async crashLoopWait(slot: Slot): Promise<void> {
    const ms = this.backoffMs(slot);
    slot.lastState = slot.state;
    slot.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(ms / 1000)}s restarting failed container=${slot.spec.name} pod=${this.pod.metadata?.name ?? ''}` } };
    this.report();
    await sleep(ms);
  }

  /** Starts the container, or reports why it cannot be created (the pod then waits as it is). */
  private tryStart(slot: Slot): ContainerProcess | undefined {
    try {
      return this.start(slot);
    } catch (err) {
      const reason = err instanceof ImageMissingError ? err.reason : err instanceof ContainerConfigError ? 'CreateContainerConfigError' : 'CreateContainerError';
      slot.state = { waiting: { reason, message: (err as Error).message } };
      this.report();
      return undefined;
    }
  }

  /** Runs an init container until it succeeds; false if the pod gives up or stops. */
  private async runInit(slot: Slot): Promise<boolean> {
    for (;;) {
      if (this.stopped) return false;
      const p = this.tryStart(slot);
      if (!p) return false;
      const exit = await p.exited;
      this.finished(slot, p, exit);
      if (this.stopped) return false;
      if (exit.exitCode === 0) return true;
      slot.restartCount++;
      if (this.pod.spec?.restartPolicy === 'Never') {
        this.phase = 'Failed';
        this.report();
        return false;
      }
      await this.crashLoopWait(slot);
    }
  }

  /** Runs a container for as long as the pod lives and its restartPolicy says so. */
  private async keepRunning(slot: Slot): Promise<void> {
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    for (;;) {
      if (this.stopped) return;
      const p = this.tryStart(slot);
      if (!p) return;
      this.probe(slot, p);
      const exit = await p.exited;
      this.finished(slot, p, exit);
      if (this.stopped) return;
      const restart = policy === 'Always' || (policy === 'OnFailure' && exit.exitCode !== 0);
      if (!restart) {
        this.settle();
        return;
      }
      if (exit.at.getTime() - p.startedAt.getTime() > BACKOFF_RESET_MS) slot.restartCount = 0;
      slot.restartCount++;
      await this.crashLoopWait(slot);
    }
  }

  private probe(slot: Slot, p: ContainerProcess): void {
    const ctx = {
      podIP: (this.network as PodNetwork).ip,
      container: slot.spec,
      exec: (command: string[], timeoutMs: number) => execIn({ ...this.launchSpec(slot.spec), argv: command }, timeoutMs, p.pid),
    };
    const { readinessProbe, livenessProbe, startupProbe } = slot.spec;
    const afterStartup = (): void => {
      slot.started = true;
      if (readinessProbe) slot.stopProbes.push(runProbe(readinessProbe, ctx, false, (ok) => ((slot.ready = ok), this.report())));
      else slot.ready = true;
      // A failed liveness probe kills the container; its restartPolicy brings it back.
      if (livenessProbe) slot.stopProbes.push(runProbe(livenessProbe, ctx, true, (ok) => ok || (this.o.logger.info('liveness probe failed, restarting', { pod: this.name, container: slot.spec.name }), p.kill())));
      this.report();
    };
    if (startupProbe) {
      slot.stopProbes.push(runProbe(startupProbe, ctx, false, (ok) => ok && afterStartup()));
    } else {
      afterStartup();
    }
  }

  private settle(): void {
    const main = this.slots.filter((s) => !s.init);
    if (main.every((s) => s.state.terminated)) {
      this.phase = main.every((s) => s.state.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
      this.report();
    }
  }

  /** The pod's status as a kubelet would report it now. */
  status(): V1PodStatus {
    const main = this.slots.filter((s) => !s.init);
    const now = new Date();
    const containersReady = main.length > 0 && main.every((s) => s.ready);
    const condition = (type: string, ok: boolean): V1PodCondition => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now });
    const toStatus = (s: Slot): V1ContainerStatus => {
      const state = s.state.waiting && (this.waitingMessage || !this.network) && !s.lastState ? { waiting: { reason: this.waitingReason, ...(this.waitingMessage ? { message: this.waitingMessage } : {}) } } : s.state;
      return {
        name: s.spec.name,
        image: s.spec.image ?? '',
        imageID: this.o.containers.kind === 'image' ? `sha256:${this.o.containers.bundle.id}` : '',
        ready: s.ready,
        started: s.started,
        restartCount: s.restartCount,
        state,
        ...(s.lastState ? { lastState: s.lastState } : {}),
      };
    };
    return {
      phase: this.phase,
      hostIP: GATEWAY_IP,
      ...(this.network ? { podIP: this.network.ip, podIPs: [{ ip: this.network.ip }] } : {}),
      startTime: this.startTime,
      conditions: [condition('Initialized', this.initialized), condition('ContainersReady', containersReady), condition('Ready', containersReady)],
      initContainerStatuses: this.slots.filter((s) => s.init).map(toStatus),
      containerStatuses: main.map(toStatus),
    };
  }

  /** Reports the status soon, once for a burst of changes. */
  private report(): void {
    if (this.statusTimer !== undefined || this.stopped) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      if (!this.stopped) this.o.onStatus(this.status());
    }, 20);
  }

  /** Stops every container (SIGTERM, SIGKILL after the grace period) and removes the sandbox. */
  async stop(graceSeconds: number): Promise<void> {
    this.stopped = true;
    clearTimeout(this.statusTimer);
    for (const s of this.slots) for (const stop of s.stopProbes.splice(0)) stop();
    await Promise.all(this.slots.map((s) => s.process?.stop(graceSeconds * 1000)));
    await (await this.sandbox)?.destroy();
    this.volumes?.tearDown();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** A truncating write: the bind mount of the file keeps pointing at the same inode. */
function writeEmpty(path: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, '');
  chmodSync(path, mode);
}
