import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { computeStatus, type StatusInput } from './status.js';

const devices: StatusInput['devices'] = [
  { name: 'edge', replicas: 1, entry: true, endpoint: 'http://t-edge.ns.svc:8080' },
  { name: 'cloud', replicas: 1, entry: false, endpoint: 'http://t-cloud.ns.svc:8080' },
];
const deployment = (ready: number): V1Deployment => ({ metadata: { generation: 1 }, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: ready } });
const now = new Date('2026-11-27T10:00:00Z');
const readyPod = (node: string): V1Pod => ({ spec: { nodeName: node, containers: [] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
const bothReady = (): Map<string, V1Pod[]> => new Map([['edge', [readyPod('edge-0')]], ['cloud', [readyPod('gpu-0')]]]);

test('all devices ready: Ready True, not progressing, not degraded, entry endpoint and node list', () => {
  const s = computeStatus({ generation: 3, devices, deployments: new Map([['edge', deployment(1)], ['cloud', deployment(1)]]), pods: bothReady(), now });
  assert.deepEqual(s.conditions.map((c) => [c.type, c.status, c.reason]), [['Ready', 'True', 'AllDevicesReady'], ['Progressing', 'False', 'Stable'], ['Degraded', 'False', 'NoFailures']]);
  assert.equal(s.devicesReady, '2/2');
  assert.equal(s.entryEndpoint, 'http://t-edge.ns.svc:8080');
  assert.deepEqual(s.devices[0]?.nodes, ['edge-0']);
  assert.ok(s.conditions.every((c) => c.observedGeneration === 3));
});

test('failures say what users need: the scheduler message, the model fetch reason, a crash loop', () => {
  const unschedulable: V1Pod = { status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 1 Insufficient nvidia.com/gpu.' }] } };
  const fetchFailed: V1Pod = { status: { initContainerStatuses: [{ name: 'model', image: 'i', imageID: '', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, message: 'sha256 mismatch for http://m/x.onnx: expected 00, got 11' } } }] } };
  const s = computeStatus({ generation: 1, devices, deployments: new Map([['edge', deployment(0)], ['cloud', deployment(0)]]), pods: new Map([['edge', [fetchFailed]], ['cloud', [unschedulable]]]), now });
  assert.deepEqual(s.devices.map((d) => d.lastFailure?.reason), ['ModelFetchFailed', 'Unschedulable']);
  assert.match(s.devices[0]?.lastFailure?.message ?? '', /sha256 mismatch/);
  assert.equal(s.conditions.find((c) => c.type === 'Degraded')?.status, 'True');
  assert.equal(s.conditions.find((c) => c.type === 'Ready')?.reason, 'ModelFetchFailed');
  const crash: V1Pod = { status: { containerStatuses: [{ name: 'runtime', image: 'i', imageID: '', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } }, lastState: { terminated: { exitCode: 1, message: 'MODEL_LOAD_FAILED' } } }] } };
  const c = computeStatus({ generation: 1, devices, deployments: new Map(), pods: new Map([['cloud', [crash]]]), now });
  assert.equal(c.devices[1]?.lastFailure?.reason, 'CrashLoopBackOff');
  assert.match(c.devices[1]?.lastFailure?.message ?? '', /container runtime: back-off 5m0s \(last exit 1: MODEL_LOAD_FAILED\)/);
});

test('a condition keeps its transition time while its status holds; a spec problem explains itself', () => {
  const previous = { conditions: [{ type: 'Ready' as const, status: 'True' as const, lastTransitionTime: '2026-11-01T00:00:00.000Z' }] };
  const s = computeStatus({ generation: 1, devices, deployments: new Map([['edge', deployment(1)], ['cloud', deployment(1)]]), pods: bothReady(), previous, now });
  assert.equal(s.conditions[0]?.lastTransitionTime, '2026-11-01T00:00:00.000Z');
  const bad = computeStatus({ generation: 2, devices: [], specProblem: { reason: 'OffloadCycle', message: 'a -> b -> a' }, deployments: new Map(), pods: new Map(), previous, now });
  assert.deepEqual(bad.conditions[0], { type: 'Ready', status: 'False', reason: 'OffloadCycle', message: 'a -> b -> a', lastTransitionTime: now.toISOString(), observedGeneration: 2 });
  assert.equal(bad.devicesReady, '0/0');
});

test('ready replicas are the ready pods: counted before the Deployment says so, not counting pods on their way out', () => {
  // The controller-manager has not caught up: the Deployment still says 0 ready.
  const early = computeStatus({ generation: 1, devices, deployments: new Map([['edge', deployment(0)], ['cloud', deployment(0)]]), pods: bothReady(), now });
  assert.equal(early.devicesReady, '2/2');
  assert.equal(early.conditions[0]?.status, 'True');
  const leaving: V1Pod = { ...readyPod('gpu-0'), metadata: { deletionTimestamp: new Date(now.getTime() - 1000) } };
  const late = computeStatus({ generation: 1, devices, deployments: new Map([['edge', deployment(1)], ['cloud', deployment(1)]]), pods: new Map([['edge', [readyPod('edge-0')]], ['cloud', [leaving]]]), now });
  assert.equal(late.devicesReady, '1/2');
  assert.equal(late.devices[1]?.readyReplicas, 0);
});

test('a GPU device whose CUDA provider cannot load: the status names BackendUnavailable and why; every device shows its backend', () => {
  const rendered = devices.map((d) => ({ ...d, backend: d.name === 'cloud' ? 'onnx-cuda' : 'onnx-cpu' }));
  const message = 'BACKEND_UNAVAILABLE: onnxruntime (cuda) cannot load the model: libcudart.so.12: cannot open shared object file';
  const noCuda: V1Pod = { status: { containerStatuses: [{ name: 'runtime', image: 'i', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } }, lastState: { terminated: { exitCode: 1, message } } }] } };
  const s = computeStatus({ generation: 1, devices: rendered, deployments: new Map([['edge', deployment(1)], ['cloud', deployment(0)]]), pods: new Map([['edge', [readyPod('edge-0')]], ['cloud', [noCuda]]]), now });
  assert.deepEqual(s.devices.map((d) => d.backend), ['onnx-cpu', 'onnx-cuda']);
  assert.deepEqual(s.devices[1]?.lastFailure, { reason: 'BackendUnavailable', message: `container runtime: ${message}` });
  assert.deepEqual(s.conditions.find((c) => c.type === 'Ready')?.reason, 'BackendUnavailable');
  assert.match(s.conditions.find((c) => c.type === 'Ready')?.message ?? '', /cloud \(0\/1 ready: BackendUnavailable: container runtime: BACKEND_UNAVAILABLE: onnxruntime \(cuda\) cannot load the model/);
  // Its first crash, before any back-off: named already.
  const first: V1Pod = { status: { containerStatuses: [{ name: 'runtime', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, message } } }] } };
  assert.equal(computeStatus({ generation: 1, devices, deployments: new Map(), pods: new Map([['cloud', [first]]]), now }).devices[1]?.lastFailure?.reason, 'BackendUnavailable');
});
