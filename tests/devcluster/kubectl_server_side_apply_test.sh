#!/usr/bin/env bash
# kubectl apply --server-side: creation, a conflict between two field managers (409
# listing the field), --force-conflicts moving ownership, and co-ownership of equal values.
source "$(dirname "$0")/devcluster_lib.sh"
start_devcluster
install_test_crd

out=$($K apply --server-side -f "$TESTDATA/cr.yaml")
expect_contains "$out" "serverside-applied" "server-side create"
out=$($K get llmd storyteller -o json --show-managed-fields)
expect_contains "$out" '"manager": "kubectl"' "managedFields names the applier"
expect_contains "$out" '"operation": "Apply"' "managedFields operation"

# Re-applying the same configuration is a no-op and keeps the resourceVersion.
rv=$($K get llmd storyteller -o jsonpath='{.metadata.resourceVersion}')
$K apply --server-side -f "$TESTDATA/cr.yaml" >/dev/null
[ "$($K get llmd storyteller -o jsonpath='{.metadata.resourceVersion}')" = "$rv" ] || fail "no-op apply wrote"

# Another manager setting the same value co-owns it without conflict.
$K apply --server-side --field-manager=autoscaler -f - >/dev/null <<'YAML'
apiVersion: tests.llmops.dev/v1alpha1
kind: LLMDeployment
metadata: {name: storyteller, namespace: default}
spec: {replicas: 2, model: {name: storyteller, uri: file:///models/story.gguf}}
YAML

# A different value conflicts.
if sed 's/replicas: 2/replicas: 5/' "$TESTDATA/cr.yaml" |
    $K apply --server-side --field-manager=other -f - >"$WORK/out" 2>"$WORK/err"; then
  fail "conflicting apply succeeded"
fi
expect_contains "$(cat "$WORK/err")" "conflict with \"kubectl\"" "conflict names the owner"
expect_contains "$(cat "$WORK/err")" ".spec.replicas" "conflict names the field"
[ "$($K get llmd storyteller -o jsonpath='{.spec.replicas}')" = 2 ] || fail "conflicting apply wrote"

sed 's/replicas: 2/replicas: 5/' "$TESTDATA/cr.yaml" |
  $K apply --server-side --field-manager=other --force-conflicts -f - >/dev/null || fail "force-conflicts"
[ "$($K get llmd storyteller -o jsonpath='{.spec.replicas}')" = 5 ] || fail "forced value"
# Now "kubectl" lost .spec.replicas: its own apply conflicts with "other".
if $K apply --server-side -f "$TESTDATA/cr.yaml" 2>"$WORK/err" >/dev/null; then
  fail "apply after losing ownership succeeded"
fi
expect_contains "$(cat "$WORK/err")" "conflict with \"other\"" "ownership moved to other"

# An applier that drops a field it alone owned removes it.
$K apply --server-side --field-manager=runtime-owner -f - >/dev/null <<'YAML'
apiVersion: tests.llmops.dev/v1alpha1
kind: LLMDeployment
metadata: {name: storyteller, namespace: default}
spec: {runtime: {maxBatch: 8}}
YAML
[ "$($K get llmd storyteller -o jsonpath='{.spec.runtime.maxBatch}')" = 8 ] || fail "second applier"
$K apply --server-side --field-manager=runtime-owner -f - >/dev/null <<'YAML'
apiVersion: tests.llmops.dev/v1alpha1
kind: LLMDeployment
metadata: {name: storyteller, namespace: default}
spec: {runtime: {args: ["--verbose"]}}
YAML
[ -z "$($K get llmd storyteller -o jsonpath='{.spec.runtime.maxBatch}')" ] || fail "dropped field kept"
echo PASS
