/**
 * KubeWriter against a fake KubeRest that records each request and answers it: the requests are
 * what the API server's contract needs (force only when asked, the uid as a delete precondition,
 * lookups of metadata only, by list because the RBAC grants list and not get).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { ApiError } from './api-errors.js';
import { RESOURCES } from './resources.js';
import type { KubeRequest } from './rest.js';
import { KubeWriter, type RestRequests } from './writer.js';

class FakeRest implements RestRequests {
  readonly requests: KubeRequest[] = [];
  constructor(private readonly answer: (req: KubeRequest) => unknown = () => ({})) {}

  async request<T>(req: KubeRequest): Promise<T> {
    this.requests.push(req);
    const a = this.answer(req);
    if (a instanceof Error) throw a;
    return a as T;
  }
}

const configMap: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'imdb-mappers', namespace: 'ops' }, data: { 'a.yaml': 'x' } };

test('apply: server-side apply as crime-operator, forced only when asked', async () => {
  const rest = new FakeRest();
  const writer = new KubeWriter(rest);
  await writer.apply(configMap, { force: false });
  await writer.apply(configMap, { force: true });
  const [plain, forced] = rest.requests;
  assert.deepEqual({ ...plain, body: undefined }, { method: 'PATCH', path: '/api/v1/namespaces/ops/configmaps/imdb-mappers', query: { fieldManager: 'crime-operator' }, body: undefined, contentType: 'application/apply-patch+yaml' });
  assert.equal(plain?.body, configMap);
  assert.deepEqual(forced?.query, { fieldManager: 'crime-operator', force: 'true' });
  await assert.rejects(writer.apply({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'ops' } }, { force: false }), /does not write Job/);
  await assert.rejects(writer.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'no-namespace' } }, { force: false }), /needs metadata.namespace/);
});

test('metadata: a list by name asking for metadata only (never a Secret\'s data); undefined when nothing has the name', async () => {
  const rest = new FakeRest((req) => (req.query?.fieldSelector === 'metadata.name=imdb-token'
    ? { kind: 'PartialObjectMetadataList', items: [{ metadata: { name: 'imdb-token', namespace: 'ops', uid: 'u1' } }] }
    : { kind: 'PartialObjectMetadataList', items: [] }));
  const writer = new KubeWriter(rest);
  assert.deepEqual(await writer.metadata(RESOURCES.secret, 'ops', 'imdb-token'), { name: 'imdb-token', namespace: 'ops', uid: 'u1' });
  assert.equal(await writer.metadata(RESOURCES.secret, 'ops', 'other'), undefined);
  const [req] = rest.requests;
  assert.equal(req?.method, 'GET');
  assert.equal(req?.path, '/api/v1/namespaces/ops/secrets');
  assert.match(req?.accept ?? '', /^application\/json;as=PartialObjectMetadataList;v=v1;g=meta\.k8s\.io/);
});

test('remove: in the background, only the object with that uid; a missing one is fine, a replaced one is not', async () => {
  const answers: unknown[] = [{}, new ApiError(404, { reason: 'NotFound' }, 'DELETE'), new ApiError(409, { reason: 'Conflict', message: 'Precondition failed: UID in precondition: u1, UID in object meta: u2' }, 'DELETE')];
  const rest = new FakeRest(() => answers.shift());
  const writer = new KubeWriter(rest);
  await writer.remove(RESOURCES.deployment, 'ops', 'imdb--cloud', 'u1');
  assert.deepEqual(rest.requests[0], { method: 'DELETE', path: '/apis/apps/v1/namespaces/ops/deployments/imdb--cloud', body: { propagationPolicy: 'Background', preconditions: { uid: 'u1' } } });
  await writer.remove(RESOURCES.deployment, 'ops', 'imdb--cloud', 'u1');
  await assert.rejects(writer.remove(RESOURCES.deployment, 'ops', 'imdb--cloud', 'u1'), /Precondition failed/);
});

test('create and status: a POST as crime-operator; the status applied on its subresource', async () => {
  const rest = new FakeRest();
  const writer = new KubeWriter(rest);
  await writer.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'imdb-token', namespace: 'ops' } });
  await writer.applyStatus('ops', 'imdb', { devicesReady: '0/3' });
  assert.deepEqual(rest.requests.map((r) => [r.method, r.path, r.query]), [
    ['POST', '/api/v1/namespaces/ops/secrets', { fieldManager: 'crime-operator' }],
    ['PATCH', '/apis/crime.dev/v1alpha1/namespaces/ops/rnntopologies/imdb/status', { fieldManager: 'crime-operator', force: 'true' }],
  ]);
  assert.deepEqual(rest.requests[1]?.body, { apiVersion: 'crime.dev/v1alpha1', kind: 'RnnTopology', metadata: { name: 'imdb', namespace: 'ops' }, status: { devicesReady: '0/3' } });
});
