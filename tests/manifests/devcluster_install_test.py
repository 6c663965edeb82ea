"""Installs llmops on llmops-devcluster with the shipped manifests, as a user would.

  install_overlay  kubectl apply -k manifests/overlays/devcluster succeeds (twice) on a
                   devcluster started without flags, the CRD is Established, the operator
                   pod (its shipped flags, the kubelet's built-in image mapping) gets Ready
                   and takes the Lease.
  samples          every manifests/samples/*.yaml passes server dry-run and applies, with
                   nothing pruned; every tests/manifests/testdata/invalid-*.yaml is
                   rejected naming the field at fault.
  rbac_operator    the operator, running from the overlay with one LLMDeployment applied
                   and then stopped, used only what manifests/base grants it
                   (rbac_check.py; the reconcilers' permissions are excused until issue 8).
Environment: DEVCLUSTER_BIN, OPERATOR_BIN."""

import glob
import os

import yaml

import rbac_check
from devcluster_env import MANIFESTS, Failure, run, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = sorted(glob.glob(os.path.join(MANIFESTS, "samples", "*.yaml")))
# Each invalid sample and the field the API server must name in its rejection.
INVALID = {
    "invalid-missing-uri.yaml": "spec.model.uri",
    "invalid-numa.yaml": "spec.runtime.numa",
    "invalid-promote-revision.yaml": "spec.rollout.promote.revision",
    "invalid-step-two-keys.yaml": "spec.rollout.steps[0]",
    "invalid-uri-scheme.yaml": "spec.model.uri",
    "invalid-weight.yaml": "spec.rollout.steps[0].setWeight",
    "invalid-unknown-field.yaml": "spec.rollout.steps[0].setweight",
}
OPERATOR_POD = ("pod/llmops-operator-0", "-n", "llmops-system")


def operator_ready(cluster):
    cluster.kubectl("wait", "--for=condition=Ready", "--timeout=90s", *OPERATOR_POD)


def lease_holder(cluster):
    lease = cluster.get_json("lease", "llmops-operator", "-n", "llmops-system")
    return lease and lease["spec"].get("holderIdentity")


def install_overlay(cluster):
    first = cluster.install()
    for kind in ("namespace/llmops-system", "customresourcedefinition.apiextensions.k8s.io/"
                 "llmdeployments.llmops.dev", "serviceaccount/llmops-operator",
                 "serviceaccount/llmops-router", "service/llmops-router",
                 "pod/llmops-operator-0", "pod/llmops-router-0"):
        if kind + " created" not in first.stdout:
            raise Failure(f"apply -k did not create {kind}: {first.stdout}")
    operator_ready(cluster)
    wait_for("the operator pod to take the Lease", lambda: lease_holder(cluster))
    again = cluster.install()
    changed = [line for line in again.stdout.splitlines() if not line.endswith(" unchanged")]
    if changed:
        raise Failure(f"a second apply -k changed objects: {changed}")


def contains(actual, expected, path="spec"):
    """Every field of `expected` is in `actual` with the same value (defaults may add)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            raise Failure(f"{path}: stored as {actual!r}")
        for key, value in expected.items():
            if key not in actual:
                raise Failure(f"{path}.{key} was pruned by the server")
            contains(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            raise Failure(f"{path}: stored as {actual!r}, sent {expected!r}")
        for index, (a, e) in enumerate(zip(actual, expected)):
            contains(a, e, f"{path}[{index}]")
    elif actual != expected:
        raise Failure(f"{path}: stored as {actual!r}, sent {expected!r}")


def samples(cluster):
    cluster.install()
    if len(SAMPLES) < 3:
        raise Failure(f"expected the three samples, found {SAMPLES}")
    for path in SAMPLES:
        name = os.path.basename(path)
        cluster.kubectl("apply", "--dry-run=server", "-f", path)
        cluster.kubectl("apply", "-f", path)
        with open(path) as f:
            documents = [doc for doc in yaml.safe_load_all(f) if doc]
        last = {}
        for doc in documents:  # several moments of one resource: the last one stays
            last[(doc["metadata"]["namespace"], doc["metadata"]["name"])] = doc
        for (ns, obj_name), doc in last.items():
            stored = cluster.get_json("llmdeployment", obj_name, "-n", ns)
            if stored is None:
                raise Failure(f"{name}: llmdeployment {ns}/{obj_name} was not stored")
            contains(stored["spec"], doc["spec"])
        print(f"  sample {name}: {len(documents)} document(s) applied")
    for name, field in sorted(INVALID.items()):
        path = os.path.join(HERE, "testdata", name)
        for mode in (("--dry-run=server",), ()):
            result = cluster.kubectl("apply", *mode, "-f", path, check=False)
            if result.returncode == 0:
                raise Failure(f"{name} was accepted ({' '.join(mode) or 'apply'}): {result.stdout}")
            if field not in result.stderr:
                raise Failure(f"{name}: the rejection does not name {field}: {result.stderr}")
        if cluster.get_json("llmdeployment", "invalid", "-n", "default") is not None:
            raise Failure(f"{name}: rejected, yet stored")
        print(f"  {name}: rejected at {field}")


def rbac_operator(cluster):
    cluster.install()
    cluster.kubectl("apply", "-f", os.path.join(MANIFESTS, "samples", "minimal.yaml"))
    operator_ready(cluster)  # readyz: the informer has listed and watches
    wait_for("the operator pod to take the Lease", lambda: lease_holder(cluster))

    def renewals():
        used = rbac_check.requests_by(cluster.access_log_path, "llmops-operator/")
        return sum(count for request, count in used.items()
                   if request.verb == "update" and request.resource == "leases") >= 2
    wait_for("the operator to renew its Lease", renewals)
    # A graceful stop releases the Lease: that request must be granted too.
    cluster.kubectl("delete", "--timeout=60s", *OPERATOR_POD)
    wait_for("the Lease to be released", lambda: not lease_holder(cluster))
    report = rbac_check.check(cluster.access_log_path, components=("operator",),
                              allowed_unused=rbac_check.PENDING_RECONCILERS)
    print(report.text())
    if not report.ok:
        raise Failure("the operator's requests and manifests/base RBAC disagree")


if __name__ == "__main__":
    run({"install_overlay": install_overlay, "samples": samples,
         "rbac_operator": rbac_operator}, builtin_images=("install_overlay",))
