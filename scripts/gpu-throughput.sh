#!/usr/bin/env bash
# The throughput comparison of `crime bench throughput` on a machine with an NVIDIA GPU: the same
# two runtimes (batch 1 vs the GPU's serving defaults: up to 64 a run, 2 runs at once) on
# onnxruntime's CUDA provider, the same open-loop load, the same JSON and SVG. Target (issue 18):
# batched / baseline >= 20 at the same p99 budget.
#
#   scripts/gpu-throughput.sh [--image IMAGE] [--out DIR] [--dry-run] [-- BENCH-ARGS...]
#
#   --image IMAGE  run it in the CUDA image (docker run --gpus all IMAGE bench throughput ...), e.g.
#                  ghcr.io/crime-k8s/crime:0.1.0-cuda (the Dockerfile's `gpu` target). Without it,
#                  this checkout runs it: onnxruntime-node then needs its CUDA provider, installed by
#                  `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install`
#                  (CUDA 12 and cuDNN 9 libraries on the machine).
#   --out DIR      where throughput-gpu.json and throughput-gpu.svg go (default ./gpu-throughput)
#   --dry-run      no GPU needed: checks what can be checked (the CLI, the checkout's build), prints
#                  the commands, then runs the same comparison on the CPU with a tiny model and
#                  short windows, so the whole pipeline (runtimes, load, JSON, SVG, the ratio
#                  check) is exercised; its numbers mean nothing
#   BENCH-ARGS     passed on to crime bench throughput (e.g. --length 400 --budget-ms 50)
#
# Exit: 0 when the ratio is at least the target, 1 when it is not (or the run failed), 2 for bad
# usage or a missing GPU.
set -euo pipefail

target=20
image=""
out="./gpu-throughput"
dry=0
bench=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --image) image="${2:?--image needs a value}"; shift 2 ;;
    --out) out="${2:?--out needs a value}"; shift 2 ;;
    --dry-run) dry=1; shift ;;
    --) shift; bench=("$@"); break ;;
    -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-throughput: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
args=(bench throughput --preset cove2x300 --length 100 --backend onnx-cuda --json --plot)

if [ -n "$image" ]; then
  # As the invoking user, so the files it writes to --out are theirs (the image's HOME is /tmp).
  cmd=(docker run --rm --gpus all --user "$(id -u):$(id -g)" -v "$out:/out" "$image" "${args[@]}" /out/throughput-gpu.svg "${bench[@]}")
else
  cmd=(node "$root/dist/cli/main.js" "${args[@]}" "$out/throughput-gpu.svg" "${bench[@]}")
fi

# The ratio from the JSON, against the target; node is in the image and in any checkout.
check() {
  local json="$1" node_cmd=(node)
  if ! command -v node >/dev/null 2>&1 && [ -n "$image" ]; then node_cmd=(docker run --rm -i --entrypoint node "$image"); fi
  "${node_cmd[@]}" -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const target = Number(process.argv[1]);
    console.log(`budget ${r.budgetMs} ms; baseline ${r.baseline.rpsAtBudget} req/s, batched ${r.batched.censored ? ">= " : ""}${r.batched.rpsAtBudget} req/s: ratio ${r.ratio}x (target ${target}x); load ${r.load.before} -> ${r.load.after} on ${r.load.cores} cores`);
    process.exit(r.ratio >= target ? 0 : 1);
  ' "$target" < "$json"
}

if [ "$dry" = 1 ]; then
  echo "dry run: would run"
  printf ' '; printf ' %q' "${cmd[@]}"; echo
  echo "  > $out/throughput-gpu.json, then check the ratio >= ${target}x"
  if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L || true; else echo "no nvidia-smi here: no GPU to run it on"; fi
  [ -f "$root/dist/cli/main.js" ] || { echo "gpu-throughput: build the checkout first (npm run build)" >&2; exit 2; }
  node "$root/dist/cli/main.js" bench throughput --help >/dev/null
  echo "the same pipeline on the CPU, tiny model, short windows (numbers mean nothing):"
  node "$root/dist/cli/main.js" bench throughput --preset tiny2x24 --length 20 --backend onnx-cpu --max-batch 64 --concurrency 2 \
    --rates 50,100 --window-ms 400 --budget-ms 5000 --json --plot "$out/throughput-dry-run.svg" > "$out/throughput-dry-run.json"
  echo "  wrote $out/throughput-dry-run.json and .svg"
  check "$out/throughput-dry-run.json" && true
  echo "dry run done (the ratio check above ran on numbers that mean nothing: its verdict does not count)"
  exit 0
fi

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-throughput: no NVIDIA GPU here (nvidia-smi missing or failing); --dry-run checks the rest" >&2
  exit 2
fi
nvidia-smi -L
if [ -z "$image" ] && [ ! -f "$root/dist/cli/main.js" ]; then echo "gpu-throughput: build the checkout first (npm run build)" >&2; exit 2; fi
echo "uptime: $(uptime)"
printf 'running:'; printf ' %q' "${cmd[@]}"; echo
"${cmd[@]}" > "$out/throughput-gpu.json"
echo "wrote $out/throughput-gpu.json and $out/throughput-gpu.svg"
check "$out/throughput-gpu.json"
