/**
 * The Reconciler against an in-memory API server and caches (testing/fake-cluster.ts): which calls
 * it makes, on which objects, with or without force, and what reaches the status and the Events.
 * What the real API server does with them: test/operator.test.ts.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { silentLogger } from '../../runtime/log.js';
import { DEFAULT_RENDER_OPTIONS } from '../render/options.js';
import type { Owner } from '../render/owner.js';
import type { Condition, TopologyStatus } from '../render/status.js';
import { apiError, FakeApi, fakeCaches, sync, type FakeCaches } from '../testing/fake-cluster.js';
import { ReconcileFailure } from './ownership.js';
import { Reconciler } from './reconciler.js';
import type { RnnTopologyObject } from './types.js';

const NS = 'ops';

function topology(name: string, uid: string, devices: Array<{ name: string; entry?: boolean; offloadTo?: string[] }>): RnnTopologyObject {
  return {
    apiVersion: 'crime.dev/v1alpha1',
    kind: 'RnnTopology',
    metadata: { name, namespace: NS, uid, generation: 1 },
    spec: { model: { format: 'onnx', uri: 'http://models.invalid/m.onnx' }, devices },
  };
}

const THREE = [{ name: 'end-node', entry: true, offloadTo: ['gateway'] }, { name: 'gateway', offloadTo: ['cloud'] }, { name: 'cloud' }];

interface Recorded {
  reason: string;
  type: string;
  message: string;
}

describe('Reconciler', () => {
  let api: FakeApi;
  let caches: FakeCaches;
  let events: Recorded[];
  let reconciler: Reconciler;

  const reconcile = async (key = `${NS}/imdb`): Promise<ReconcileFailure | undefined> => {
    try {
      await reconciler.reconcile(key);
      return undefined;
    } catch (err) {
      if (err instanceof ReconcileFailure) return err;
      throw err;
    } finally {
      sync(api, caches);
    }
  };
  const status = (name = 'imdb'): TopologyStatus => api.statuses.get(`${NS}/${name}`) as TopologyStatus;
  const ready = (name = 'imdb'): Condition | undefined => status(name)?.conditions.find((c) => c.type === 'Ready');
  const foreign = (kind: string, name: string, extra: Partial<KubernetesObject> = {}): KubernetesObject =>
    api.put({ apiVersion: 'v1', kind, metadata: { name, namespace: NS, labels: { app: 'mine' } }, ...extra });

  beforeEach(() => {
    api = new FakeApi();
    caches = fakeCaches();
    events = [];
    reconciler = new Reconciler({
      caches,
      writer: api,
      events: { record: async (_t: Owner, type, reason, message) => void events.push({ type, reason, message }) },
      render: DEFAULT_RENDER_OPTIONS,
      logger: silentLogger,
      now: () => new Date('2026-01-01T00:00:00Z'),
    });
    caches.topologies.put(topology('imdb', 'uid-imdb', THREE));
  });

  test('a new topology: every name looked up, every child created without force, the token once; then nothing to write', async () => {
    assert.equal(await reconcile(), undefined);
    const applies = api.calls.filter((c) => c.verb === 'apply');
    assert.deepEqual(applies.map((c) => c.ref).sort(), [
      'ConfigMap/ops/imdb-mappers',
      'Deployment/ops/imdb--cloud', 'Deployment/ops/imdb--end-node', 'Deployment/ops/imdb--gateway',
      'Service/ops/imdb--cloud', 'Service/ops/imdb--end-node', 'Service/ops/imdb--gateway',
    ]);
    assert.ok(applies.every((c) => c.force === false), 'nothing exists yet: nothing to force');
    assert.deepEqual(api.calls.filter((c) => c.verb === 'create').map((c) => c.ref), ['Secret/ops/imdb-token']);
    assert.equal(api.calls.filter((c) => c.verb === 'metadata').length, 8, 'each name looked up once before the first write');
    assert.equal(ready()?.reason, 'DevicesNotReady');
    const token = api.get('Secret', NS, 'imdb-token');
    api.calls.length = 0;
    assert.equal(await reconcile(), undefined);
    assert.deepEqual(api.calls, [], 'everything is in the caches and as rendered: no lookup, no write');
    assert.deepEqual(api.get('Secret', NS, 'imdb-token'), token);
  });

  test('a Service made by hand under a rendered name: NameConflict naming it, an Event, nothing written, retried', async () => {
    const mine = foreign('Service', 'imdb--gateway', { spec: { selector: { app: 'mine' }, ports: [{ port: 80 }] } } as Partial<KubernetesObject>);
    const failure = await reconcile();
    assert.equal(failure?.failure.reason, 'NameConflict', 'thrown after the status, so the key comes back with backoff');
    assert.deepEqual(api.writes().map((c) => c.verb), ['applyStatus'], 'not one child written: not even the ones free');
    assert.deepEqual(api.get('Service', NS, 'imdb--gateway'), mine, 'the user\'s Service untouched');
    assert.equal(ready()?.status, 'False');
    assert.equal(ready()?.reason, 'NameConflict');
    assert.match(ready()?.message ?? '', /Service ops\/imdb--gateway exists and is not this topology's: it has no controller/);
    assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Warning', 'NameConflict']]);
    // Once it is gone the topology gets its own.
    api.delete('Service', NS, 'imdb--gateway');
    assert.equal(await reconcile(), undefined);
    assert.equal(api.calls.find((c) => c.ref === 'Service/ops/imdb--gateway' && c.verb === 'apply')?.force, false);
    assert.notEqual(ready()?.reason, 'NameConflict');
  });

  test('a Secret made by hand under the token\'s name is never used: NameConflict, no Deployment mounts it', async () => {
    foreign('Secret', 'imdb-token', { data: { token: 'bm90LW91cnM=' } } as Partial<KubernetesObject>);
    assert.equal((await reconcile())?.failure.reason, 'NameConflict');
    assert.deepEqual(api.writes().map((c) => c.verb), ['applyStatus']);
    assert.match(ready()?.message ?? '', /Secret ops\/imdb-token exists and is not this topology's/);
  });

  test('an object with our labels that another topology controls is neither applied nor pruned', async () => {
    const theirs = api.put({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'imdb--cloud', namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'crime-operator' }, ownerReferences: [{ apiVersion: 'crime.dev/v1alpha1', kind: 'RnnTopology', name: 'other', uid: 'uid-other', controller: true }] },
    }, 'crime-operator');
    sync(api, caches);
    assert.equal((await reconcile())?.failure.reason, 'NameConflict');
    assert.match(ready()?.message ?? '', /its controller is RnnTopology other \(uid uid-other\)/);
    assert.deepEqual(api.get('Service', NS, 'imdb--cloud'), theirs);
    assert.ok(!api.calls.some((c) => c.verb === 'remove'));
  });

  test('a child that vanished is made again; one of ours the caches lost (labels removed) is taken back with force', async () => {
    await reconcile();
    api.delete('Service', NS, 'imdb--cloud');
    const deployment = api.get('Deployment', NS, 'imdb--gateway') as KubernetesObject;
    api.put({ ...deployment, metadata: { ...deployment.metadata, labels: {} } }, 'kubectl-edit');
    sync(api, caches);
    api.calls.length = 0;
    assert.equal(await reconcile(), undefined);
    assert.deepEqual(api.writes().filter((c) => c.verb === 'apply').map((c) => [c.ref, c.force]).sort(), [
      ['Deployment/ops/imdb--gateway', true],
      ['Service/ops/imdb--cloud', false],
    ]);
    assert.equal(api.get('Deployment', NS, 'imdb--gateway')?.metadata?.labels?.['app.kubernetes.io/managed-by'], 'crime-operator');
  });

  test('an apply the API server refuses (422) reaches the status with its message, and an Event', async () => {
    api.refuse((c) => (c.verb === 'apply' && c.ref === 'Deployment/ops/imdb--cloud'
      ? apiError(422, 'Invalid', 'Deployment.apps "imdb--cloud" is invalid: spec.template.spec.containers[0].image: Required value')
      : undefined));
    const failure = await reconcile();
    assert.equal(failure?.failure.reason, 'ApplyFailed');
    assert.equal(ready()?.status, 'False');
    assert.equal(ready()?.reason, 'ApplyFailed');
    assert.equal(ready()?.message, 'apply Deployment ops/imdb--cloud: HTTP 422 Invalid: Deployment.apps "imdb--cloud" is invalid: spec.template.spec.containers[0].image: Required value');
    assert.equal(status().conditions.find((c) => c.type === 'Degraded')?.status, 'True');
    assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Warning', 'ApplyFailed']]);
    assert.ok(api.get('Deployment', NS, 'imdb--gateway'), 'the other children were written');
  });

  test('refused creates, lookups and deletes reach the status too (an admission webhook, RBAC)', async () => {
    api.refuse((c) => (c.verb === 'create' ? apiError(400, 'BadRequest', 'admission webhook "policy.example.com" denied the request: secrets need an owner label') : undefined));
    assert.match((await reconcile())?.failure.message ?? '', /create Secret ops\/imdb-token: HTTP 400 BadRequest: admission webhook "policy.example.com" denied the request/);

    const other = new FakeApi();
    other.refuse((c) => (c.verb === 'metadata' && c.ref.startsWith('NetworkPolicy') ? apiError(403, 'Forbidden', 'networkpolicies is forbidden: User "system:serviceaccount:ops:crime-operator" cannot list resource "networkpolicies"') : undefined));
    const withPolicies = new Reconciler({
      caches, writer: other, events: { record: async () => undefined }, logger: silentLogger,
      render: { ...DEFAULT_RENDER_OPTIONS, networkPolicy: { metricsNamespaces: [] } },
    });
    const lookup = await withPolicies.reconcile(`${NS}/imdb`).then(() => undefined, (err: unknown) => err as ReconcileFailure);
    assert.equal(lookup?.failure.reason, 'LookupFailed');
    assert.deepEqual(other.writes().map((c) => c.verb), ['applyStatus'], 'nothing written before every name is known');
    assert.match(JSON.stringify(other.statuses.get(`${NS}/imdb`)), /cannot list resource \\"networkpolicies\\"/);
  });

  test('a device that left the spec: its children deleted by uid, and only the ones the topology controls', async () => {
    await reconcile();
    // Somebody's object carrying our labels and a non-controller reference to us: not ours to delete.
    api.put({
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: 'imdb--extra', namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'crime-operator' }, ownerReferences: [{ apiVersion: 'crime.dev/v1alpha1', kind: 'RnnTopology', name: 'imdb', uid: 'uid-imdb' }] },
    });
    caches.topologies.put(topology('imdb', 'uid-imdb', [{ name: 'end-node', entry: true, offloadTo: ['gateway'] }, { name: 'gateway' }]));
    sync(api, caches);
    const cloud = { deployment: api.get('Deployment', NS, 'imdb--cloud')?.metadata?.uid, service: api.get('Service', NS, 'imdb--cloud')?.metadata?.uid };
    api.calls.length = 0;
    assert.equal(await reconcile(), undefined);
    assert.deepEqual(api.calls.filter((c) => c.verb === 'remove').map((c) => [c.ref, c.uid]).sort(), [
      ['Deployment/ops/imdb--cloud', cloud.deployment],
      ['Service/ops/imdb--cloud', cloud.service],
    ]);
    assert.equal(api.get('Deployment', NS, 'imdb--cloud'), undefined);
    assert.ok(api.get('Service', NS, 'imdb--extra'));
  });

  test('a status the API server refuses: an Event says so', async () => {
    api.refuse((c) => (c.verb === 'applyStatus' ? apiError(422, 'Invalid', 'status.conditions[0].reason: Invalid value') : undefined));
    await assert.rejects(reconciler.reconcile(`${NS}/imdb`), /Invalid value/);
    assert.deepEqual(events.map((e) => [e.reason, e.message]), [['StatusUpdateFailed', 'could not write the status: status.conditions[0].reason: Invalid value']]);
  });

  test('topologies a-b (device c) and a (device b-c) get children of their own', async () => {
    caches.topologies.put(topology('a-b', 'uid-ab', [{ name: 'c', entry: true }]));
    caches.topologies.put(topology('a', 'uid-a', [{ name: 'b-c', entry: true }]));
    assert.equal(await reconcile(`${NS}/a-b`), undefined);
    assert.equal(await reconcile(`${NS}/a`), undefined);
    assert.deepEqual(api.all().filter((o) => o.kind === 'Service').map((o) => [o.metadata?.name, o.metadata?.ownerReferences?.[0]?.name]).sort(), [
      ['a--b-c', 'a'],
      ['a-b--c', 'a-b'],
    ]);
    assert.equal(ready('a')?.reason, 'DevicesNotReady');
    assert.equal(ready('a-b')?.reason, 'DevicesNotReady');
  });
});
