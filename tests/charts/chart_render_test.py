"""The Helm chart charts/llmops with the real helm (scripts/helm.sh, built from its Go
module), no cluster needed. One case per run: chart_render_test.py CASE, with HELM and
KUBECTL in the environment.

  lint        helm lint --strict, with the default and with non-default values
  base        with release name llmops, every object of manifests/base but its Namespace
              has the same kind and name in the chart, and the same content once the
              labels Helm adds, the instance selector label and the image are set aside
              (RBAC rules, subjects, pod specs, probes, security contexts, PDBs, Service)
  values      non-default values land where they should (registry, tag, digest,
              replicas, log level, leader election, ports, scheduling, monitors)
  schema      bad values fail with the schema's message naming the value
  install     dist/install.yaml is what scripts/gen-install.sh writes now
"""

import copy
import os
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHART = os.path.join(REPO, "charts", "llmops")
NAMESPACE = "llmops-system"
# Labels only the chart carries (Helm's conventions); the base has part-of on metadata only.
CHART_ONLY_LABELS = {"app.kubernetes.io/instance", "app.kubernetes.io/managed-by",
                     "app.kubernetes.io/version", "helm.sh/chart", "app.kubernetes.io/part-of"}
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, **kwargs)


def helm(*args):
    return run([os.environ["HELM"], *args])


def template(*args, release="llmops", namespace=NAMESPACE):
    result = helm("template", release, CHART, "--namespace", namespace, *args)
    if result.returncode != 0:
        raise AssertionError(f"helm template {' '.join(args)}: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_key(objects):
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def strip_labels(labels):
    return {k: v for k, v in (labels or {}).items() if k not in CHART_ONLY_LABELS}


def normalize(obj):
    """The object without what Helm conventions add: chart-only labels (metadata, pod
    templates, selectors), the image reference, and empty label maps."""
    obj = copy.deepcopy(obj)

    def walk(node):
        if isinstance(node, dict):
            for key in ("labels", "matchLabels"):
                if key in node and isinstance(node[key], dict):
                    node[key] = strip_labels(node[key])
                    if not node[key]:
                        del node[key]
            if node.get("kind") == "Service" and "spec" in node:
                node["spec"]["selector"] = strip_labels(node["spec"].get("selector"))
            if "image" in node and isinstance(node["image"], str):
                node["image"] = "<image>"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(obj)
    return obj


def diff_paths(a, b, path=""):
    """The first few paths where a and b differ, for a readable failure."""
    if type(a) is not type(b):
        return [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                out.append(f"{path}.{key}: only in {'chart' if key in a else 'base'}")
            else:
                out += diff_paths(a[key], b[key], f"{path}.{key}")
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff_paths(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def case_lint():
    result = helm("lint", "--strict", CHART)
    check(result.returncode == 0, f"helm lint --strict: {result.stdout}{result.stderr}")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(NON_DEFAULT, f)
    try:
        result = helm("lint", "--strict", CHART, "-f", f.name)
        check(result.returncode == 0, f"helm lint --strict -f non-default: {result.stdout}")
    finally:
        os.unlink(f.name)


def case_base():
    kustomize = run([os.environ["KUBECTL"], "kustomize", os.path.join(REPO, "manifests", "base")])
    if not check(kustomize.returncode == 0, f"kubectl kustomize: {kustomize.stderr}"):
        return
    base = by_key(d for d in yaml.safe_load_all(kustomize.stdout) if d)
    chart = by_key(template("--include-crds"))
    for key, base_obj in sorted(base.items()):
        if key[0] == "Namespace":
            check(key not in chart, "the chart must not create its namespace")
            continue
        if not check(key in chart, f"chart lacks {key[0]} {key[1]} of manifests/base"):
            continue
        differences = diff_paths(normalize(chart[key]), normalize(base_obj))
        check(not differences, f"{key[0]} {key[1]} differs from manifests/base: "
                               + "; ".join(differences[:5]))
    # The chart owns the operator's Lease, so that `helm uninstall` leaves nothing behind;
    # the base lets the operator create it.
    chart_only = {("Lease", "llmops-operator")}
    for key in sorted(set(chart) - set(base) - chart_only):
        check(False, f"the chart has {key[0]} {key[1]}, manifests/base does not")
    check(chart_only <= set(chart), "the chart has no Lease for the operator")
    for obj in chart.values():
        if obj["kind"] not in ("CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"):
            check(obj["metadata"].get("namespace") == NAMESPACE,
                  f"{obj['kind']} {obj['metadata']['name']} is not in the release namespace")
    print(f"chart and manifests/base: {len(base) - 1} objects compared")


NON_DEFAULT = {
    "image": {"registry": "registry.example:5000/team/", "tag": "1.2.3",
              "digest": {"operator": "sha256:" + "a" * 64, "router": ""},
              "pullSecrets": ["regcred"]},
    "operator": {"replicaCount": 3, "logLevel": "debug", "extraArgs": ["--workers=4"],
                 "nodeSelector": {"llmops.dev/pool": "control"},
                 "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
                 "resources": {"requests": {"cpu": "250m", "memory": "256Mi"},
                               "limits": {"memory": "1Gi"}}},
    "router": {"replicaCount": 1, "service": {"port": 8000, "type": "NodePort"},
               "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                   "nodeSelectorTerms": [{"matchExpressions": [
                       {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}]}}}},
    "monitoring": {"serviceMonitor": {"enabled": True, "labels": {"release": "prom"}},
                   "podMonitor": {"enabled": True, "interval": "15s"}},
}


def case_values():
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values:
        yaml.safe_dump(NON_DEFAULT, values)
        values.flush()
        objects = by_key(template("-f", values.name, release="prod", namespace="ml"))
    operator = objects.get(("Deployment", "prod-llmops-operator"))
    router = objects.get(("Deployment", "prod-llmops-router"))
    if not check(operator and router, f"release prod: names {sorted(objects)}"):
        return
    pod = operator["spec"]["template"]["spec"]
    container = pod["containers"][0]
    check(container["image"] == "registry.example:5000/team/llmops-operator:1.2.3@sha256:"
          + "a" * 64, f"operator image {container['image']}")
    check(router["spec"]["template"]["spec"]["containers"][0]["image"]
          == "registry.example:5000/team/llmops-router:1.2.3", "router image")
    check(operator["spec"]["replicas"] == 3, "operator replicas")
    check("--log-level=debug" in container["args"], f"log level: {container['args']}")
    check("--lease-name=prod-llmops-operator" in container["args"], "lease name")
    check(container["args"][-1] == "--workers=4", "operator extraArgs")
    check(pod["nodeSelector"] == {"llmops.dev/pool": "control"}, "operator nodeSelector")
    check(pod["tolerations"][0]["key"] == "dedicated", "operator tolerations")
    check(pod["imagePullSecrets"] == [{"name": "regcred"}], "pull secrets")
    check(container["resources"]["requests"]["cpu"] == "250m", "operator resources")
    check("podAntiAffinity" in pod["affinity"], "operator keeps its default anti-affinity")
    router_pod = router["spec"]["template"]["spec"]
    check(list(router_pod["affinity"]) == ["nodeAffinity"], "router affinity replaced")
    role = objects.get(("Role", "prod-llmops-operator-leader-election"))
    if check(role, "leader-election Role"):
        check(role["rules"][1]["resourceNames"] == ["prod-llmops-operator"], "Lease name in Role")
        check(role["metadata"]["namespace"] == "ml", "Role in the release namespace")
    binding = objects.get(("ClusterRoleBinding", "prod-llmops-router"))
    if check(binding, "router ClusterRoleBinding"):
        check(binding["subjects"] == [{"kind": "ServiceAccount", "name": "prod-llmops-router",
                                       "namespace": "ml"}], "router binding subject")
    service = objects.get(("Service", "prod-llmops-router"))
    if check(service, "router Service"):
        check(service["spec"]["type"] == "NodePort", "service type")
        check(service["spec"]["ports"][0]["port"] == 8000, "service port")
        check(service["spec"]["selector"] == router["spec"]["selector"]["matchLabels"],
              "the Service selects the router pods")
    check(("PodDisruptionBudget", "prod-llmops-router") not in objects,
          "no PDB for a single router replica")
    pdb = objects.get(("PodDisruptionBudget", "prod-llmops-operator"))
    if check(pdb, "operator PDB"):
        check(pdb["spec"]["selector"]["matchLabels"] == operator["spec"]["selector"]["matchLabels"],
              "operator PDB selects the operator pods")
    monitor = objects.get(("ServiceMonitor", "prod-llmops-router"))
    if check(monitor, "ServiceMonitor"):
        check(monitor["metadata"]["labels"].get("release") == "prom", "ServiceMonitor labels")
        labels = service["metadata"]["labels"]
        check(labels | monitor["spec"]["selector"]["matchLabels"] == labels,
              "ServiceMonitor selects the Service")
        check(monitor["spec"]["endpoints"][0]["port"] == "metrics", "ServiceMonitor port")
    pod_monitor = objects.get(("PodMonitor", "prod-llmops-operator"))
    if check(pod_monitor, "operator PodMonitor"):
        check(pod_monitor["spec"]["podMetricsEndpoints"][0]["interval"] == "15s", "interval")
    check(("PodMonitor", "prod-llmops-runtime") in objects, "runtime PodMonitor")

    # Leader election off, one replica: no Role, no --leader-elect.
    objects = by_key(template("--set", "operator.leaderElection=false",
                              "--set", "operator.replicaCount=1"))
    args = objects[("Deployment", "llmops-operator")]["spec"]["template"]["spec"][
        "containers"][0]["args"]
    check("--leader-elect" not in args, f"leaderElection=false still elects: {args}")
    check(("Role", "llmops-operator-leader-election") not in objects, "Role without election")
    check(("PodDisruptionBudget", "llmops-operator") not in objects, "PDB for one replica")
    check(("ServiceMonitor", "llmops-router") not in objects, "monitors are off by default")
    check(("Lease", "llmops-operator") not in objects, "a Lease without leader election")

    # bindPodIP: both programs listen on $(POD_IP) from the downward API.
    objects = by_key(template("--set", "bindPodIP=true"))
    for name, listen in (("llmops-operator", "--health-addr=$(POD_IP):8081"),
                         ("llmops-router", "$(POD_IP):8080")):
        container = objects[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]
        check(listen in container["args"], f"{name} bindPodIP args: {container['args']}")
        check({"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
              in container["env"], f"{name} POD_IP env: {container.get('env')}")


# (values, words the error must contain). Each is rejected by helm template (schema or the
# chart's own fail) with a message that names the value.
BAD_VALUES = [
    (["--set", "operator.replicaCount=-1"], ["/operator/replicaCount", "minimum"]),
    (["--set", "router.replicaCount=two"], ["/router/replicaCount", "integer"]),
    (["--set", "operator.logLevel=verbose"], ["/operator/logLevel", "must be one of"]),
    (["--set", "router.service.port=70000"], ["/router/service/port", "maximum"]),
    (["--set", "image.digest.operator=sha256:abc"], ["/image/digest/operator"]),
    (["--set", "image.registry=https://registry.example"], ["/image/registry"]),
    (["--set", "image.pullPolicy=Sometimes"], ["/image/pullPolicy"]),
    (["--set", "operator.replicas=3"], ["replicas"]),  # a typo: additional property
    (["--set", "monitoring.podMonitor.interval=often"], ["/monitoring/podMonitor/interval"]),
    (["--set-json", 'operator.resources={"requests":{"cpu":"lots"}}'],
     ["/operator/resources/requests/cpu"]),
    (["--set", "operator.leaderElection=false"], ["operator.leaderElection"]),
]


def case_schema():
    for args, words in BAD_VALUES:
        result = helm("template", "llmops", CHART, "--namespace", NAMESPACE, *args)
        message = result.stderr.strip()
        if not check(result.returncode != 0, f"helm template {' '.join(args)} was accepted"):
            continue
        check(all(w in message for w in words),
              f"helm template {' '.join(args)}: message lacks {words}: {message}")
        lines = [line for line in message.splitlines() if any(w in line for w in words)]
        print(f"rejected {' '.join(args)}: {(lines or [message])[-1][:160]}")


def case_install():
    with open(os.path.join(REPO, "crds", "llmdeployment.yaml")) as f:
        crd = f.read()
    with open(os.path.join(CHART, "crds", "llmdeployment.yaml")) as f:
        check(f.read() == crd, "charts/llmops/crds/llmdeployment.yaml is not a copy of "
                               "crds/llmdeployment.yaml: run scripts/gen-install.sh")
    with tempfile.TemporaryDirectory() as tmp:
        fresh = os.path.join(tmp, "install.yaml")
        result = run([os.path.join(REPO, "scripts", "gen-install.sh"), "-o", fresh],
                     env=dict(os.environ))
        if not check(result.returncode == 0, f"gen-install.sh: {result.stderr}"):
            return
        with open(fresh) as f:
            wanted = f.read()
        committed_path = os.path.join(REPO, "dist", "install.yaml")
        committed = open(committed_path).read() if os.path.exists(committed_path) else ""
        check(committed == wanted, "dist/install.yaml differs from what scripts/gen-install.sh "
                                   "writes: run scripts/gen-install.sh and commit the result")
        objects = [d for d in yaml.safe_load_all(wanted) if d]
        kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
        check(("Namespace", NAMESPACE) in kinds, "install.yaml creates llmops-system")
        check(("CustomResourceDefinition", "llmdeployments.llmops.dev") in kinds,
              "install.yaml has the CRD")
        check(objects[0]["kind"] == "Namespace" and objects[1]["kind"] ==
              "CustomResourceDefinition", "install.yaml: the Namespace and the CRD come first")
        check(all(o["metadata"].get("labels", {}).get("app.kubernetes.io/managed-by") != "Helm"
                  for o in objects), "install.yaml objects are not managed by Helm")


CASES = {"lint": case_lint, "base": case_base, "values": case_values, "schema": case_schema,
         "install": case_install}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(CASES)}")
    try:
        CASES[sys.argv[1]]()
    except AssertionError as error:
        failures.append(str(error))
    for failure in failures:
        print("FAIL " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
