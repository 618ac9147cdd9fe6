/**
 * The optional components that run against the API server: kube-scheduler, kube-controller-manager
 * and kwok (which plays the kubelets of fake nodes: it marks them Ready, renews their Lease and sets
 * bound pods Running). All use the admin kubeconfig and, where they serve, a loopback port.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binaryPath, type Binary } from './assets.js';
import { LOOPBACK, freePort } from './ports.js';
import { probe } from './probe.js';
import { ManagedProcess, type ProcessRegistry } from './processes.js';
import { waitFor } from './wait.js';

/** Annotation that puts a node under kwok's management (see nodes.ts). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const KWOK_NODE_ANNOTATION_VALUE = 'fake';

export interface ComponentOptions {
  binDir: string;
  workDir: string;
  /** Admin kubeconfig file. */
  kubeconfig: string;
  registry?: ProcessRegistry;
  timeoutMs?: number;
}

interface ServingComponent {
  name: Binary;
  args: (port: number) => string[];
}

function startProcess(options: ComponentOptions, name: Binary, args: string[]): ManagedProcess {
  return ManagedProcess.start({
    name,
    command: binaryPath(options.binDir, name),
    args,
    logFile: join(options.workDir, `${name}.log`),
    ...(options.registry === undefined ? {} : { registry: options.registry }),
  });
}

/** Starts a component that serves /healthz over HTTPS and waits until it answers ok. */
async function startServing(options: ComponentOptions, component: ServingComponent): Promise<ManagedProcess> {
  const port = await freePort();
  const process = startProcess(options, component.name, component.args(port));
  try {
    await waitFor(
      async () => {
        process.assertRunning();
        // Self-signed, in-memory certificate on loopback: nothing to verify it against.
        const res = await probe(`https://${LOOPBACK}:${String(port)}/healthz`);
        return res.status === 200 ? true : undefined;
      },
      { what: `${component.name} /healthz`, timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 200 },
    );
  } catch (err) {
    await process.stop();
    throw new Error(`${component.name} did not become healthy: ${err instanceof Error ? err.message : String(err)}\n${process.logTail()}`, {
      cause: err,
    });
  }
  return process;
}

function commonArgs(options: ComponentOptions, port: number): string[] {
  return [
    `--kubeconfig=${options.kubeconfig}`,
    `--authentication-kubeconfig=${options.kubeconfig}`,
    `--authorization-kubeconfig=${options.kubeconfig}`,
    `--bind-address=${LOOPBACK}`,
    `--secure-port=${String(port)}`,
    // One instance per control plane: no need to wait for a lease.
    '--leader-elect=false',
  ];
}

export function startScheduler(options: ComponentOptions): Promise<ManagedProcess> {
  return startServing(options, { name: 'kube-scheduler', args: (port) => commonArgs(options, port) });
}

export interface ControllerManagerOptions extends ComponentOptions {
  /** Key that signs legacy service account token secrets (the API server's key). */
  serviceAccountKey: string;
  /** CA bundle published in each namespace's kube-root-ca.crt ConfigMap. */
  rootCaFile: string;
}

export function startControllerManager(options: ControllerManagerOptions): Promise<ManagedProcess> {
  return startServing(options, {
    name: 'kube-controller-manager',
    args: (port) => [
      ...commonArgs(options, port),
      `--service-account-private-key-file=${options.serviceAccountKey}`,
      `--root-ca-file=${options.rootCaFile}`,
      '--use-service-account-credentials=false',
      // Fake nodes get no pod CIDRs.
      '--allocate-node-cidrs=false',
    ],
  });
}

/**
 * Starts kwok managing the nodes annotated `kwok.x-k8s.io/node=fake`. It serves nothing (no
 * --node-port/--server-address), so no pod or node address is ever reachable or dialled.
 */
export async function startKwok(options: ComponentOptions): Promise<ManagedProcess> {
  const config = join(options.workDir, 'kwok.yaml');
  // An explicit config so that ~/.kwok/kwok.yaml is never read; v0.7.0 falls back to its built-in
  // stages (node Ready + Lease heartbeat, pod Running, graceful delete).
  writeFileSync(config, 'apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions: {}\n');
  const process = startProcess(options, 'kwok', [
    `--config=${config}`,
    `--kubeconfig=${options.kubeconfig}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=${KWOK_NODE_ANNOTATION_VALUE}`,
    '--node-lease-duration-seconds=40',
  ]);
  // kwok has no health endpoint without a server; give it a moment to fail on bad flags.
  await new Promise((resolve) => setTimeout(resolve, 300));
  process.assertRunning();
  return process;
}
