#!/usr/bin/env bash
# The full multi-stage build (label images-full, not in default CI): the build stage
# installs the dependencies with scripts/install-deps.sh --build-only and compiles the
# programs with scripts/build.sh --programs inside debian:bookworm, then every image is
# run as image_run_test.py does. Usage: full_build_test.sh OUT_DIR
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="$1"
started=$(date +%s)
"$repo/scripts/build-images.sh" --out "$out"
echo "full multi-stage build: $(($(date +%s) - started)) s"
status=0
for name in llmops-operator llmops-router llmops-runtime; do
  /usr/bin/python3 "$repo/tests/images/image_run_test.py" "$name" "$out" || status=1
done
exit $status
