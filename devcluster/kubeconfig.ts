/**
 * Kubeconfigs for the test control plane: a file for the Go components and kubectl, and
 * @kubernetes/client-node KubeConfig objects for the tests, both authenticating with bearer tokens.
 */
import { writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

export interface Endpoint {
  /** https://127.0.0.1:<port> */
  server: string;
  /** PEM bundle the serving certificate chains to. */
  caPem: string;
}

export interface KubeconfigOptions {
  endpoint: Endpoint;
  /** User name in the kubeconfig; the API server knows the user by the token alone. */
  userName: string;
  token: string;
  /** Namespace of the context, if any. */
  namespace?: string;
}

const CLUSTER = 'crime-test';

/** The kubeconfig as a YAML document. */
export function kubeconfigYaml(options: KubeconfigOptions): string {
  const context: Record<string, string> = { cluster: CLUSTER, user: options.userName };
  if (options.namespace !== undefined) context['namespace'] = options.namespace;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: CLUSTER,
        cluster: {
          server: options.endpoint.server,
          'certificate-authority-data': Buffer.from(options.endpoint.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: options.userName, user: { token: options.token } }],
    contexts: [{ name: options.userName, context }],
    'current-context': options.userName,
  });
}

export function writeKubeconfig(path: string, options: KubeconfigOptions): void {
  writeFileSync(path, kubeconfigYaml(options), { mode: 0o600 });
}

/** A client-node KubeConfig for the same endpoint and token. */
export function kubeConfigFor(options: KubeconfigOptions): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(options));
  return kc;
}
