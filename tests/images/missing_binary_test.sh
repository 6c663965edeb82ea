#!/usr/bin/env bash
# A Containerfile build whose program is missing fails scripts/build-images.sh with a
# non-zero exit and says which build failed. Usage: missing_binary_test.sh
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/empty-build"
"$repo/scripts/build-images.sh" --only llmops-router --prebuilt "$work/empty-build" \
  --out "$work/out" >"$work/stdout" 2>"$work/stderr"
code=$?
cat "$work/stderr"
if [ "$code" -eq 0 ]; then
  echo "FAIL build-images.sh exited 0 without a router binary"
  exit 1
fi
for words in "router/llmops-router is missing" "building llmops-router failed"; do
  if ! grep -q "$words" "$work/stderr"; then
    echo "FAIL build-images.sh's errors do not say '$words'"
    exit 1
  fi
done
if [ -e "$work/out/llmops-router.oci.tar" ]; then
  echo "FAIL an archive was written for a failed build"
  exit 1
fi
echo "build-images.sh exited $code without the router binary, as it should"
