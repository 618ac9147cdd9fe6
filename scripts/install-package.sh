#!/bin/sh
# Installs the crime npm package (a tarball from `npm pack`) into PREFIX the way the image does, so
# that the Dockerfile and test/package.test.ts exercise the same steps:
#
#   scripts/install-package.sh TARBALL LOCKFILE PREFIX [ARCH]
#
# - the package's files (dist, crds, charts, examples) unpacked into PREFIX;
# - its production dependencies at the versions of the repository's lockfile (`npm ci --omit=dev`),
#   with every install script skipped: onnxruntime-node's would download CUDA libraries, and the
#   CPU binaries it needs are in its npm package already;
# - with ONNXRUNTIME_NODE_INSTALL=cuda12 (the GPU image), onnxruntime-node's installer run on
#   purpose, which downloads its CUDA execution provider (linux/x64 only);
# - onnxruntime binaries of other platforms removed, keeping linux/ARCH (amd64 | arm64; default:
#   this machine's), so that the install can run on the build machine's platform for any target;
# - dependencies' source maps removed (about 200 MB);
# - PREFIX/bin/crime, a relative symlink to the CLI: put PREFIX/bin on PATH.
#
# Extra npm flags come from CRIME_NPM_FLAGS (the test passes --offline: everything is in npm's cache).
set -eu

if [ "$#" -lt 3 ]; then
  sed -n '5p' "$0" | sed 's/^# *//' >&2
  exit 2
fi
tarball="$1"
lockfile="$2"
prefix="$3"
arch="${4:-}"
if [ -z "$arch" ]; then
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "install-package: unknown machine $(uname -m); pass ARCH (amd64 | arm64)" >&2; exit 2 ;;
  esac
fi
case "$arch" in
  amd64) ort_arch=x64 ;;
  arm64) ort_arch=arm64 ;;
  *) echo "install-package: ARCH must be amd64 or arm64, not $arch" >&2; exit 2 ;;
esac

mkdir -p "$prefix"
# npm pack's tarballs hold everything under package/.
tar -xzf "$tarball" -C "$prefix" --strip-components=1 --no-same-owner
cp "$lockfile" "$prefix/package-lock.json"
cd "$prefix"
# shellcheck disable=SC2086 # CRIME_NPM_FLAGS is a list of flags
npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=warn ${CRIME_NPM_FLAGS:-}

ort=node_modules/onnxruntime-node
if [ "${ONNXRUNTIME_NODE_INSTALL:-skip}" != skip ]; then
  [ "$ort_arch" = x64 ] || { echo "install-package: onnxruntime's CUDA provider exists for linux/amd64 only" >&2; exit 2; }
  (cd "$ort" && node script/install.js)
fi
for dir in "$ort"/bin/napi-v*/*; do
  [ -d "$dir" ] || continue
  if [ "$(basename "$dir")" != linux ]; then rm -rf "$dir"; continue; fi
  for sub in "$dir"/*; do
    [ "$(basename "$sub")" = "$ort_arch" ] || rm -rf "$sub"
  done
done
[ -f "$ort/bin/napi-v6/linux/$ort_arch/onnxruntime_binding.node" ] || { echo "install-package: no onnxruntime binary for linux/$ort_arch" >&2; exit 1; }

# Source maps of dependencies serve debuggers, not the CLI: about 200 MB of the install (mostly tfjs).
find node_modules -type f -name '*.map' -delete

chmod 0755 dist/cli/main.js
mkdir -p bin
ln -sf ../dist/cli/main.js bin/crime
echo "installed $(node -p 'require("./package.json").name + "@" + require("./package.json").version') in $prefix for linux/$arch"
