# Shared by the devcluster integration tests: starts llmops-devcluster on a free port
# in a fresh data directory and stops it (and anything else recorded) on exit.
# Usage: source devcluster_lib.sh; start_devcluster [extra flags]; then use $K (kubectl).
set -euo pipefail

DEVCLUSTER_BIN=${DEVCLUSTER_BIN:?DEVCLUSTER_BIN must point at llmops-devcluster}
TESTDATA=${TESTDATA:?TESTDATA must point at tests/devcluster/testdata}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/devcluster-test.XXXXXX")
export HOME=$WORK/home  # kubectl's discovery cache: one per test
mkdir -p "$HOME"
PIDS=()

cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $status -ne 0 ]; then
    echo "--- devcluster log"; cat "$WORK"/server*.log 2>/dev/null | tail -50 || true
  fi
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# start_devcluster [flags...]: sets DATA, KUBECONFIG_PATH, K and SERVER_PID.
start_devcluster() {
  DATA=${DATA:-$WORK/data}
  # The server rewrites DIR/port (a new inode) once it listens; an old file stays to
  # hand the port to the next start.
  local old_inode=none
  [ -e "$DATA/port" ] && old_inode=$(stat -c %i "$DATA/port")
  "$DEVCLUSTER_BIN" --listen 127.0.0.1:0 --data-dir "$DATA" "$@" >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 1 100); do
    [ -s "$DATA/port" ] && [ "$(stat -c %i "$DATA/port")" != "$old_inode" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "devcluster exited at start"
    sleep 0.1
  done
  [ -s "$DATA/port" ] || fail "devcluster did not record its port"
  KUBECONFIG_PATH=$DATA/kubeconfig
  K="kubectl --kubeconfig $KUBECONFIG_PATH"
}

stop_devcluster() {
  kill "$SERVER_PID"
  wait "$SERVER_PID" || true
}

# The test CRD, established.
install_test_crd() {
  $K apply -f "$TESTDATA/crd.yaml" >/dev/null
  $K wait --for=condition=Established crd/llmdeployments.tests.llmops.dev --timeout=20s >/dev/null
}

expect_contains() {  # expect_contains "<haystack>" "<needle>" "<what>"
  case "$1" in *"$2"*) ;; *) fail "$3: expected to find '$2' in: $1" ;; esac
}
