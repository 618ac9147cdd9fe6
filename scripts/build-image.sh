#!/usr/bin/env bash
# Builds the repository's Dockerfile with buildah, no Docker daemon needed, and optionally unpacks
# the image for the pod runner (`crime cluster up --run-pods --image-root DIR`):
#
#   scripts/build-image.sh [--target cpu|gpu] [--tag T] [--bundle [DIR]] [--quiet]
#
#   --target   the Dockerfile stage (default cpu)
#   --tag      the image's name (default localhost/crime:dev)
#   --bundle   also unpack the image into DIR (default ~/.cache/crime-k8s/images/<tag>@<image ID>): DIR/rootfs
#              and DIR/config.json (the image's OCI configuration); redone only when the image changed
#   --quiet    only errors, and the last line
#
# The last line printed is the image ID, or with --bundle the bundle's folder; everything else goes
# to stderr. The Dockerfile is used as it is, as `docker build` would: the only thing chosen here is
# its NODE_IMAGE build argument. When that base (node:20-bookworm-slim) cannot be pulled (no
# registry reachable), an equivalent is made locally and built against: Debian's minimal root
# filesystem (mmdebstrap, Debian's own archive) with Node.js and npm from the npm registry's
# packages (node-linux-<arch>, npm), checked against the hashes pinned below, cached in
# ~/.cache/crime-k8s (a tarball) and in buildah's storage (an image).
#
# Storage: ~/.cache/crime-k8s/containers/<driver>, nothing shared with a user's own podman or
# buildah; the overlay driver when this kernel mounts overlayfs there (about 3x faster: vfs copies
# the whole tree for every step), else vfs; CRIME_IMAGE_STORAGE=vfs|overlay decides. Steps run with
# `--isolation chroot` (no container runtime, no cgroups). As root on Debian or Ubuntu, missing tools (buildah, mmdebstrap) are
# installed with apt-get. The GPU target needs its CUDA base image from a registry: it cannot be
# made here, and the script says so.
set -euo pipefail

cd "$(dirname "$0")/.."

# The local base: bump BASE_RECIPE when the recipe below changes, so an old cached base is not reused.
BASE_RECIPE="b1"
NODE_VERSION="20.20.2"   # the newest Node.js 20 when pinned; node:20-bookworm-slim carries the same line
NPM_VERSION="10.8.2"     # the npm Node.js 20.20 ships with
declare -A NODE_INTEGRITY=(
  [amd64]="sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ=="
  [arm64]="sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg=="
)
NPM_INTEGRITY="sha512-x/AIjFIKRllrhcb48dqUNAAZl0ig9+qMuN91RpZo3Cb2+zuibfh+KISl6+kVVyktDz230JKc208UkQwwMqyB+w=="

target=cpu
tag=localhost/crime:dev
bundle=""
want_bundle=0
quiet=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --target) target="${2:?--target needs cpu or gpu}"; shift 2 ;;
    --tag) tag="${2:?--tag needs a name}"; shift 2 ;;
    --bundle)
      want_bundle=1
      if [ "$#" -gt 1 ] && [ "${2#--}" = "$2" ]; then bundle="$2"; shift 2; else shift; fi ;;
    --quiet) quiet=1; shift ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) echo "build-image: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
case "$target" in cpu|gpu) ;; *) echo "build-image: --target must be cpu or gpu, not $target" >&2; exit 2 ;; esac

log() { [ "$quiet" = 1 ] || echo "build-image: $*" >&2; }
die() { echo "build-image: error: $*" >&2; exit 1; }
now() { date +%s; }
started=$(now)

CACHE="${CRIME_K8S_CACHE:-$HOME/.cache/crime-k8s}"
mkdir -p "$CACHE/containers"

# overlay when a probe mount works where the store lives (not on overlayfs, for example), else vfs.
driver="${CRIME_IMAGE_STORAGE:-}"
if [ -z "$driver" ]; then
  driver=vfs
  probe=$(mktemp -d "$CACHE/containers/.probe.XXXXXX")
  mkdir -p "$probe/l" "$probe/u" "$probe/w" "$probe/m"
  if mount -t overlay overlay -o "lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w" "$probe/m" 2>/dev/null; then
    umount "$probe/m"
    driver=overlay
  fi
  rm -rf "$probe"
fi
case "$driver" in vfs|overlay) ;; *) echo "build-image: CRIME_IMAGE_STORAGE must be vfs or overlay, not $driver" >&2; exit 2 ;; esac
STORE="$CACHE/containers/$driver"
# The store's run-time state (locks, mount counts) beside no other store's: one per store folder.
RUNROOT="/run/crime-k8s-containers/$(printf '%s' "$STORE" | sha256sum | cut -c1-12)"
mkdir -p "$STORE"

case "$(uname -m)" in
  x86_64 | amd64) arch=amd64; node_arch=x64 ;;
  aarch64 | arm64) arch=arm64; node_arch=arm64 ;;
  *) die "unsupported machine $(uname -m)" ;;
esac

# Tools missing here are installed with apt-get (as root on Debian or Ubuntu), as devcluster/setup
# builds what it lacks; scripts/need-tools says what to install otherwise.
need() { CRIME_K8S_CACHE="$CACHE" scripts/need-tools "$@" || die "cannot go on without $*"; }
need buildah
# The pod runner's crime-enter (devcluster/pods/enter.c) is compiled on first use: with a bundle,
# whoever runs pods from it needs a C compiler.
[ "$want_bundle" = 0 ] || need cc:gcc,libc6-dev

bah() { buildah --root "$STORE" --runroot "$RUNROOT" --storage-driver "$driver" "$@"; }
has_image() { bah inspect --type image "$1" >/dev/null 2>&1; }

# One build at a time in this store (the tests and a developer may start one together).
exec 9>"$CACHE/.build-image.lock"
flock 9

# The Dockerfile's own default base, so that it stays the one place that names it.
node_image=$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile | head -n1)
[ -n "$node_image" ] || die "the Dockerfile has no 'ARG NODE_IMAGE=' line"

# The local stand-in for node:<major>-<suite>-slim.
make_base() {
  local major suite name tarball work
  if [[ "$node_image" =~ ^(docker\.io/(library/)?)?node:([0-9]+)-([a-z]+)-slim$ ]]; then
    major="${BASH_REMATCH[3]}"
    suite="${BASH_REMATCH[4]}"
  else
    die "cannot pull $node_image, and can only make node:<major>-<suite>-slim locally"
  fi
  [ "$major" = "${NODE_VERSION%%.*}" ] || die "cannot pull $node_image; the local base pins Node.js $NODE_VERSION, not $major (update NODE_VERSION)"
  name="localhost/crime-node-base:$NODE_VERSION-$suite-$arch-$BASE_RECIPE"
  if has_image "$name"; then
    base="$name"
    return
  fi
  tarball="$CACHE/node-base/$NODE_VERSION-$suite-$arch-$BASE_RECIPE.tar"
  if [ ! -s "$tarball" ]; then
    need mmdebstrap
    log "making $name: Debian $suite (mmdebstrap) with Node.js $NODE_VERSION and npm $NPM_VERSION from the npm registry"
    work=$(mktemp -d "${TMPDIR:-/tmp}/crime-node-base.XXXXXX")
    # shellcheck disable=SC2064 # expand now: the folder of this call
    trap "rm -rf '$work'" EXIT
    (
      cd "$work"
      npm pack --silent "node-linux-$node_arch@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null
      check() {
        local got
        got=$(node -e 'process.stdout.write("sha512-" + require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$1")
        [ "$got" = "$2" ] || die "$1: integrity $got, expected $2"
      }
      check "node-linux-$node_arch-$NODE_VERSION.tgz" "${NODE_INTEGRITY[$arch]}"
      check "npm-$NPM_VERSION.tgz" "$NPM_INTEGRITY"
    )
    # As Debian's -slim images: no documentation, manual pages or translations; merged /usr without
    # the usrmerge package (which would pull in perl).
    mmdebstrap --quiet --variant=minbase --mode=root --format=directory \
      --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      "$suite" "$work/root" >&2
    # Where the official node images put them: /usr/local/bin/node, npm and npx beside it.
    tar -xzf "$work/node-linux-$node_arch-$NODE_VERSION.tgz" -C "$work/root/usr/local" --strip-components=1 --no-same-owner package/bin package/include package/share
    mkdir -p "$work/root/usr/local/lib/node_modules/npm"
    tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/root/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/root/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/root/usr/local/bin/npx"
    chroot "$work/root" node --version >/dev/null || die "the local base's node does not run"
    mkdir -p "$(dirname "$tarball")"
    tar -C "$work/root" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$work"
    trap - EXIT
  fi
  log "importing $name from $tarball"
  local ctr
  ctr=$(bah from --quiet scratch)
  bah add --quiet "$ctr" "$tarball" / >/dev/null
  bah config --os linux --arch "$arch" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$NODE_VERSION" --cmd node \
    --label "org.opencontainers.image.description=stand-in for $node_image: Debian $suite minbase, Node.js $NODE_VERSION, npm $NPM_VERSION" \
    "$ctr"
  bah commit --quiet --rm "$ctr" "$name" >/dev/null
  base="$name"
}

# 1. The base: the Dockerfile's own when it can be had, else the local stand-in.
base="$node_image"
if ! has_image "$node_image"; then
  if bah pull --quiet "$node_image" >/dev/null 2>"$CACHE/.pull.err"; then
    log "pulled $node_image"
  else
    log "cannot pull $node_image ($(tail -n1 "$CACHE/.pull.err" | cut -c1-160)); using a local stand-in"
    make_base
  fi
fi
base_done=$(now)

# 2. The image, from the Dockerfile unchanged. --layers keeps every step's result, so a build whose
# inputs did not change takes each step from the cache.
args=()
if [ "$target" = gpu ]; then
  cuda_image=$(sed -n 's/^ARG CUDA_IMAGE=//p' Dockerfile | head -n1)
  if ! has_image "$cuda_image" && ! bah pull --quiet "$cuda_image" >/dev/null 2>"$CACHE/.pull.err"; then
    die "the GPU target is built on $cuda_image, which cannot be pulled here ($(tail -n1 "$CACHE/.pull.err" | cut -c1-160)); build it where a registry is reachable (docs/kind.md)"
  fi
fi
[ "$base" = "$node_image" ] || args+=(--build-arg "NODE_IMAGE=$base")
log "building $tag (target $target, $driver storage${args:+, ${args[*]}})"
# The builder's trust for the npm registry (a TLS-inspecting proxy's CA in NODE_EXTRA_CA_CERTS, or
# npm's cafile) is lent to the RUN steps as read-only volumes, never written into a layer: what
# `docker build --secret` is for. A machine that needs none lends none.
ca="${NODE_EXTRA_CA_CERTS:-}"
[ -n "$ca" ] || ca=$(npm config get cafile 2>/dev/null || true)
if [ -n "$ca" ] && [ "$ca" != null ] && [ "$ca" != undefined ] && [ -s "$ca" ]; then
  trust="$CACHE/build-trust"
  mkdir -p "$trust"
  cp "$ca" "$trust/ca.pem"
  echo "cafile=/run/crime-build-trust/ca.pem" > "$trust/npmrc"
  args+=(--volume "$trust:/run/crime-build-trust:ro" --volume "$trust/npmrc:/usr/local/etc/npmrc:ro")
  log "lending the RUN steps the npm registry's CA from $ca"
fi

# What BuildKit gives every build (buildah 1.28 leaves them unset); one platform, this machine's.
args+=(--build-arg "BUILDPLATFORM=linux/$arch" --build-arg "TARGETPLATFORM=linux/$arch" --build-arg "TARGETARCH=$arch")
steps="$CACHE/.build-image.log"
if [ "$quiet" = 1 ]; then
  bah build --layers --isolation chroot --pull=false --target "$target" "${args[@]}" -t "$tag" -f Dockerfile . >"$steps"
else
  bah build --layers --isolation chroot --pull=false --target "$target" "${args[@]}" -t "$tag" -f Dockerfile . | tee "$steps" >&2
fi
# buildah 1.28 leaves a working container behind for a final stage without steps; nothing else
# uses this store (builds take turns), so none is needed.
bah rm --all >/dev/null
# Every source change leaves a few hundred MB of step results nobody will use again: keep this
# build's (the next build starts from them), remove the other untagged ones.
# (buildah prints a step's result as 11 hex digits, or in full when it comes from the cache.)
keep=" $(sed -n 's/^--> \(Using cache \)\{0,1\}\([0-9a-f]\{11,\}\).*/\2/p' "$steps" | cut -c1-11 | tr '\n' ' ') "
for id in $(bah images --all --filter dangling=true --format '{{.ID}}'); do
  case "$keep" in *" ${id:0:11} "*) ;; *) bah rmi "$id" >/dev/null 2>&1 || true ;; esac
done
image_id=$(bah inspect --type image --format '{{.FromImageID}}' "$tag")
built=$(now)
log "built $tag ${image_id:0:12} in $((built - base_done)) s (base $((base_done - started)) s)"

if [ "$want_bundle" = 0 ]; then
  echo "$image_id"
  exit 0
fi

# 3. The bundle: the image's root filesystem and configuration, for the pod runner. By default one
# folder per image (its ID in the name): test runs from other checkouts on this machine build other
# images, and a run's pods keep the root they started with while another run unpacks its own.
# This tag's other bundles go once nobody has been handed them for 6 hours.
if [ -z "$bundle" ]; then
  named="$CACHE/images/$(echo "$tag" | tr '/:' '__')"
  bundle="$named@${image_id:0:12}"
  for old in "$named" "$named"@*; do
    if [ "$old" != "$bundle" ] && [ -d "$old" ] && [ -n "$(find "$old" -maxdepth 0 -mmin +360)" ]; then rm -rf "$old"; fi
  done
fi
if [ "$(cat "$bundle/image-id" 2>/dev/null)" != "$image_id" ]; then
  log "unpacking $tag into $bundle"
  rm -rf "$bundle.tmp"
  mkdir -p "$bundle.tmp"
  ctr=$(bah from --quiet --pull-never "$tag")
  mnt=$(bah mount "$ctr")
  mkdir -p "$bundle.tmp/rootfs"
  cp -a "$mnt/." "$bundle.tmp/rootfs/"
  bah umount "$ctr" >/dev/null
  bah rm "$ctr" >/dev/null
  bah inspect --type image "$tag" | node -e 'let t = ""; process.stdin.on("data", (d) => (t += d)).on("end", () => process.stdout.write(JSON.stringify(JSON.parse(t).OCIv1, null, 2) + "\n"))' > "$bundle.tmp/config.json"
  echo "$tag" > "$bundle.tmp/name"
  echo "$image_id" > "$bundle.tmp/image-id"
  rm -rf "$bundle"
  mv "$bundle.tmp" "$bundle"
fi
touch "$bundle"   # handed out now: see the clean-up above
log "bundle $bundle ($(du -sm "$bundle/rootfs" | cut -f1) MB) after $(($(now) - started)) s"
echo "$bundle"
