/**
 * kube-apiserver on a loopback port, with a self-signed serving certificate (--cert-dir), a service
 * account signing key, a static admin token in system:masters and RBAC authorization.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binaryPath } from './assets.js';
import type { Endpoint } from './kubeconfig.js';
import { LOOPBACK } from './ports.js';
import { probe } from './probe.js';
import { ManagedProcess, type ProcessRegistry } from './processes.js';
import { waitFor } from './wait.js';

/** Files the API server needs, kept across restarts so tokens and certificates stay valid. */
export interface ApiServerFiles {
  certDir: string;
  serviceAccountKey: string;
  tokenFile: string;
  adminToken: string;
}

export const ADMIN_USER = 'crime-test-admin';

/** Writes the service account key and the static token file into `workDir`. */
export function prepareApiServerFiles(workDir: string): ApiServerFiles {
  const certDir = join(workDir, 'pki');
  mkdirSync(certDir, { recursive: true, mode: 0o700 });
  const serviceAccountKey = join(workDir, 'service-account.key');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(serviceAccountKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const adminToken = randomBytes(24).toString('hex');
  const tokenFile = join(workDir, 'tokens.csv');
  // token,user,uid,"group1,group2"
  writeFileSync(tokenFile, `${adminToken},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`, { mode: 0o600 });
  return { certDir, serviceAccountKey, tokenFile, adminToken };
}

export interface ApiServerOptions {
  binDir: string;
  workDir: string;
  files: ApiServerFiles;
  etcdUrl: string;
  port: number;
  registry?: ProcessRegistry;
  /** Extra flags, appended last so they win. */
  extraArgs?: readonly string[];
  timeoutMs?: number;
}

export class ApiServer {
  readonly endpoint: Endpoint;
  readonly process: ManagedProcess;

  private constructor(endpoint: Endpoint, process: ManagedProcess) {
    this.endpoint = endpoint;
    this.process = process;
  }

  static args(options: ApiServerOptions): string[] {
    const { files } = options;
    return [
      `--etcd-servers=${options.etcdUrl}`,
      `--cert-dir=${files.certDir}`,
      `--bind-address=${LOOPBACK}`,
      `--advertise-address=${LOOPBACK}`,
      `--secure-port=${String(options.port)}`,
      // The "kubernetes" service would get 127.0.0.1 as endpoint, which Endpoints reject.
      '--endpoint-reconciler-type=none',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${files.serviceAccountKey}`,
      `--service-account-signing-key-file=${files.serviceAccountKey}`,
      `--token-auth-file=${files.tokenFile}`,
      '--authorization-mode=RBAC',
      // Privileged pods are allowed by the API server so that Pod Security admission is what decides.
      '--allow-privileged=true',
      '--profiling=false',
      ...(options.extraArgs ?? []),
    ];
  }

  /** Starts the API server and waits until /readyz answers ok. */
  static async start(options: ApiServerOptions): Promise<ApiServer> {
    const process = ManagedProcess.start({
      name: 'kube-apiserver',
      command: binaryPath(options.binDir, 'kube-apiserver'),
      args: ApiServer.args(options),
      logFile: join(options.workDir, 'kube-apiserver.log'),
      ...(options.registry === undefined ? {} : { registry: options.registry }),
    });
    const server = `https://${LOOPBACK}:${String(options.port)}`;
    const certFile = join(options.files.certDir, 'apiserver.crt');
    try {
      const caPem = await waitFor(
        async () => {
          process.assertRunning();
          return existsSync(certFile) ? readFileSync(certFile, 'utf8') : undefined;
        },
        { what: `${certFile} from kube-apiserver`, timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 100 },
      );
      const endpoint: Endpoint = { server, caPem };
      await waitFor(
        async () => {
          process.assertRunning();
          const res = await probe(`${server}/readyz`, { caPem, token: options.files.adminToken });
          return res.status === 200 ? true : undefined;
        },
        { what: 'kube-apiserver /readyz', timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 200 },
      );
      return new ApiServer(endpoint, process);
    } catch (err) {
      await process.stop();
      throw new Error(`kube-apiserver did not become ready: ${err instanceof Error ? err.message : String(err)}\n${process.logTail()}`, {
        cause: err,
      });
    }
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }
}
