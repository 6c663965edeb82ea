#!/usr/bin/env bash
# Deletion through kubectl: a finalizer holds a deleted object until it is removed,
# ownerReferences cascade with each propagation policy, and deleting a namespace
# removes what is in it.
source "$(dirname "$0")/devcluster_lib.sh"
start_devcluster
install_test_crd

# Finalizer held, then released.
$K apply -f "$TESTDATA/cr.yaml" >/dev/null
$K patch llmd storyteller --type=merge -p '{"metadata":{"finalizers":["tests.llmops.dev/hold"]}}' >/dev/null
$K delete llmd storyteller --wait=false >/dev/null
[ -n "$($K get llmd storyteller -o jsonpath='{.metadata.deletionTimestamp}')" ] || fail "deletionTimestamp not set"
$K delete llmd storyteller --timeout=30s >"$WORK/delete.out" 2>&1 &
delete_pid=$!
PIDS+=($delete_pid)
sleep 1
kill -0 $delete_pid 2>/dev/null || fail "kubectl delete returned while the finalizer held: $(cat "$WORK/delete.out")"
$K patch llmd storyteller --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null
wait $delete_pid || fail "kubectl delete did not see the deletion: $(cat "$WORK/delete.out")"
if $K get llmd storyteller 2>/dev/null; then fail "finalized object still there"; fi

# Owner references, one owner per propagation policy.
make_owner_and_dependents() {  # name
  $K apply -f - >/dev/null <<YAML
apiVersion: tests.llmops.dev/v1alpha1
kind: LLMDeployment
metadata: {name: $1, namespace: default}
spec: {model: {name: m, uri: u}}
YAML
  local uid
  uid=$($K get llmd "$1" -o jsonpath='{.metadata.uid}')
  for i in 1 2; do
    $K apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: $1-dep$i
  namespace: default
  ownerReferences:
  - {apiVersion: tests.llmops.dev/v1alpha1, kind: LLMDeployment, name: $1, uid: $uid, controller: true, blockOwnerDeletion: true}
data: {k: v}
YAML
  done
}
count_dependents() { $K get configmaps -o name | grep -c "$1-dep" || true; }

make_owner_and_dependents bg
$K delete llmd bg --cascade=background >/dev/null
for _ in $(seq 1 50); do [ "$(count_dependents bg)" = 0 ] && break; sleep 0.1; done
[ "$(count_dependents bg)" = 0 ] || fail "background deletion left dependents"

make_owner_and_dependents fg
$K delete llmd fg --cascade=foreground >/dev/null
[ "$(count_dependents fg)" = 0 ] || fail "foreground deletion left dependents"
if $K get llmd fg 2>/dev/null; then fail "foreground owner still there"; fi

make_owner_and_dependents orphan
$K delete llmd orphan --cascade=orphan >/dev/null
[ "$(count_dependents orphan)" = 2 ] || fail "orphan deletion removed dependents"
[ -z "$($K get configmap orphan-dep1 -o jsonpath='{.metadata.ownerReferences}')" ] ||
  fail "orphaned dependent kept its ownerReference"

# Namespace deletion removes its content, then the namespace. kubectl's typed create
# commands send protobuf bodies.
$K create namespace team >/dev/null
sed 's/namespace: default/namespace: team/' "$TESTDATA/cr.yaml" | $K apply -f - >/dev/null
$K -n team create configmap c1 --from-literal=a=b >/dev/null
$K -n team create secret generic s1 --from-literal=password=hunter2 >/dev/null
[ "$($K -n team get secret s1 -o jsonpath='{.data.password}' | base64 -d)" = hunter2 ] ||
  fail "secret data from a protobuf create"
$K -n team run p1 --image=registry.example/x:1 >/dev/null
[ "$($K -n team get llmd,configmaps,secrets,pods -o name | wc -l)" = 4 ] || fail "namespace content not created"
$K delete namespace team --timeout=30s >/dev/null
if $K get namespace team 2>/dev/null; then fail "namespace still there"; fi
[ -z "$($K -n team get llmd,configmaps,secrets,pods -o name 2>/dev/null)" ] || fail "namespace content left behind"
echo PASS
