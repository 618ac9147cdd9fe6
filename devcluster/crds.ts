/**
 * CustomResourceDefinitions from YAML files: install one as it is written and wait until the API
 * server serves it (Established), and read its published schema back.
 */
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { statusMessageOf } from '../operator/kube/api-errors.js';
import { KubeRest } from '../operator/kube/rest.js';
import { waitFor } from './wait.js';

/** A CRD as a plain object, the way the file writes it. */
export type CrdObject = { metadata: { name: string } } & Record<string, unknown>;

export function readCrdFile(path: string): CrdObject {
  const doc: unknown = parseYaml(readFileSync(path, 'utf8'));
  if (typeof doc !== 'object' || doc === null || (doc as { kind?: unknown }).kind !== 'CustomResourceDefinition') {
    throw new Error(`${path} is not a CustomResourceDefinition`);
  }
  const name = (doc as { metadata?: { name?: unknown } }).metadata?.name;
  if (typeof name !== 'string') throw new Error(`${path} has no metadata.name`);
  return doc as CrdObject;
}

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** A condition of the CRD's status, e.g. Established or NamesAccepted. */
function condition(crd: unknown, type: string): { status?: string; reason?: string; message?: string } | undefined {
  const conditions = (crd as { status?: { conditions?: unknown } }).status?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  return (conditions as { type?: string; status?: string; reason?: string; message?: string }[]).find((c) => c.type === type);
}

/**
 * Creates the CRD (strict field validation, so a typo in the schema is an error rather than pruned)
 * and waits until it is Established. Returns the CRD as the API server stored it.
 */
export async function installCrd(kc: KubeConfig, crd: CrdObject, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const rest = new KubeRest(kc);
  const created = await rest.raw({ method: 'POST', path: CRDS, body: crd, query: { fieldValidation: 'Strict' } });
  if (created.status !== 201) throw new Error(`creating CRD ${crd.metadata.name}: HTTP ${created.status}: ${statusMessageOf(created.body)}`);
  return waitEstablished(kc, crd.metadata.name, timeoutMs);
}

/** Waits until the named CRD is Established (its names accepted and its resource served). */
export async function waitEstablished(kc: KubeConfig, name: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const rest = new KubeRest(kc);
  return waitFor(
    async () => {
      const got = await rest.raw({ method: 'GET', path: `${CRDS}/${name}` });
      if (got.status !== 200) throw new Error(`HTTP ${got.status}: ${statusMessageOf(got.body)}`);
      const names = condition(got.body, 'NamesAccepted');
      if (names?.status === 'False') throw new Error(`names not accepted: ${names.reason ?? ''} ${names.message ?? ''}`);
      return condition(got.body, 'Established')?.status === 'True' ? (got.body as Record<string, unknown>) : undefined;
    },
    { what: `CRD ${name} Established`, timeoutMs },
  );
}

/**
 * The OpenAPI v3 document the API server publishes for a group version (what `kubectl explain`
 * reads), e.g. `apis/crime.dev/v1alpha1`. Waits until the group version appears in the index.
 */
export async function publishedOpenApi(kc: KubeConfig, groupVersion: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const rest = new KubeRest(kc);
  const path = await waitFor(
    async () => {
      const index = await rest.raw({ method: 'GET', path: '/openapi/v3' });
      const paths = (index.body as { paths?: Record<string, { serverRelativeURL?: string }> }).paths ?? {};
      return paths[groupVersion]?.serverRelativeURL;
    },
    { what: `/openapi/v3 to list ${groupVersion}`, timeoutMs },
  );
  const doc = await rest.raw({ method: 'GET', path });
  if (doc.status !== 200) throw new Error(`GET ${path}: HTTP ${doc.status}`);
  return doc.body as Record<string, unknown>;
}
