#!/usr/bin/env bash
# The real helm, built from its Go module (tools/helm: go.mod + go.sum pin v4.3.2 and every
# dependency) into ~/.cache/llmops/helm-<version>/ the first time, then run with the
# arguments given.
#   scripts/helm.sh lint --strict charts/llmops
#   scripts/helm.sh --path        build if needed, print the binary's path
# LLMOPS_CACHE_DIR overrides ~/.cache/llmops. Needs Go (1.26) and the Go module proxy once.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
module="$repo/tools/helm"
version="$(awk '$1 == "helm.sh/helm/v4" {print $2}' "$module/go.mod")"
if [ -z "$version" ]; then
  echo "helm.sh: no helm.sh/helm/v4 version in $module/go.mod" >&2
  exit 1
fi
cache="${LLMOPS_CACHE_DIR:-$HOME/.cache/llmops}/helm-$version"
helm="$cache/helm"

if [ ! -x "$helm" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "helm.sh: go is not on PATH (install Go 1.26 to build helm $version)" >&2
    exit 1
  fi
  mkdir -p "$cache"
  echo "helm.sh: building helm $version into $cache (once; a few minutes on 2 cores)" >&2
  started=$(date +%s)
  # -mod=readonly: go.sum is the lock; a dependency it does not pin is an error.
  (cd "$module" && CGO_ENABLED=0 go build -mod=readonly -trimpath \
      -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$version" \
      -o "$helm.tmp" helm.sh/helm/v4/cmd/helm)
  mv "$helm.tmp" "$helm"
  echo "helm.sh: built in $(($(date +%s) - started)) s" >&2
fi

if [ "${1:-}" = "--path" ]; then
  echo "$helm"
  exit 0
fi
exec "$helm" "$@"
