#!/bin/sh
# Gives the GPU nodes of a kind cluster (crime.dev/tier=cloud) fake nvidia.com/gpu capacity, so the
# scheduler places GPU devices there as on a real GPU node; nothing in them gets a GPU (the runtime
# falls back to the CPU). Uses kubectl's current context (or KUBECONFIG).
#
#   scripts/kind-fake-gpu.sh [COUNT] [NODE...]     COUNT defaults to 2, NODE to every cloud node
#
# An extended resource is advertised by patching the node's status, capacity and allocatable (what
# a device plugin would report); the kubelet keeps resources it does not manage. A kubelet restart
# (e.g. `docker restart` of the node) resets them: run this again.
set -eu

count="${1:-2}"
[ "$#" -gt 0 ] && shift
case "$count" in
  '' | *[!0-9]*) echo "kind-fake-gpu: COUNT must be a whole number, not $count" >&2; exit 2 ;;
esac
if [ "$#" -gt 0 ]; then
  nodes="$*"
else
  nodes="$(kubectl get nodes -l crime.dev/tier=cloud -o jsonpath='{.items[*].metadata.name}')"
fi
[ -n "$nodes" ] || { echo "kind-fake-gpu: no node labelled crime.dev/tier=cloud (create the cluster with kind-config.yaml)" >&2; exit 1; }

for node in $nodes; do
  # "~1" is "/" in a JSON pointer: the resource name nvidia.com/gpu.
  kubectl patch node "$node" --subresource=status --type=json -p "[
    {\"op\": \"add\", \"path\": \"/status/capacity/nvidia.com~1gpu\", \"value\": \"$count\"},
    {\"op\": \"add\", \"path\": \"/status/allocatable/nvidia.com~1gpu\", \"value\": \"$count\"}
  ]" >/dev/null
  echo "$node: nvidia.com/gpu $(kubectl get node "$node" -o jsonpath='{.status.allocatable.nvidia\.com/gpu}')"
done
