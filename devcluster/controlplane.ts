/**
 * A real Kubernetes control plane for tests: etcd and kube-apiserver, and optionally kube-scheduler,
 * kube-controller-manager and kwok, as local processes on loopback ports in a temporary folder.
 *
 *   const cp = await ControlPlane.start({ scheduler: true, controllerManager: true, kwok: true });
 *   const core = cp.admin().makeApiClient(CoreV1Api);
 *   ...
 *   await cp.stop();
 *
 * Set CRIME_CLUSTER_KEEP=1 to keep the folder (logs, kubeconfig) after stop().
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiServer, ADMIN_USER, prepareApiServerFiles, type ApiServerFiles } from './apiserver.js';
import { assetsDir, type Binary } from './assets.js';
import { startControllerManager, startKwok, startScheduler } from './components.js';
import { Etcd } from './etcd.js';
import { kubeConfigFor, writeKubeconfig, type Endpoint } from './kubeconfig.js';
import { freePort } from './ports.js';
import { ProcessRegistry, type ManagedProcess } from './processes.js';

export interface ControlPlaneOptions {
  /** Start kube-scheduler (pods get bound to nodes). */
  scheduler?: boolean;
  /** Start kube-controller-manager (Deployments, garbage collection, service accounts, ...). */
  controllerManager?: boolean;
  /** Start kwok, which plays the kubelet of fake nodes (see nodes.ts). */
  kwok?: boolean;
  /** Extra kube-apiserver flags. */
  apiServerArgs?: readonly string[];
  /** Per-component start deadline. */
  timeoutMs?: number;
}

export interface StartTimings {
  etcdMs: number;
  apiServerMs: number;
  totalMs: number;
}

export class ControlPlane {
  readonly workDir: string;
  /** Admin kubeconfig (system:masters), for the Go components and kubectl. */
  readonly kubeconfigPath: string;
  readonly binDir: string;
  readonly timings: StartTimings;
  private apiServer: ApiServer;
  private readonly etcd: Etcd;
  private readonly components: ManagedProcess[];
  private readonly registry: ProcessRegistry;
  private readonly files: ApiServerFiles;
  private readonly apiServerOptions: { port: number; extraArgs: readonly string[]; timeoutMs: number };
  private stopped = false;

  private constructor(init: {
    workDir: string;
    binDir: string;
    kubeconfigPath: string;
    registry: ProcessRegistry;
    files: ApiServerFiles;
    etcd: Etcd;
    apiServer: ApiServer;
    components: ManagedProcess[];
    apiServerOptions: { port: number; extraArgs: readonly string[]; timeoutMs: number };
    timings: StartTimings;
  }) {
    this.workDir = init.workDir;
    this.binDir = init.binDir;
    this.kubeconfigPath = init.kubeconfigPath;
    this.registry = init.registry;
    this.files = init.files;
    this.etcd = init.etcd;
    this.apiServer = init.apiServer;
    this.components = init.components;
    this.apiServerOptions = init.apiServerOptions;
    this.timings = init.timings;
  }

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const needed: Binary[] = ['etcd', 'kube-apiserver'];
    if (options.scheduler === true) needed.push('kube-scheduler');
    if (options.controllerManager === true) needed.push('kube-controller-manager');
    if (options.kwok === true) needed.push('kwok');
    const binDir = assetsDir(needed);
    const timeoutMs = options.timeoutMs ?? 90_000;
    const workDir = mkdtempSync(join(tmpdir(), 'crime-cluster-'));
    const registry = new ProcessRegistry({ groupsFile: join(workDir, 'process-groups'), workDir });
    const started: { stop(): Promise<unknown> }[] = [];
    const t0 = Date.now();
    try {
      const etcd = await Etcd.start({ binDir, workDir, registry, timeoutMs });
      started.push(etcd);
      const etcdMs = Date.now() - t0;
      const files = prepareApiServerFiles(workDir);
      const apiServerOptions = { port: await freePort(), extraArgs: options.apiServerArgs ?? [], timeoutMs };
      const apiServer = await ApiServer.start({ binDir, workDir, files, etcdUrl: etcd.url, registry, ...apiServerOptions });
      started.push(apiServer);
      const apiServerMs = Date.now() - t0 - etcdMs;
      const kubeconfigPath = join(workDir, 'admin.kubeconfig');
      writeKubeconfig(kubeconfigPath, { endpoint: apiServer.endpoint, userName: ADMIN_USER, token: files.adminToken });

      const common = { binDir, workDir, kubeconfig: kubeconfigPath, registry, timeoutMs };
      const pending: Promise<ManagedProcess>[] = [];
      if (options.scheduler === true) pending.push(startScheduler(common));
      if (options.controllerManager === true) {
        const rootCaFile = join(files.certDir, 'apiserver.crt');
        pending.push(startControllerManager({ ...common, serviceAccountKey: files.serviceAccountKey, rootCaFile }));
      }
      if (options.kwok === true) pending.push(startKwok(common));
      const results = await Promise.allSettled(pending);
      const components: ManagedProcess[] = [];
      for (const result of results) if (result.status === 'fulfilled') components.push(result.value);
      started.push(...components);
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure !== undefined) throw failure.reason;

      return new ControlPlane({
        workDir,
        binDir,
        kubeconfigPath,
        registry,
        files,
        etcd,
        apiServer,
        components,
        apiServerOptions,
        timings: { etcdMs, apiServerMs, totalMs: Date.now() - t0 },
      });
    } catch (err) {
      for (const p of started.reverse()) await p.stop();
      registry.close();
      if (process.env['CRIME_CLUSTER_KEEP'] !== '1') rmSync(workDir, { recursive: true, force: true });
      else console.error(`control plane folder kept: ${workDir}`);
      throw err;
    }
  }

  /** https://127.0.0.1:<port> and the CA bundle of its serving certificate. */
  get endpoint(): Endpoint {
    return this.apiServer.endpoint;
  }

  /** The static admin token (group system:masters). */
  get adminToken(): string {
    return this.files.adminToken;
  }

  /** A client-node KubeConfig for the admin user. */
  admin(): KubeConfig {
    return kubeConfigFor({ endpoint: this.endpoint, userName: ADMIN_USER, token: this.adminToken });
  }

  /** A client-node KubeConfig for any bearer token (see serviceaccounts.ts). */
  withToken(userName: string, token: string, namespace?: string): KubeConfig {
    return kubeConfigFor({ endpoint: this.endpoint, userName, token, ...(namespace === undefined ? {} : { namespace }) });
  }

  /**
   * Stops kube-apiserver and starts it again on the same port, etcd and certificates, as a rolling
   * upgrade or crash would. Resolves when the new one is ready; returns how long it was down.
   */
  async restartApiServer(): Promise<number> {
    const t0 = Date.now();
    await this.apiServer.stop();
    this.apiServer = await ApiServer.start({
      binDir: this.binDir,
      workDir: this.workDir,
      files: this.files,
      etcdUrl: this.etcd.url,
      registry: this.registry,
      ...this.apiServerOptions,
    });
    return Date.now() - t0;
  }

  /** Resident memory of each running process, in bytes (from /proc). */
  memory(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of [this.etcd.process, this.apiServer.process, ...this.components]) {
      if (!p.running) continue;
      try {
        const status = readFileSync(`/proc/${String(p.pid)}/status`, 'utf8');
        const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
        if (kb !== undefined) out[p.name] = Number(kb) * 1024;
      } catch {
        // Exited meanwhile.
      }
    }
    return out;
  }

  /** Stops every process (components first, etcd last) and removes the folder. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.components.map((p) => p.stop()));
    await this.apiServer.stop();
    await this.etcd.stop();
    this.registry.close();
    if (process.env['CRIME_CLUSTER_KEEP'] === '1') console.error(`control plane folder kept: ${this.workDir}`);
    else rmSync(this.workDir, { recursive: true, force: true });
  }
}
