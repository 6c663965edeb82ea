#!/usr/bin/env bash
# A real Kubernetes control plane on this machine: etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler built from Go modules (tools/control-plane),
# with llmops-devcluster's process kubelet as the one node.
#
#   scripts/real-cluster.sh build       build into the cache (idempotent), print where
#   scripts/real-cluster.sh up DIR      build if missing, start everything with state,
#                                       certificates and logs in DIR; writes DIR/kubeconfig
#                                       (cluster-admin) and DIR/env (ports, paths)
#   scripts/real-cluster.sh down DIR    stop what `up DIR` started
#   scripts/real-cluster.sh stop|start DIR COMPONENT   end or restart one of etcd,
#                                       kube-apiserver, kube-controller-manager,
#                                       kube-scheduler, kubelet (tests of restarts)
#   scripts/real-cluster.sh kubectl     print the kubectl to use with it (within one minor)
#
# Environment: LLMOPS_BUILD_DIR (default build/) holds llmops-devcluster and the other
# llmops programs; LLMOPS_CACHE_DIR (default ~/.cache/llmops) holds the built binaries;
# LLMOPS_NODE_NAME (llmops-node-1); LLMOPS_KUBELET_FLAGS (extra flags for the kubelet,
# e.g. --image-map python=/usr/bin/python3); LLMOPS_KUBECTL (the kubectl to use).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
tools="$repo/tools/control-plane"
# shellcheck source=../tools/control-plane/versions.env
. "$tools/versions.env"
cache_root="${LLMOPS_CACHE_DIR:-$HOME/.cache/llmops}"
kube_dir="$cache_root/kube-$KUBE_VERSION"
etcd_dir="$cache_root/etcd-$ETCD_VERSION"

log() { printf 'real-cluster: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The hash of everything that goes into a build; a cache folder whose stamp differs is rebuilt.
source_stamp() {
  (cd "$tools/$1" && cat go.mod go.sum ./*.go "$tools/versions.env") | sha256sum | cut -d' ' -f1
}

build_one() { # NAME OUTDIR OUTFILE LDFLAGS
  local name="$1" out_dir="$2" out_file="$3" ldflags="$4"
  local stamp
  stamp="$(source_stamp "$name")"
  if [ -x "$out_dir/$out_file" ] && [ "$(cat "$out_dir/.stamp" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  command -v go >/dev/null || die "go is not installed (scripts/install-deps.sh installs it)"
  mkdir -p "$out_dir"
  log "building $name into $out_dir (the first build takes long: see README)"
  local start=$SECONDS
  (cd "$tools/$name" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" \
      -o "$out_dir/$out_file.tmp" .)
  mv "$out_dir/$out_file.tmp" "$out_dir/$out_file"
  printf '%s\n' "$stamp" > "$out_dir/.stamp"
  log "built $name in $((SECONDS - start)) s"
}

cmd_build() {
  local minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  local ldflags="-s -w"
  local pkg
  # What `kubectl version` and /version report, as upstream's release builds set it.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean"
  done
  build_one kube "$kube_dir" kube "$ldflags"
  local name
  for name in kube-apiserver kube-controller-manager kube-scheduler; do
    ln -sfn kube "$kube_dir/$name"
  done
  build_one etcd "$etcd_dir" etcd "-s -w"
  echo "kube: $kube_dir"
  echo "etcd: $etcd_dir"
}

# kubectl within one minor version of the server: $LLMOPS_KUBECTL, else the newest
# kubectl.1.3x beside kubectl (google-cloud-sdk ships several), else kubectl itself if new enough.
find_kubectl() {
  if [ -n "${LLMOPS_KUBECTL:-}" ]; then echo "$LLMOPS_KUBECTL"; return 0; fi
  local want="${KUBE_VERSION#v1.}"; want="${want%%.*}"
  local base candidate minor
  base="$(command -v kubectl 2>/dev/null || true)"
  if [ -n "$base" ]; then
    base="$(dirname "$(readlink -f "$base")")"
    for minor in $((want + 1)) "$want" $((want - 1)); do
      candidate="$base/kubectl.1.$minor"
      if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
    done
    minor="$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -1)"
    if [ -n "$minor" ] && [ "$minor" -ge $((want - 1)) ] && [ "$minor" -le $((want + 1)) ]; then
      command -v kubectl; return 0
    fi
  fi
  die "no kubectl within one minor version of $KUBE_VERSION; set LLMOPS_KUBECTL"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- certificates, as kubeadm lays them out: one cluster CA, a client certificate per
# component (CN = user, O = group), serving certificates for 127.0.0.1.
pki_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

pki_cert() { # NAME SUBJECT EXT(client|server) [SANS]
  local name="$1" subject="$2" kind="$3" sans="${4:-}" pki="$dir/pki"
  [ -f "$pki/$name.crt" ] && return 0
  pki_key "$pki/$name.key"
  openssl req -new -key "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ "$kind" = server ]; then
      echo "extendedKeyUsage=serverAuth"
      echo "subjectAltName=$sans"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } > "$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 365 -sha256 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}

make_pki() {
  local pki="$dir/pki"
  mkdir -p "$pki"
  chmod 700 "$pki"
  if [ ! -f "$pki/ca.crt" ]; then
    pki_key "$pki/ca.key"
    openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=llmops-real-cluster-ca" -days 365 \
      -sha256 -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$pki/ca.crt" 2>/dev/null
  fi
  if [ ! -f "$pki/sa.key" ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/sa.key" 2>/dev/null
    openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  fi
  pki_cert apiserver "/CN=kube-apiserver" server \
    "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  pki_cert apiserver-kubelet-client "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client" client
  pki_cert admin "/O=system:masters/CN=kubernetes-admin" client
  pki_cert controller-manager "/CN=system:kube-controller-manager" client
  pki_cert scheduler "/CN=system:kube-scheduler" client
  pki_cert kubelet-client "/O=system:nodes/CN=system:node:$node" client
  pki_cert kubelet-server "/CN=$node" server "IP:127.0.0.1,DNS:localhost,DNS:$node"
}

write_kubeconfig() { # FILE CERT_NAME USER
  local file="$1" cert="$2" user="$3" pki="$dir/pki"
  cat > "$file.tmp" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: llmops-real
  cluster:
    server: https://127.0.0.1:$apiserver_port
    certificate-authority-data: $(base64 -w0 < "$pki/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 < "$pki/$cert.crt")
    client-key-data: $(base64 -w0 < "$pki/$cert.key")
contexts:
- name: $user@llmops-real
  context: {cluster: llmops-real, user: $user}
current-context: $user@llmops-real
KUBECONFIG
  chmod 600 "$file.tmp"
  mv "$file.tmp" "$file"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() { # NAME ARGV...
  local name="$1"; shift
  if pid_alive "$dir/pids/$name.pid"; then die "$name already runs in $dir (down it first)"; fi
  printf '%s\0' "$@" > "$dir/pids/$name.argv"  # for `start DIR NAME` after `stop DIR NAME`
  setsid "$@" >>"$dir/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$dir/pids/$name.pid"
}

stop_one() { # NAME
  local name="$1" pid_file="$dir/pids/$1.pid" pid deadline
  [ -f "$pid_file" ] || return 0
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) still runs 15 s after SIGTERM; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pid_file"
}

components="etcd kube-apiserver kube-controller-manager kube-scheduler kubelet"

# One component of a running cluster, for tests of restarts: `stop DIR NAME` ends it,
# `start DIR NAME` starts it again with the same command line.
cmd_component() { # stop|start DIR NAME
  local action="$1"
  dir="${2:?usage: real-cluster.sh $action DIR NAME}"
  local name="${3:?usage: real-cluster.sh $action DIR NAME}"
  case " $components " in *" $name "*) ;; *) die "unknown component $name ($components)" ;; esac
  dir="$(cd "$dir" && pwd)"
  if [ "$action" = stop ]; then
    stop_one "$name"
    log "stopped $name"
    return 0
  fi
  [ -f "$dir/pids/$name.argv" ] || die "$name was never started in $dir"
  local argv=()
  mapfile -d '' argv < "$dir/pids/$name.argv"
  start "$name" "${argv[@]}"
  log "started $name (pid $(cat "$dir/pids/$name.pid"))"
}

wait_until() { # WHAT SECONDS COMMAND...
  local what="$1" seconds="$2"; shift 2
  local deadline=$((SECONDS + seconds)) name
  until "$@" >/dev/null 2>&1; do
    for name in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet; do
      if [ -f "$dir/pids/$name.pid" ] && ! pid_alive "$dir/pids/$name.pid"; then
        tail -n 30 "$dir/logs/$name.log" >&2 || true
        die "$name exited while waiting for $what (log: $dir/logs/$name.log)"
      fi
    done
    if [ $SECONDS -ge $deadline ]; then die "timed out after ${seconds}s waiting for $what"; fi
    sleep 0.5
  done
}

node_ready() {
  [ "$("$kubectl" --kubeconfig "$dir/kubeconfig" get node "$node" \
        -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

cmd_up() {
  dir="${1:?usage: real-cluster.sh up DIR}"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  local build="${LLMOPS_BUILD_DIR:-$repo/build}"
  build="$(cd "$build" 2>/dev/null && pwd)" || die "no build directory $build (run scripts/build.sh)"
  local devcluster="$build/devcluster/llmops-devcluster"
  [ -x "$devcluster" ] || die "$devcluster is missing (run scripts/build.sh)"
  node="${LLMOPS_NODE_NAME:-llmops-node-1}"
  kubectl="$(find_kubectl)"
  cmd_build > /dev/null
  mkdir -p "$dir/logs" "$dir/pids" "$dir/etcd"
  chmod 700 "$dir/etcd"

  local etcd_port etcd_peer_port
  apiserver_port="$(free_port)"; etcd_port="$(free_port)"; etcd_peer_port="$(free_port)"
  make_pki
  local pki="$dir/pki"
  write_kubeconfig "$dir/kubeconfig" admin kubernetes-admin
  write_kubeconfig "$dir/controller-manager.kubeconfig" controller-manager system:kube-controller-manager
  write_kubeconfig "$dir/scheduler.kubeconfig" scheduler system:kube-scheduler
  write_kubeconfig "$dir/kubelet.kubeconfig" kubelet-client "system:node:$node"

  start etcd "$etcd_dir/etcd" --name llmops --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "llmops=http://127.0.0.1:$etcd_peer_port" \
    --listen-metrics-urls "" --log-level warn --quota-backend-bytes 1073741824
  wait_until "etcd" 60 curl -sf "http://127.0.0.1:$etcd_port/health"

  start kube-apiserver "$kube_dir/kube-apiserver" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$apiserver_port" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --endpoint-reconciler-type=none --service-cluster-ip-range=10.0.0.0/24 \
    --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$pki/ca.crt" \
    --kubelet-preferred-address-types=InternalIP \
    --cert-dir="$dir/apiserver-certs" --profiling=false --v=1
  wait_until "the apiserver's /readyz" 180 "$kubectl" --kubeconfig "$dir/kubeconfig" \
    get --raw /readyz

  start kube-controller-manager "$kube_dir/kube-controller-manager" \
    --kubeconfig="$dir/controller-manager.kubeconfig" --secure-port=0 --leader-elect=false \
    --use-service-account-credentials=true --service-account-private-key-file="$pki/sa.key" \
    --root-ca-file="$pki/ca.crt" --cluster-signing-cert-file="$pki/ca.crt" \
    --cluster-signing-key-file="$pki/ca.key" --profiling=false --v=1
  start kube-scheduler "$kube_dir/kube-scheduler" \
    --kubeconfig="$dir/scheduler.kubeconfig" --secure-port=0 --leader-elect=false \
    --profiling=false --v=1

  # shellcheck disable=SC2086  # LLMOPS_KUBELET_FLAGS is a list of flags
  start kubelet "$devcluster" kubelet --kubeconfig "$dir/kubelet.kubeconfig" --node-name "$node" \
    --data-dir "$dir/kubelet" --tls-cert-file "$pki/kubelet-server.crt" \
    --tls-private-key-file "$pki/kubelet-server.key" --client-ca-file "$pki/ca.crt" \
    ${LLMOPS_KUBELET_FLAGS:-}
  wait_until "node $node Ready" 120 node_ready
  # Pods need their namespace's service account (made by the controller-manager).
  wait_until "the default service account" 60 "$kubectl" --kubeconfig "$dir/kubeconfig" \
    -n default get serviceaccount default

  cat > "$dir/env" <<ENV
KUBECONFIG=$dir/kubeconfig
KUBECTL=$kubectl
APISERVER_PORT=$apiserver_port
ETCD_PORT=$etcd_port
NODE_NAME=$node
KUBE_VERSION=$KUBE_VERSION
ENV
  log "up: kubectl --kubeconfig $dir/kubeconfig (server https://127.0.0.1:$apiserver_port, node $node; logs in $dir/logs)"
}

cmd_down() {
  dir="${1:?usage: real-cluster.sh down DIR}"
  [ -d "$dir/pids" ] || { log "down: nothing runs in $dir"; return 0; }
  dir="$(cd "$dir" && pwd)"
  local name
  # The kubelet first, so that its pods end gracefully; etcd last.
  for name in kubelet kube-scheduler kube-controller-manager kube-apiserver etcd; do
    stop_one "$name"
  done
  log "down: stopped everything started in $dir"
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    build) cmd_build ;;
    up) shift; cmd_up "$@" ;;
    down) shift; cmd_down "$@" ;;
    stop|start) cmd_component "$@" ;;
    kubectl) find_kubectl ;;
    *) echo "usage: $0 build | up DIR | down DIR | stop|start DIR COMPONENT | kubectl" >&2
       exit 2 ;;
  esac
}

main "$@"
