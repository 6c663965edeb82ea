#!/usr/bin/env bash
# Installs every build and test dependency of llmops from Debian 12 packages.
# Used by new users (README) and by .ci/run. Needs root (or sudo).
#   scripts/install-deps.sh                everything: build, tests, checkers, images
#   scripts/install-deps.sh --build-only   what scripts/build.sh needs (the build stage
#                                          of the container images, images/)
set -euo pipefail

build_only=false
case "${1:-}" in
  "") ;;
  --build-only) build_only=true ;;
  *) echo "install-deps.sh: unknown argument $1 (--build-only or nothing)" >&2; exit 2 ;;
esac

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang-format ccache
  # libFuzzer and the clang sanitizer runtimes (fuzz targets)
  clang libclang-rt-14-dev
  # libraries named in DESIGN.md
  libcurl4-openssl-dev nlohmann-json3-dev libyaml-cpp-dev libssl-dev
  libspdlog-dev libfmt-dev libhwloc-dev libboost-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # TLS: the system trust store for https model URLs; the openssl CLI makes test CAs
  ca-certificates openssl
)
test_packages=(
  python3
  lua5.4  # runs the Argo CD health check's tests (manifests/argocd)
  nginx  # the baseline of bench/router_bench.py (started by the benchmark on loopback)
  # the official Python Kubernetes client: an independent client in devcluster tests
  python3-kubernetes
  # the fault suite: network namespaces, veths and partitions (ip netns, iptables, ss -K)
  iproute2 iptables
  # container images without a daemon (scripts/build-images.sh, tests/images): buildah
  # builds from a debootstrap base, umoci unpacks, runc runs them, skopeo copies them
  buildah debootstrap umoci skopeo runc
)
if ! $build_only; then packages+=("${test_packages[@]}"); fi
# kubectl: the real one (1.32) is preinstalled on our machines; a bare Debian 12 gets
# Debian's kubernetes-client (1.20; see README for its --validate=false caveat).
if ! $build_only && ! command -v kubectl >/dev/null 2>&1; then packages+=(kubernetes-client); fi
# Independent checkers run by tests (@huggingface/gguf, node-llama-cpp) need node and
# npm. Debian's nodejs + npm are installed only when no npm is present: a nodejs that
# bundles npm (NodeSource) conflicts with Debian's npm package.
if ! $build_only && ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${packages[@]}"
# The real control plane (scripts/real-cluster.sh, tests labelled realk8s) is built with
# Go >= 1.24 from the Go module proxy; our machines have Go 1.26 (Debian 12's golang is
# 1.19, too old). Without it those tests are not registered.
if ! command -v go >/dev/null 2>&1; then
  echo "install-deps: no go on PATH: the realk8s tests (real control plane) will be skipped" >&2
fi
