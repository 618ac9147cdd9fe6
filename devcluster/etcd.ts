/** A single-member etcd on loopback ports, for one test control plane. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { binaryPath } from './assets.js';
import { LOOPBACK, freePorts } from './ports.js';
import { probe } from './probe.js';
import { ManagedProcess, type ProcessRegistry } from './processes.js';
import { waitFor } from './wait.js';

export interface EtcdOptions {
  binDir: string;
  /** Folder for etcd's data and log. */
  workDir: string;
  registry?: ProcessRegistry;
  timeoutMs?: number;
}

export class Etcd {
  /** http://127.0.0.1:<port>, for --etcd-servers. */
  readonly url: string;
  readonly process: ManagedProcess;

  private constructor(url: string, process: ManagedProcess) {
    this.url = url;
    this.process = process;
  }

  static async start(options: EtcdOptions): Promise<Etcd> {
    const [clientPort, peerPort] = await freePorts(2);
    const url = `http://${LOOPBACK}:${String(clientPort)}`;
    const peerUrl = `http://${LOOPBACK}:${String(peerPort)}`;
    const dataDir = join(options.workDir, 'etcd-data');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const process = ManagedProcess.start({
      name: 'etcd',
      command: binaryPath(options.binDir, 'etcd'),
      args: [
        '--name=default',
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${url}`,
        `--advertise-client-urls=${url}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        // Test data is thrown away: skipping fsync makes writes much faster.
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      logFile: join(options.workDir, 'etcd.log'),
      ...(options.registry === undefined ? {} : { registry: options.registry }),
    });
    const etcd = new Etcd(url, process);
    await waitFor(
      async () => {
        process.assertRunning();
        const res = await probe(`${url}/health`);
        return res.status === 200 && res.body.includes('"health":"true"') ? true : undefined;
      },
      { what: 'etcd /health', timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 100 },
    );
    return etcd;
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }
}
