# syntax=docker/dockerfile:1.7
# One image holds the whole `crime` CLI: the operator, and the runtime, mapper and model fetch that
# run in the pods it renders (`command: ["crime"]`). Non-root (UID 65532, as those pods run), fine
# with a read-only root filesystem (HOME is /tmp, where the pods mount an emptyDir).
#
#   CPU image, linux/amd64 and linux/arm64 (ARM edge nodes):
#     docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/crime-k8s/crime:0.1.0 --push .
#   GPU image, onnxruntime's CUDA execution provider (linux/amd64 only: it exists for no other):
#     docker buildx build --platform linux/amd64 --target gpu -t ghcr.io/crime-k8s/crime:0.1.0-cuda --push .
#   For kind, one platform into the local engine: docker build -t crime:dev .
#
# Every stage that runs commands runs on the builder's own platform (TypeScript output and the npm
# install are the same for every target; only onnxruntime's native binaries differ, and the install
# keeps the target's), so a multi-arch build needs no emulation. docs/kind.md has the whole recipe.

ARG NODE_IMAGE=node:20-bookworm-slim
# CUDA 12 with cuDNN 9, what onnxruntime-node 1.2x/1.30's CUDA provider is built against.
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

# --- 1. Compile and pack, as `npm publish` would.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: nothing to build yet, and onnxruntime-node's installer would download CUDA.
# npm 10 can exit 0 when its registry requests failed ("Exit handler never called"): check that the
# compiler is there, so that a broken install fails here instead of being cached as a good step.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund && test -x node_modules/.bin/tsc
# Everything but what .dockerignore leaves out (node_modules, dist, .git).
COPY . .
RUN npm run build && mkdir /pkg && npm pack --ignore-scripts --pack-destination /pkg

# --- 2. Install the package for the target platform, dependencies pinned by the lockfile.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS install
ARG TARGETARCH
COPY --from=build /pkg/ /pkg/
COPY package-lock.json /pkg/
COPY scripts/install-package.sh /usr/local/bin/install-package
RUN --mount=type=cache,target=/root/.npm install-package /pkg/crime-k8s-*.tgz /pkg/package-lock.json /opt/crime "$TARGETARCH"

# --- 3a. The CPU image (the default target is the last stage; see `cpu` at the end).
FROM ${NODE_IMAGE} AS cpu-base
COPY --from=install /opt/crime /opt/crime
ENV PATH=/opt/crime/bin:$PATH \
    NODE_ENV=production \
    HOME=/tmp
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["crime"]
CMD ["--help"]

# --- 3b. The GPU image: the same package with onnxruntime's CUDA provider, on CUDA and cuDNN.
FROM --platform=linux/amd64 ${NODE_IMAGE} AS install-gpu
COPY --from=build /pkg/ /pkg/
COPY package-lock.json /pkg/
COPY scripts/install-package.sh /usr/local/bin/install-package
RUN --mount=type=cache,target=/root/.npm ONNXRUNTIME_NODE_INSTALL=cuda12 install-package /pkg/crime-k8s-*.tgz /pkg/package-lock.json /opt/crime amd64

FROM --platform=linux/amd64 ${CUDA_IMAGE} AS gpu
# Node's official build is glibc-linked and needs nothing beyond what the CUDA runtime image has.
COPY --from=install-gpu /usr/local/bin/node /usr/local/bin/node
COPY --from=install-gpu /opt/crime /opt/crime
ENV PATH=/opt/crime/bin:/usr/local/bin:$PATH \
    NODE_ENV=production \
    HOME=/tmp
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["crime"]
CMD ["--help"]

# The default target.
FROM cpu-base AS cpu
