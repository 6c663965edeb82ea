#!/usr/bin/env bash
# kubectl against the devcluster: CRD apply + wait Established, client-side apply of a
# custom resource, printer columns, get -w seeing an update, patch (merge, json,
# status), scale, wait --for=condition, and a strategic merge patch refused with 415.
source "$(dirname "$0")/devcluster_lib.sh"
start_devcluster

install_test_crd
out=$($K apply -f "$TESTDATA/cr.yaml")
expect_contains "$out" "llmdeployment.tests.llmops.dev/storyteller created" "apply create"

out=$($K get llmdeployments)
expect_contains "$out" "MODEL" "printer column header"
expect_contains "$out" "REPLICAS" "printer column header"
expect_contains "$(echo "$out" | tail -1)" "storyteller   storyteller   2" "printer column cells"
out=$($K get llmd -o wide)
expect_contains "$out" "file:///models/story.gguf" "priority-1 column with -o wide"
[ "$($K get llmd storyteller -o jsonpath='{.spec.runtime.numa}')" = bind ] || fail "schema default"
[ "$($K get llmd storyteller -o jsonpath='{.metadata.generation}')" = 1 ] || fail "generation 1"

# get -w sees the update made by a later apply.
$K get llmd -w >"$WORK/watch.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do grep -q storyteller "$WORK/watch.out" && break; sleep 0.1; done
sed 's/replicas: 2/replicas: 3/' "$TESTDATA/cr.yaml" | $K apply -f - | grep -q configured ||
  fail "apply update"
for _ in $(seq 1 50); do grep -qE "storyteller +storyteller +3" "$WORK/watch.out" && break; sleep 0.1; done
grep -qE "storyteller +storyteller +3" "$WORK/watch.out" || fail "get -w did not see the update: $(cat "$WORK/watch.out")"
[ "$($K get llmd storyteller -o jsonpath='{.metadata.generation}')" = 2 ] || fail "generation bump"

$K patch llmd storyteller --type=merge -p '{"spec":{"replicas":4}}' >/dev/null
[ "$($K get llmd storyteller -o jsonpath='{.spec.replicas}')" = 4 ] || fail "merge patch"
$K patch llmd storyteller --type=json -p '[{"op":"replace","path":"/spec/model/name","value":"story-v2"}]' >/dev/null
[ "$($K get llmd storyteller -o jsonpath='{.spec.model.name}')" = story-v2 ] || fail "json patch"

out=$($K scale llmd storyteller --replicas=6)
expect_contains "$out" "scaled" "scale"
[ "$($K get llmd storyteller -o jsonpath='{.spec.replicas}')" = 6 ] || fail "scale result"
$K scale llmd storyteller --current-replicas=6 --replicas=5 >/dev/null
[ "$($K get llmd storyteller -o jsonpath='{.spec.replicas}')" = 5 ] || fail "scale with --current-replicas"
if $K scale llmd storyteller --current-replicas=1 --replicas=2 2>"$WORK/err"; then
  fail "scale with wrong --current-replicas succeeded"
fi

# Status through the subresource; wait honours observedGeneration.
generation=$($K get llmd storyteller -o jsonpath='{.metadata.generation}')
$K patch llmd storyteller --subresource=status --type=merge -p "{\"status\":{\"replicas\":5,\"readyReplicas\":5,\"phase\":\"Healthy\",\"selector\":\"app=story\",\"conditions\":[{\"type\":\"Available\",\"status\":\"True\",\"reason\":\"Ready\",\"message\":\"ok\",\"observedGeneration\":$generation}]}}" >/dev/null
$K wait --for=condition=Available llmd/storyteller --timeout=10s >/dev/null || fail "wait condition"
out=$($K get llmd storyteller)
expect_contains "$out" "Healthy" "status phase column"
scale=$($K get --raw /apis/tests.llmops.dev/v1alpha1/namespaces/default/llmdeployments/storyteller/scale)
expect_contains "$scale" '"selector":"app=story"' "scale selector"
expect_contains "$scale" '"kind":"Scale"' "scale kind"
# A spec write keeps the status the subresource set.
$K patch llmd storyteller --type=merge -p '{"status":{"phase":"Ignored"},"spec":{"replicas":2}}' >/dev/null
[ "$($K get llmd storyteller -o jsonpath='{.status.phase}')" = Healthy ] || fail "main resource wrote status"

# Strategic merge patch is refused for custom resources, as on a real server.
if $K patch llmd storyteller -p '{"spec":{"replicas":1}}' 2>"$WORK/err"; then fail "strategic merge accepted"; fi
expect_contains "$(cat "$WORK/err")" "strategic-merge-patch+json is not supported" "415 for strategic merge"

$K delete llmd storyteller >/dev/null
if $K get llmd storyteller 2>/dev/null; then fail "deleted object still there"; fi
echo PASS
