#!/usr/bin/env bash
# The ctest fixture real_control_plane: `setup DIR` starts a fresh real control plane in
# DIR (building it into the cache first when missing), `cleanup DIR` stops it and removes
# DIR unless LLMOPS_KEEP_REAL_CLUSTER is set (its logs are in DIR/logs).
set -euo pipefail
script="$(cd "$(dirname "$0")/../.." && pwd)/scripts/real-cluster.sh"
action="${1:?usage: fixture.sh setup|cleanup DIR}"
dir="${2:?usage: fixture.sh setup|cleanup DIR}"
case "$action" in
  setup)
    "$script" down "$dir" 2>/dev/null || true
    rm -rf "$dir"
    start=$SECONDS
    "$script" build
    echo "fixture: control plane built or found in the cache in $((SECONDS - start)) s"
    start=$SECONDS
    if ! "$script" up "$dir"; then
      for log in "$dir"/logs/*.log; do
        [ -f "$log" ] && { echo "--- $log (tail)"; tail -n 40 "$log"; }
      done
      "$script" down "$dir" || true
      exit 1
    fi
    echo "fixture: control plane up in $((SECONDS - start)) s"
    ;;
  cleanup)
    "$script" down "$dir"
    if [ -z "${LLMOPS_KEEP_REAL_CLUSTER:-}" ]; then rm -rf "$dir"; fi
    ;;
  *) echo "usage: fixture.sh setup|cleanup DIR" >&2; exit 2 ;;
esac
