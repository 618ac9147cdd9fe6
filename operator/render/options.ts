/** What the operator's installation decides about every pod it renders (the chart's values). */
export interface RenderOptions {
  images: {
    /** runs the runtime and the mapper (one image holds the `crime` CLI) */
    default: string;
    /** for devices with `gpus > 0` (onnxruntime with the CUDA provider); default: `default` */
    gpu?: string;
    pullPolicy: 'Always' | 'IfNotPresent' | 'Never';
    /** Secrets (in each topology's namespace) the kubelet pulls the images with: a private registry */
    pullSecrets?: readonly string[];
  };
  /** how the image runs the CLI (default ["crime"]) */
  command?: string[];
  /** render per-topology NetworkPolicies (off when undefined) */
  networkPolicy?: { metricsNamespaces: string[] };
}

export const DEFAULT_RENDER_OPTIONS: RenderOptions = {
  images: { default: 'ghcr.io/crime-k8s/crime:0.1.0', pullPolicy: 'IfNotPresent' },
};

/** Ports and paths inside a device's pod. */
export const POD = {
  mapperPort: 8080,
  // Every mount under /var/run (a tmpfs on most hosts), which also keeps the pod runner's bind-mount
  // targets out of the host's /etc.
  modelDir: '/var/run/crime/model',
  /** an emptyDir only the runtime and the mapper mount: the runtime's Unix socket, its only listener */
  sockDir: '/var/run/crime/sock',
  runtimeSocket: '/var/run/crime/sock/runtime.sock',
  configDir: '/var/run/crime/config',
  tokenDir: '/var/run/secrets/crime',
  tokenKey: 'token',
  uid: 65532,
} as const;
