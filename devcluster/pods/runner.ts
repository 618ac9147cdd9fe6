/**
 * The pod runner: the kubelet of some nodes of the dev cluster, for real. It registers its nodes
 * (Ready, Lease renewed), runs every pod the scheduler binds to them as local processes in
 * per-pod network namespaces (see pod.ts), writes their status back, finishes their deletion, keeps
 * ConfigMap and Secret volumes current, and gives pods Service names (services.ts). kwok keeps
 * playing the kubelet of any other fake node; this one's nodes carry no kwok annotation.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig, KubernetesObject, V1ConfigMap, V1Pod, V1PodStatus, V1Secret, V1Service } from '@kubernetes/client-node';
import { silentLogger, type Logger } from '../../runtime/log.js';
import type { LinkConditions } from '../../local/link-emulator.js';
import { isNotFound } from '../../operator/kube/api-errors.js';
import { ListWatchInformer, watchWith } from '../../operator/kube/informer.js';
import { pathOf, RESOURCES, type Resource } from '../../operator/kube/resources.js';
import { KubeRest } from '../../operator/kube/rest.js';
import { KWOK_NODE_ANNOTATION } from '../components.js';
import { fakeNodeObject, type FakeNodeSpec } from '../nodes.js';
import { checkNetworkAdmin, GATEWAY_IP, setUpHost } from './netns.js';
import { enterHelper } from './enter.js';
import type { ImageBundle } from './image.js';
import { PodWorker, type ContainerSource } from './pod.js';
import { ServiceProxies } from './services.js';
import { claimSlot, type SlotClaim } from './slots.js';

export interface RunnerNode extends FakeNodeSpec {
  /** compute speed the node's runtimes emulate ("perStepMs,fixedMs"), given to containers as CRIME_EMULATE */
  emulate?: string;
}

/** where containers find the package, as in the image (Dockerfile: /opt/crime) */
export const IMAGE_ROOT = '/opt/crime';

export interface PodRunnerOptions {
  kc: KubeConfig;
  nodes: readonly RunnerNode[];
  /** where pods' volumes, logs and claims live */
  dataDir: string;
  /**
   * how `crime` runs here: node, and the package (a checkout with dist/ and node_modules/) that
   * stands in for the image: every container sees it read-only at IMAGE_ROOT, where the image
   * installs it, so a checkout anywhere (under /tmp, which pods cover with an emptyDir) still runs
   */
  crime: { node: string; root: string };
  /**
   * an unpacked image (image.ts) the nodes hold instead: containers whose image is this one run
   * from its root filesystem with their securityContext (container.ts); others cannot be pulled
   */
  image?: ImageBundle;
  linkBetween: (fromNode: string, toNode: string | undefined) => LinkConditions;
  logger?: Logger;
}

const LEASES_NS = 'kube-node-lease';

export class PodRunner {
  private readonly rest: KubeRest;
  private readonly logger: Logger;
  private readonly workers = new Map<string, PodWorker>();
  private readonly informers: Array<ListWatchInformer<KubernetesObject>> = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private proxies!: ServiceProxies;
  private claim?: SlotClaim;
  private slot = -1;
  private nextId = 0;
  /** pod numbers of pods gone, reused so the slot's addresses last */
  private readonly freeIds: number[] = [];
  private readonly idOf = new Map<string, number>();
  private syncing: Promise<void> = Promise.resolve();
  private syncQueued = false;
  private stopped = false;
  private readonly nodeNames: Set<string>;
  /** nodes whose pods' ConfigMap and Secret volumes are not updated for now (see holdVolumeUpdates) */
  private readonly held = new Set<string>();
  private containers!: ContainerSource;
  private configMaps!: ListWatchInformer<V1ConfigMap>;
  private secrets!: ListWatchInformer<V1Secret>;
  private services!: ListWatchInformer<V1Service>;
  private pods!: ListWatchInformer<V1Pod>;

  private constructor(private readonly o: PodRunnerOptions) {
    this.rest = new KubeRest(o.kc);
    this.logger = o.logger ?? silentLogger;
    this.nodeNames = new Set(o.nodes.map((n) => n.name));
  }

  static async start(o: PodRunnerOptions): Promise<PodRunner> {
    await checkNetworkAdmin();
    const runner = new PodRunner(o);
    try {
      await runner.boot();
    } catch (err) {
      await runner.stop();
      throw err;
    }
    return runner;
  }

  private get binDir(): string {
    return join(this.o.dataDir, 'bin');
  }

  private async boot(): Promise<void> {
    this.claim = await claimSlot();
    this.slot = this.claim.slot;
    this.proxies = new ServiceProxies({ slot: this.slot, linkBetween: this.o.linkBetween, logger: this.logger });
    await setUpHost();
    if (this.o.image) {
      this.containers = { kind: 'image', bundle: this.o.image, helper: await enterHelper() };
    } else {
      mkdirSync(this.binDir, { recursive: true });
      // The "image": `crime` on the PATH runs the CLI of the package mounted at IMAGE_ROOT.
      writeFileSync(join(this.binDir, 'crime'), `#!/bin/sh\nexec '${this.o.crime.node}' --enable-source-maps '${IMAGE_ROOT}/dist/cli/main.js' "$@"\n`);
      chmodSync(join(this.binDir, 'crime'), 0o755);
      this.containers = { kind: 'checkout', binDir: this.binDir, mount: { source: this.o.crime.root, target: IMAGE_ROOT, readOnly: true } };
    }
    for (const node of this.o.nodes) await this.registerNode(node);
    this.timers.push(setInterval(() => void this.heartbeat(), 10_000));
    const watch = watchWith(this.o.kc);
    const informer = <T extends KubernetesObject>(resource: Resource): ListWatchInformer<T> => {
      const inf = new ListWatchInformer<T>({ rest: this.rest, watch, resource, logger: this.logger });
      this.informers.push(inf as unknown as ListWatchInformer<KubernetesObject>);
      return inf;
    };
    this.configMaps = informer<V1ConfigMap>(RESOURCES.configMap);
    this.secrets = informer<V1Secret>(RESOURCES.secret);
    this.services = informer<V1Service>(RESOURCES.service);
    this.pods = informer<V1Pod>(RESOURCES.pod);
    const refreshVolumes = (): void => this.workers.forEach((w) => this.held.has(w.podObject.spec?.nodeName ?? '') || w.refreshVolumes());
    this.configMaps.on((e) => e !== 'resync' && refreshVolumes());
    this.secrets.on((e) => e !== 'resync' && refreshVolumes());
    this.services.on((e) => e !== 'resync' && this.syncServices());
    this.pods.on((event, pod) => {
      this.onPod(event, pod);
      if (event !== 'resync') this.syncServices();
    });
    for (const i of this.informers) i.start();
    await Promise.all(this.informers.map((i) => i.synced()));
    this.syncServices();
  }

  private async registerNode(spec: RunnerNode): Promise<void> {
    const node = fakeNodeObject(spec);
    // Not kwok's: this runner is the node's kubelet.
    delete node.metadata?.annotations?.[KWOK_NODE_ANNOTATION];
    node.metadata = { ...node.metadata, labels: { ...node.metadata?.labels, type: 'crime-pod-runner' } };
    try {
      await this.rest.request({ method: 'POST', path: '/api/v1/nodes', body: node });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
    await this.nodeStatus(spec);
    await this.renewLease(spec.name);
  }

  private async nodeStatus(spec: RunnerNode): Promise<void> {
    const now = new Date().toISOString();
    const condition = (type: string, status: string, reason: string): Record<string, string> => ({ type, status, reason, message: reason, lastHeartbeatTime: now, lastTransitionTime: now });
    await this.rest.request({
      method: 'PATCH',
      path: `/api/v1/nodes/${spec.name}/status`,
      contentType: 'application/strategic-merge-patch+json',
      body: {
        status: {
          conditions: [condition('Ready', 'True', 'KubeletReady'), condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'), condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'), condition('PIDPressure', 'False', 'KubeletHasSufficientPID')],
          addresses: [{ type: 'InternalIP', address: GATEWAY_IP }, { type: 'Hostname', address: spec.name }],
        },
      },
    });
  }

  private async renewLease(node: string): Promise<void> {
    const now = new Date().toISOString().replace('Z', '000Z'); // MicroTime
    const path = pathOf(RESOURCES.lease, LEASES_NS, node);
    const spec = { holderIdentity: node, leaseDurationSeconds: 40, renewTime: now };
    try {
      await this.rest.request({ method: 'PATCH', path, contentType: 'application/merge-patch+json', body: { spec } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.rest.request({ method: 'POST', path: pathOf(RESOURCES.lease, LEASES_NS), body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: node, namespace: LEASES_NS }, spec } });
    }
  }

  private async heartbeat(): Promise<void> {
    for (const node of this.o.nodes) {
      try {
        await this.renewLease(node.name);
        await this.nodeStatus(node);
      } catch (err) {
        this.logger.warn('node heartbeat failed', { node: node.name, error: (err as Error).message });
      }
    }
  }

  private onPod(event: string, pod: V1Pod): void {
    if (this.stopped || !this.nodeNames.has(pod.spec?.nodeName ?? '')) return;
    const uid = pod.metadata?.uid ?? '';
    const worker = this.workers.get(uid);
    if (event === 'delete') {
      if (worker) void this.retire(uid, worker, 0);
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      if (worker) void this.retire(uid, worker, pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30, pod);
      else void this.finishDeletion(pod);
      return;
    }
    if (worker) {
      worker.update(pod);
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const node = this.o.nodes.find((n) => n.name === pod.spec?.nodeName) as RunnerNode;
    const id = this.freeIds.shift() ?? this.nextId++;
    this.idOf.set(uid, id);
    const created: PodWorker = new PodWorker(pod, {
      slot: this.slot,
      id,
      dir: join(this.o.dataDir, 'pods', uid),
      claimsDir: join(this.o.dataDir, 'claims'),
      sources: { configMap: (ns, name) => this.configMaps.get(ns, name), secret: (ns, name) => this.secrets.get(ns, name) },
      nodeEnv: node.emulate ? { CRIME_EMULATE: node.emulate } : {},
      containers: this.containers,
      onStatus: (status) => void this.writeStatus(pod, status),
      onSandbox: () => this.serviceViewOf(created),
      logger: this.logger,
    });
    this.workers.set(uid, created);
    this.logger.info('starting pod', { pod: created.name, node: node.name });
    void created.run();
  }

  private async retire(uid: string, worker: PodWorker, graceSeconds: number, pod?: V1Pod): Promise<void> {
    if (!this.workers.has(uid)) return;
    this.workers.delete(uid);
    this.logger.info('stopping pod', { pod: worker.name, graceSeconds });
    await worker.stop(graceSeconds);
    const id = this.idOf.get(uid);
    this.idOf.delete(uid);
    if (id !== undefined) this.freeIds.push(id);
    if (pod) await this.finishDeletion(pod);
  }

  /** What the kubelet does once a terminating pod's containers are gone: delete it for good. */
  private async finishDeletion(pod: V1Pod): Promise<void> {
    try {
      await this.rest.request({
        method: 'DELETE',
        path: pathOf(RESOURCES.pod, pod.metadata?.namespace, pod.metadata?.name),
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid } },
      });
    } catch (err) {
      if (!isNotFound(err) && (err as { code?: number }).code !== 409) this.logger.warn('could not finish a pod deletion', { pod: pod.metadata?.name, error: (err as Error).message });
    }
  }

  private async writeStatus(pod: V1Pod, status: V1PodStatus): Promise<void> {
    if (this.stopped || !this.workers.has(pod.metadata?.uid ?? '')) return;
    try {
      await this.rest.request({
        method: 'PATCH',
        path: pathOf(RESOURCES.pod, pod.metadata?.namespace, pod.metadata?.name, 'status'),
        contentType: 'application/strategic-merge-patch+json',
        body: { metadata: { uid: pod.metadata?.uid }, status },
      });
    } catch (err) {
      if (!isNotFound(err)) this.logger.warn('pod status write failed', { pod: pod.metadata?.name, error: (err as Error).message });
    }
  }

  /**
   * Re-syncs the Service proxies, then what every running pod sees of them (hosts file and port
   * rewrites), one sync at a time, coalescing bursts of changes. Services that come and go after a
   * pod started reach it as they would through cluster DNS.
   */
  private syncServices(): void {
    if (this.syncQueued || this.stopped) return;
    this.syncQueued = true;
    this.syncing = this.syncing.then(async () => {
      this.syncQueued = false;
      try {
        await this.proxies.sync([...this.nodeNames], this.services.list(), this.pods.list());
      } catch (err) {
        this.logger.warn('service proxies failed to sync', { error: (err as Error).message });
      }
      await Promise.all([...this.workers.values()].map((w) => this.updateServiceView(w)));
    });
  }

  /** A new sandbox's Service view, in turn with the syncs (a view never overtakes a newer one). */
  private serviceViewOf(w: PodWorker): Promise<void> {
    const done = this.syncing.then(() => this.updateServiceView(w));
    this.syncing = done;
    return done;
  }

  /** Gives one pod the current Service view; a pod whose sandbox is going away is skipped. */
  private async updateServiceView(w: PodWorker): Promise<void> {
    const net = w.netns;
    const pod = w.podObject;
    if (!net || this.stopped) return;
    try {
      await net.setServices(pod.spec?.hostname ?? pod.metadata?.name ?? 'pod', this.proxies.viewFor(pod.spec?.nodeName ?? '', pod.metadata?.namespace ?? 'default'));
    } catch (err) {
      if (this.workers.has(pod.metadata?.uid ?? '')) this.logger.warn('could not give a pod the Services', { pod: w.name, error: (err as Error).message });
    }
  }

  /** The log file of a container of a pod (by uid) on this runner's nodes, as `kubectl logs` would read it. */
  logFile(podUid: string, container: string): string {
    return join(this.o.dataDir, 'pods', podUid, 'logs', `${container}.log`);
  }

  /**
   * Holds back ConfigMap and Secret updates to the pods of `node`, as a kubelet that syncs late
   * does (they can lag a minute in a real cluster): what a rotation looks like while it spreads.
   * Released, the pods get the current contents at once.
   */
  holdVolumeUpdates(node: string, hold: boolean): void {
    if (hold) {
      this.held.add(node);
      return;
    }
    this.held.delete(node);
    this.workers.forEach((w) => w.podObject.spec?.nodeName === node && w.refreshVolumes());
  }

  /** Shapes every Service link by linkBetween again, open connections included (the links changed). */
  relink(): void {
    this.proxies?.relink();
  }

  /** Stops every pod (their deletion is left to the API server), the proxies and the heartbeats. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const i of this.informers) i.stop();
    await Promise.all([...this.workers.values()].map((w) => w.stop(0)));
    this.workers.clear();
    await this.syncing;
    await this.proxies?.close();
    await this.claim?.release();
    this.rest.close();
    rmSync(this.o.dataDir, { recursive: true, force: true });
  }
}
