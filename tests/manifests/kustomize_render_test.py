"""`kubectl kustomize` renders every kustomization under manifests/ (and crds/), and the
renders hold what the install promises: the base has the restricted, leader-electing
operator and the router with their RBAC; the devcluster overlay has only kinds
llmops-devcluster serves; the real-cluster overlay is the base (RBAC identical) with
processes bound to their pod IP. No server needed. Usage: kustomize_render_test.py KUBECTL"""

import os
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
DEVCLUSTER_GROUPS = {"v1", "apiextensions.k8s.io/v1", "coordination.k8s.io/v1",
                     "discovery.k8s.io/v1", "events.k8s.io/v1"}
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def render(kubectl, directory):
    result = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True,
                            timeout=120)
    if not check(result.returncode == 0,
                 f"kubectl kustomize {directory}: {result.stderr.strip()}"):
        return []
    check("Warning" not in result.stderr, f"{directory}: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def find(objects, kind, name):
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    failures.append(f"no {kind} {name}")
    return None


def check_restricted(where, pod_spec):
    pod = pod_spec.get("securityContext", {})
    check(pod.get("runAsNonRoot") is True, f"{where}: pod runAsNonRoot")
    for container in pod_spec["containers"]:
        context = container.get("securityContext", {})
        name = f"{where}/{container['name']}"
        check(context.get("readOnlyRootFilesystem") is True, f"{name}: readOnlyRootFilesystem")
        check(context.get("allowPrivilegeEscalation") is False, f"{name}: allowPrivilegeEscalation")
        check(context.get("capabilities", {}).get("drop") == ["ALL"], f"{name}: drop ALL")
        seccomp = context.get("seccompProfile") or pod.get("seccompProfile") or {}
        check(seccomp.get("type") == "RuntimeDefault", f"{name}: seccompProfile RuntimeDefault")
        check(context.get("runAsNonRoot", pod.get("runAsNonRoot")) is True, f"{name}: runAsNonRoot")
        check("requests" in container.get("resources", {}), f"{name}: resource requests")


def check_base(objects):
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for wanted in [("Namespace", "llmops-system"),
                   ("CustomResourceDefinition", "llmdeployments.llmops.dev"),
                   ("ServiceAccount", "llmops-operator"), ("ServiceAccount", "llmops-router"),
                   ("ClusterRole", "llmops-operator"), ("ClusterRoleBinding", "llmops-operator"),
                   ("Role", "llmops-operator-leader-election"),
                   ("RoleBinding", "llmops-operator-leader-election"),
                   ("ClusterRole", "llmops-router"), ("ClusterRoleBinding", "llmops-router"),
                   ("Deployment", "llmops-operator"), ("Deployment", "llmops-router"),
                   ("Service", "llmops-router"), ("PodDisruptionBudget", "llmops-operator"),
                   ("PodDisruptionBudget", "llmops-router")]:
        check(wanted in kinds, f"base: missing {wanted[0]} {wanted[1]}")
    with open(os.path.join(REPO, "crds", "llmdeployment.yaml")) as f:
        crd = yaml.safe_load(f)
    rendered_crd = find(objects, "CustomResourceDefinition", "llmdeployments.llmops.dev")
    if rendered_crd:
        check(rendered_crd["spec"] == crd["spec"], "base: the CRD's spec differs from crds/")
    for obj in objects:
        if obj["kind"] not in ("Namespace", "CustomResourceDefinition", "ClusterRole",
                               "ClusterRoleBinding"):
            check(obj["metadata"].get("namespace") == "llmops-system",
                  f"base: {obj['kind']} {obj['metadata']['name']} outside llmops-system")
    operator = find(objects, "Deployment", "llmops-operator")
    if operator:
        check(operator["spec"]["replicas"] == 2, "operator: 2 replicas")
        pod = operator["spec"]["template"]["spec"]
        check(pod.get("serviceAccountName") == "llmops-operator", "operator: service account")
        container = pod["containers"][0]
        check(container["image"] == "llmops-operator", "operator: image llmops-operator")
        check("--leader-elect" in container["args"], "operator: --leader-elect")
        check(container["livenessProbe"]["httpGet"]["path"] == "/healthz", "operator: /healthz")
        check(container["readinessProbe"]["httpGet"]["path"] == "/readyz", "operator: /readyz")
        check(any(p["name"] == "metrics" for p in container["ports"]), "operator: metrics port")
        check_restricted("operator", pod)
    router = find(objects, "Deployment", "llmops-router")
    if router:
        pod = router["spec"]["template"]["spec"]
        check(pod.get("serviceAccountName") == "llmops-router", "router: service account")
        container = pod["containers"][0]
        check(container["image"] == "llmops-router", "router: image llmops-router")
        check(container["args"] == ["--listen", "0.0.0.0:8080", "--in-cluster",
                                    "--metrics-addr", "0.0.0.0:9090"], "router: args")
        check_restricted("router", pod)
    for pdb in ("llmops-operator", "llmops-router"):
        budget = find(objects, "PodDisruptionBudget", pdb)
        deployment = find(objects, "Deployment", pdb)
        if budget and deployment:
            check(budget["spec"]["selector"]["matchLabels"]
                  == deployment["spec"]["selector"]["matchLabels"], f"{pdb}: PDB selector")
    service = find(objects, "Service", "llmops-router")
    if service and router:
        check(service["spec"]["selector"] == router["spec"]["selector"]["matchLabels"],
              "router Service selects the router pods")


def check_devcluster(objects):
    for obj in objects:
        check(obj["apiVersion"] in DEVCLUSTER_GROUPS,
              f"devcluster overlay: {obj['apiVersion']} {obj['kind']} is not served there")
    for name, account in (("llmops-operator-0", "llmops-operator"),
                          ("llmops-router-0", "llmops-router")):
        pod = find(objects, "Pod", name)
        if pod:
            check(pod["spec"]["serviceAccountName"] == account, f"{name}: service account")
            check_restricted(name, pod["spec"])
    operator = find(objects, "Pod", "llmops-operator-0")
    if operator:
        args = operator["spec"]["containers"][0]["args"]
        check("--leader-elect" in args, "devcluster operator: --leader-elect")
        check("--kubeconfig=../../kubeconfig" in args, "devcluster operator: its kubeconfig")


def check_real_cluster(objects, base):
    """The base as it is, but for the pod-IP binding: same objects, same RBAC."""
    key = lambda o: (o["kind"], o["metadata"]["name"])
    rendered = {key(o): o for o in objects}
    check(set(rendered) == {key(o) for o in base}, "real-cluster overlay: not the base's objects")
    for obj in base:
        if obj["kind"] in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                           "ServiceAccount", "Namespace", "CustomResourceDefinition"):
            check(rendered.get(key(obj)) == obj,
                  f"real-cluster overlay: {obj['kind']} {obj['metadata']['name']} differs from the base")
    for name in ("llmops-operator", "llmops-router"):
        deployment = rendered.get(("Deployment", name))
        if not check(deployment is not None, f"real-cluster overlay: no Deployment {name}"):
            continue
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        check(not any("0.0.0.0" in arg for arg in container["args"]),
              f"real-cluster {name}: binds 0.0.0.0: {container['args']}")
        check(any(e["name"] == "POD_IP" and e["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
                  for e in container.get("env", [])), f"real-cluster {name}: POD_IP")
        check_restricted(f"real-cluster {name}", pod)


def main():
    kubectl = sys.argv[1]
    roots = []
    for top in ("manifests", "crds"):
        for directory, _, files in os.walk(os.path.join(REPO, top)):
            if any(name in files for name in KUSTOMIZATION_FILES):
                roots.append(directory)
    check(len(roots) >= 3, f"expected the crds, base and devcluster kustomizations: {roots}")
    base = render(kubectl, os.path.join(REPO, "manifests", "base"))
    for root in sorted(roots):
        objects = render(kubectl, root)
        relative = os.path.relpath(root, REPO)
        print(f"rendered {relative}: {len(objects)} objects")
        if relative == os.path.join("manifests", "base"):
            check_base(objects)
        elif relative == os.path.join("manifests", "overlays", "devcluster"):
            check_devcluster(objects)
        elif relative == os.path.join("manifests", "overlays", "real-cluster"):
            check_real_cluster(objects, base)
    for failure in failures:
        print("FAIL " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
