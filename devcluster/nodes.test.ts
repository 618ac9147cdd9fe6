/** The fake node builders (pure): labels, capacity and the kwok annotation. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KWOK_NODE_ANNOTATION } from './components.js';
import { GPU_RESOURCE, TIER_LABEL, edgeNode, fakeNodeObject, gatewayNode, gpuNode } from './nodes.js';

describe('fake node builders', () => {
  it('an edge node is arm64, tier edge, managed by kwok, without GPUs', () => {
    const node = fakeNodeObject(edgeNode('edge-0'));
    assert.equal(node.metadata?.labels?.['kubernetes.io/arch'], 'arm64');
    assert.equal(node.metadata?.labels?.[TIER_LABEL], 'edge');
    assert.equal(node.metadata?.labels?.['kubernetes.io/hostname'], 'edge-0');
    assert.equal(node.metadata?.annotations?.[KWOK_NODE_ANNOTATION], 'fake');
    assert.equal(node.status?.capacity?.[GPU_RESOURCE], undefined);
    assert.equal(node.status?.nodeInfo?.architecture, 'arm64');
  });

  it('a GPU node is amd64, tier cloud, with nvidia.com/gpu capacity and allocatable', () => {
    const node = fakeNodeObject(gpuNode('cloud-0', 4));
    assert.equal(node.metadata?.labels?.['kubernetes.io/arch'], 'amd64');
    assert.equal(node.metadata?.labels?.[TIER_LABEL], 'cloud');
    assert.equal(node.status?.capacity?.[GPU_RESOURCE], '4');
    assert.equal(node.status?.allocatable?.[GPU_RESOURCE], '4');
  });

  it('extra labels and overrides apply', () => {
    const node = fakeNodeObject(gatewayNode('gw-0', { arch: 'arm64', labels: { zone: 'a' }, cpu: '2' }));
    assert.equal(node.metadata?.labels?.['kubernetes.io/arch'], 'arm64');
    assert.equal(node.metadata?.labels?.[TIER_LABEL], 'gateway');
    assert.equal(node.metadata?.labels?.['zone'], 'a');
    assert.equal(node.status?.capacity?.['cpu'], '2');
  });
});
