/**
 * A device's Deployment: one pod per replica, each with a `runtime` container (the model, on a Unix
 * socket in an emptyDir it shares with the mapper only; no TCP port) and a `mapper` sidecar (the
 * only port the pod exposes), pinned by the device's placement, under the restricted Pod Security
 * profile. Pure.
 */
import type { V1Container, V1Deployment, V1PodSpec, V1Probe, V1SecurityContext, V1Toleration, V1Volume } from '@kubernetes/client-node';
import type { Topology, TopologyDevice } from '../../runtime/topology/topology.js';
import type { BackendName } from '../../runtime/backends/types.js';
import { servingArgs } from '../../runtime/serving-settings.js';
import { childNames, labelsFor, selectorFor } from './names.js';
import { POD, type RenderOptions } from './options.js';
import { ownerReference, type Owner } from './owner.js';

export const GPU_RESOURCE = 'nvidia.com/gpu';

const RESTRICTED: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

/** Where the runtime finds the model, and what fetches or mounts it. */
function modelOf(topology: Topology): { path: string; volume: V1Volume; init?: string[] } {
  const { source, format, sha256, uri } = topology.model;
  const file = format === 'tfjs' ? 'model.json' : 'model.onnx';
  if (source.kind === 'pvc') {
    return { path: `${POD.modelDir}/${source.path}`, volume: { name: 'model', persistentVolumeClaim: { claimName: source.claim, readOnly: true } } };
  }
  if (source.kind !== 'http') throw new RangeError('a local model path cannot be rendered into a pod'); // reconcile reports it first
  return {
    path: `${POD.modelDir}/${file}`,
    volume: { name: 'model', emptyDir: {} },
    init: ['model', 'fetch', '--uri', uri, '--out', `${POD.modelDir}/${file}`, '--format', format, ...(sha256 ? ['--sha256', sha256] : [])],
  };
}

function resources(device: TopologyDevice): V1Container['resources'] {
  const requests: Record<string, string> = { cpu: '100m', memory: '256Mi', ...device.resources.requests };
  const limits: Record<string, string> = { ...device.resources.limits };
  if (device.gpus > 0) limits[GPU_RESOURCE] = String(device.gpus);
  return Object.keys(limits).length > 0 ? { requests, limits } : { requests };
}

/**
 * The backend a device's runtime is started with. A device with GPUs gets the format's CUDA
 * backend by name, never `auto`: auto falls back to the CPU without an error, while a named backend
 * that cannot load stops the runtime, so the pod is not Ready and the status says why
 * (BackendUnavailable). An ONNX device without GPUs runs onnxruntime on the CPU (its pod has no GPU
 * to try). A backend the topology names is taken as it is; a tfjs device without GPUs keeps auto
 * (what is installed in the image decides).
 */
export function runtimeBackend(topology: Topology, device: TopologyDevice): BackendName {
  if (device.backend !== 'auto') return device.backend;
  const onnx = topology.model.format === 'onnx';
  if (device.gpus > 0) return onnx ? 'onnx-cuda' : 'tfjs-node-gpu';
  return onnx ? 'onnx-cpu' : 'auto';
}

const exec = (command: string[], probe: string[]): V1Probe => ({ exec: { command: [...command, 'probe', ...probe] }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 });

export function renderDeployment(topology: Topology, device: TopologyDevice, owner: Owner, options: RenderOptions): V1Deployment {
  const names = childNames(topology.name);
  const command = options.command ?? ['crime'];
  const image = device.gpus > 0 ? (options.images.gpu ?? options.images.default) : options.images.default;
  const model = modelOf(topology);
  const common = { image, imagePullPolicy: options.images.pullPolicy, command, securityContext: RESTRICTED };
  const tmp = { name: 'tmp', mountPath: '/tmp' };
  const runtime: V1Container = {
    name: 'runtime',
    ...common,
    args: [
      'runtime', '--model', model.path, '--format', topology.model.format, '--backend', runtimeBackend(topology, device),
      // Only a Unix socket, in a volume only the mapper shares: nothing else may reach the runtime,
      // and the mapper's calls skip the TCP stack. No TCP listener (not even on loopback).
      '--socket', POD.runtimeSocket, '--max-steps', String(topology.model.maxSteps),
      // The same values the device's mapper has in its configuration (its queue model).
      ...servingArgs(device.serving),
    ],
    resources: resources(device),
    // `crime runtime` writes why it could not start there (e.g. BACKEND_UNAVAILABLE: ...); failures.ts reads it.
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
    // The runtime is not on the pod IP, so the kubelet cannot reach it over HTTP: probe from inside.
    livenessProbe: exec(command, ['--socket', POD.runtimeSocket, '/healthz']),
    volumeMounts: [{ name: 'model', mountPath: POD.modelDir, readOnly: true }, { name: 'sock', mountPath: POD.sockDir }, tmp],
  };
  const mapper: V1Container = {
    name: 'mapper',
    ...common,
    args: ['mapper', '--config', `${POD.configDir}/${device.name}.yaml`],
    ports: [{ name: 'http', containerPort: POD.mapperPort, protocol: 'TCP' }],
    resources: { requests: { cpu: '50m', memory: '96Mi' }, limits: { memory: '512Mi' } },
    // Ready once its runtime answered and calibration ran; not ready while the runtime is down.
    readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    volumeMounts: [
      { name: 'config', mountPath: POD.configDir, readOnly: true },
      { name: 'token', mountPath: POD.tokenDir, readOnly: true },
      // Read-only is enough to connect to a socket, and keeps the mapper from replacing it.
      { name: 'sock', mountPath: POD.sockDir, readOnly: true },
      tmp,
    ],
  };
  const tolerations: V1Toleration[] = [...device.placement.tolerations];
  if (device.gpus > 0 && !tolerations.some((t) => t.key === GPU_RESOURCE)) tolerations.push({ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' });
  const spec: V1PodSpec = {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: { runAsNonRoot: true, runAsUser: POD.uid, runAsGroup: POD.uid, fsGroup: POD.uid, seccompProfile: { type: 'RuntimeDefault' } },
    ...(Object.keys(device.placement.nodeSelector).length > 0 ? { nodeSelector: device.placement.nodeSelector } : {}),
    ...(device.placement.affinity ? { affinity: device.placement.affinity as V1PodSpec['affinity'] } : {}),
    ...(tolerations.length > 0 ? { tolerations } : {}),
    ...(options.images.pullSecrets?.length ? { imagePullSecrets: options.images.pullSecrets.map((name) => ({ name })) } : {}),
    ...(model.init
      ? {
          initContainers: [{
            name: 'model',
            ...common,
            args: model.init,
            // `crime model fetch` writes its one-line reason there; the operator shows it in status.
            terminationMessagePolicy: 'FallbackToLogsOnError',
            resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
            volumeMounts: [{ name: 'model', mountPath: POD.modelDir }, tmp],
          }],
        }
      : {}),
    containers: [runtime, mapper],
    volumes: [
      model.volume,
      { name: 'config', configMap: { name: names.configMap } },
      { name: 'token', secret: { secretName: names.secret, defaultMode: 0o440, items: [{ key: POD.tokenKey, path: POD.tokenKey }] } },
      { name: 'tmp', emptyDir: {} },
      // Holds the runtime's socket and nothing else.
      { name: 'sock', emptyDir: {} },
    ],
  };
  const selector = selectorFor(topology.name, device.name);
  const labels = labelsFor(topology.name, device.name);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: names.deployment(device.name), namespace: owner.namespace, labels, ownerReferences: [ownerReference(owner)] },
    spec: {
      replicas: device.replicas,
      selector: { matchLabels: selector },
      // A GPU is usually taken in full: a surge pod would wait for one forever. Replace in place there.
      strategy: { type: 'RollingUpdate', rollingUpdate: device.gpus > 0 ? { maxSurge: 0, maxUnavailable: 1 } : { maxSurge: 1, maxUnavailable: 0 } },
      template: { metadata: { labels }, spec },
    },
  };
}
