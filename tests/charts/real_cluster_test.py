"""The Helm chart on the real control plane (kube-apiserver, etcd, controller-manager and
scheduler from their Go modules, llmops-devcluster's process kubelet as the node): the
ctest fixture real_control_plane, or any `scripts/real-cluster.sh up DIR`.

  real_cluster_test.py dryrun     the chart rendered with default and non-default values,
                                  and dist/install.yaml, pass `kubectl apply
                                  --dry-run=server` (the real apiserver's validation)
  real_cluster_test.py monitors   the ServiceMonitor and PodMonitors pass a server-side dry
                                  run once the Prometheus Operator's own CRDs (from its Go
                                  module, tools/prometheus-operator) are applied, and a bad
                                  one does not
  real_cluster_test.py lifecycle  helm install with invalid values fails with the schema's
                                  message; helm install --wait (the chart's images run by
                                  our kubelet as the built programs); an LLMDeployment
                                  whose canary waits at a pause and is promoted, answering
                                  through the router; helm upgrade with new values; helm
                                  uninstall leaves nothing but the CRD

Environment: REAL_CLUSTER_DIR (its env file names KUBECONFIG and KUBECTL), HELM (the
helm to run: scripts/helm.sh), LLMOPS_BUILD (the build tree: node-runtime/llmops-runtime
makes the test models). Objects go into namespaces of their own (llmops-helm*), deleted
at the end.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHART = os.path.join(REPO, "charts", "llmops")
sys.path.insert(0, os.path.join(REPO, "tests"))
from harness import Failure, Kubectl, waiter  # noqa: E402
RELEASE = "helm-test"
NAMESPACE = "llmops-helm"           # the release's
APPS = "llmops-helm-apps"           # the LLMDeployment's
CRD = "llmdeployments.llmops.dev"
FULLNAME = f"{RELEASE}-llmops"
MONITOR_CRDS = ("monitoring.coreos.com_servicemonitors.yaml",
                "monitoring.coreos.com_podmonitors.yaml")


wait = waiter(None, 0.5)


class Cluster:
    def __init__(self, work):
        directory = os.environ.get("REAL_CLUSTER_DIR", "")
        env_file = os.path.join(directory, "env")
        if not os.path.exists(env_file):
            raise Failure(f"no real control plane in {directory!r} (REAL_CLUSTER_DIR): "
                          "scripts/real-cluster.sh up DIR starts one")
        values = dict(line.strip().split("=", 1) for line in open(env_file) if "=" in line)
        self.kubeconfig, self.kubectl_bin = values["KUBECONFIG"], values["KUBECTL"]
        # The helm binary itself, found with the caller's HOME (scripts/helm.sh caches it
        # there), before HOME moves to the test's folder.
        self.helm_bin = subprocess.run([os.environ["HELM"], "--path"], capture_output=True,
                                       text=True, check=True, timeout=3000).stdout.strip()
        self.env = dict(os.environ, HOME=os.path.join(work, "home"))
        self.env.pop("KUBECONFIG", None)
        os.makedirs(self.env["HOME"], exist_ok=True)

        self.kubectl = Kubectl(self.kubeconfig, self.kubectl_bin, home=self.env["HOME"],
                               timeout=180)

    def helm(self, *args, check=True, timeout=600):
        result = subprocess.run([self.helm_bin, "--kubeconfig", self.kubeconfig, *args],
                                capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and result.returncode != 0:
            raise Failure(f"helm {' '.join(args)} exited {result.returncode}: "
                          f"{result.stderr.strip()[-3000:]}")
        return result

    def get(self, *args):
        result = self.kubectl("get", *args, "-o", "json", check=False)
        return json.loads(result.stdout) if result.returncode == 0 else None

    def ensure_namespace(self, name, restricted=False):
        """Creates NAME; True when this call created it (so the caller deletes it). A
        restricted one enforces (and warns about) the Pod Security Standard "restricted"."""
        if self.get("namespace", name):
            return False
        self.kubectl("create", "namespace", name)
        if restricted:
            self.kubectl("label", "namespace", name, "pod-security.kubernetes.io/enforce=restricted",
                         "pod-security.kubernetes.io/warn=restricted")
        return True

    def delete_namespace(self, name):
        self.kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=true",
                     "--timeout=180s", check=False, timeout=240)


def render(cluster, *args, namespace=NAMESPACE, release=RELEASE):
    return cluster.helm("template", release, CHART, "--namespace", namespace, *args).stdout


def dry_run(cluster, manifest, what):
    result = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=manifest, check=False)
    if result.returncode != 0:
        raise Failure(f"{what}: kubectl apply --dry-run=server: {result.stderr.strip()[:3000]}")
    if "PodSecurity" in result.stderr:
        raise Failure(f"{what}: Pod Security warnings: {result.stderr.strip()[:2000]}")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    print(f"{what}: {len(lines)} objects accepted by the apiserver (server dry run)")
    return lines


# --- dryrun -----------------------------------------------------------------------------

NON_DEFAULT = {
    "image": {"registry": "registry.example/llmops", "tag": "1.2.3",
              "digest": {"operator": "sha256:" + "b" * 64}, "pullSecrets": ["regcred"]},
    "bindPodIP": True,
    "operator": {"replicaCount": 3, "logLevel": "debug", "extraArgs": ["--workers=4"],
                 "nodeSelector": {"kubernetes.io/os": "linux"},
                 "tolerations": [{"key": "dedicated", "operator": "Exists",
                                  "effect": "NoSchedule"}],
                 "podDisruptionBudget": {"enabled": True, "minAvailable": "50%"}},
    "router": {"replicaCount": 1, "service": {"port": 8000, "type": "NodePort"},
               "affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                   {"weight": 1, "preference": {"matchExpressions": [
                       {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}}]}}},
    "aggregateUserRoles": False,
}


def case_dryrun(cluster, work):
    created = [ns for ns in (NAMESPACE, "llmops-system")
               if cluster.ensure_namespace(ns, restricted=True)]
    try:
        dry_run(cluster, render(cluster, "--include-crds"), "chart, default values")
        values = os.path.join(work, "values.yaml")
        with open(values, "w") as f:
            yaml.safe_dump(NON_DEFAULT, f)
        dry_run(cluster, render(cluster, "-f", values), "chart, non-default values")
        with open(os.path.join(REPO, "dist", "install.yaml")) as f:
            dry_run(cluster, f.read(), "dist/install.yaml")
        # The apiserver does reject what is wrong: a bad object fails the same dry run.
        broken = render(cluster).replace("minAvailable: 1", "minAvailable: -1", 1)
        result = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=broken,
                                 check=False)
        if result.returncode == 0:
            raise Failure("a PodDisruptionBudget with minAvailable -1 passed the dry run")
    finally:
        for namespace in created:
            cluster.delete_namespace(namespace)


# --- monitors ---------------------------------------------------------------------------

def prometheus_operator_dir():
    """The pinned Prometheus Operator module, from the Go module proxy (verified by
    tools/prometheus-operator/go.sum), in the module cache."""
    result = subprocess.run(["go", "mod", "download", "-json",
                             "github.com/prometheus-operator/prometheus-operator"],
                            cwd=os.path.join(REPO, "tools", "prometheus-operator"),
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise Failure(f"go mod download (Prometheus Operator): {result.stderr.strip()}")
    info = json.loads(result.stdout)
    print(f"Prometheus Operator CRDs from {info['Path']} {info['Version']}")
    return os.path.join(info["Dir"], "example", "prometheus-operator-crd")


def case_monitors(cluster, work):
    crd_dir = prometheus_operator_dir()
    created = cluster.ensure_namespace(NAMESPACE)
    applied = []
    try:
        for name in MONITOR_CRDS:
            # Server-side: these CRDs exceed the annotation client-side apply would write.
            cluster.kubectl("apply", "--server-side", "-f", os.path.join(crd_dir, name))
            applied.append(os.path.join(crd_dir, name))
        for crd in ("servicemonitors.monitoring.coreos.com", "podmonitors.monitoring.coreos.com"):
            cluster.kubectl("wait", "--for=condition=established", "--timeout=60s", f"crd/{crd}")
        manifest = render(cluster, "--set", "monitoring.serviceMonitor.enabled=true",
                          "--set", "monitoring.podMonitor.enabled=true",
                          "--set", "monitoring.serviceMonitor.labels.release=prometheus",
                          "--show-only", "templates/servicemonitor.yaml",
                          "--show-only", "templates/podmonitor.yaml")
        kinds = sorted(d["kind"] for d in yaml.safe_load_all(manifest) if d)
        if kinds != ["PodMonitor", "PodMonitor", "ServiceMonitor"]:
            raise Failure(f"monitors rendered: {kinds}")
        dry_run(cluster, manifest, "ServiceMonitor and PodMonitors")
        bad = manifest.replace("interval: 30s", "interval: often", 1)
        result = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=bad, check=False)
        if result.returncode == 0 or "interval" not in result.stderr:
            raise Failure(f"a monitor with interval 'often' was not rejected: {result.stderr}")
        print("a monitor with interval 'often' is rejected by the Prometheus Operator's CRD")
    finally:
        for path in applied:
            cluster.kubectl("delete", "-f", path, "--ignore-not-found", "--wait=true",
                            check=False)
        if created:
            cluster.delete_namespace(NAMESPACE)


# --- lifecycle --------------------------------------------------------------------------

def make_models(work):
    runtime = os.path.join(os.environ["LLMOPS_BUILD"], "node-runtime", "llmops-runtime")
    models = os.path.join(work, "models")
    os.makedirs(models)
    for version, seed in (("v1", 1), ("v2", 2)):
        subprocess.run([runtime, "make-model", "--dim", "64", "--hidden", "128", "--layers", "2",
                        "--heads", "4", "--context", "256", "--seed", str(seed),
                        "--out", os.path.join(models, f"{version}.gguf")],
                       check=True, capture_output=True, timeout=120)
    os.chmod(work, 0o755)  # the runtime pods read the models
    return models


def llmdeployment(models, version):
    return {"apiVersion": "llmops.dev/v1alpha1", "kind": "LLMDeployment",
            "metadata": {"name": "stories", "namespace": APPS},
            "spec": {"replicas": 1,
                     "model": {"name": "stories", "uri": f"file://{models}/{version}.gguf"},
                     "runtime": {"image": "llmops-runtime:0.1.0", "threads": 1, "numa": "none",
                                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                     "rollout": {"steps": [{"setWeight": 50}, {"pause": {}}],
                                 "progressDeadlineSeconds": 180}}}


def status(cluster):
    return (cluster.get("llmd", "stories", "-n", APPS) or {}).get("status", {})


def release_objects(cluster):
    """Everything labelled as part of the release, by kind/name, in any namespace."""
    kinds = ("deployments,replicasets,pods,services,serviceaccounts,roles,rolebindings,"
             "poddisruptionbudgets,leases,configmaps")
    selector = f"app.kubernetes.io/instance={RELEASE}"
    names = cluster.kubectl("get", kinds, "-A", "-l", selector, "-o", "name").stdout.split()
    names += cluster.kubectl("get", "clusterroles,clusterrolebindings", "-l", selector,
                             "-o", "name").stdout.split()
    return sorted(names)


def deployment_args(cluster, name):
    d = cluster.get("deployment", name, "-n", NAMESPACE)
    return d["spec"]["template"]["spec"]["containers"][0]["args"], d


def complete_through_router(cluster):
    pods = cluster.get("pods", "-n", NAMESPACE, "-l", "app.kubernetes.io/name=llmops-router")
    ready = [p for p in pods["items"] if any(c["type"] == "Ready" and c["status"] == "True"
                                             for c in p["status"].get("conditions", []))]
    if not ready:
        raise Failure("no ready router pod")
    address = f"http://{ready[0]['status']['podIP']}:8080/v1/completions"
    body = json.dumps({"model": "stories", "prompt": "Once", "max_tokens": 4,
                       "temperature": 0}).encode()
    request = urllib.request.Request(address, data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.headers.get("x-llmops-revision")


def case_lifecycle(cluster, work):
    models = make_models(work)
    # Helm installs the CRD from crds/ only when it is missing: start without it, unless
    # LLMDeployments of someone else would go with it.
    crd_from_helm = True
    if cluster.get("crd", CRD):
        others = cluster.get("llmd", "-A") or {"items": []}
        if others["items"]:
            crd_from_helm = False
            print(f"the CRD stays: {len(others['items'])} LLMDeployments exist")
        else:
            cluster.kubectl("delete", "crd", CRD, "--wait=true", "--timeout=120s")
    cluster.ensure_namespace(NAMESPACE, restricted=True)  # pods admitted as "restricted"
    try:
        # Bad values fail before anything reaches the cluster, with the schema's message.
        for args, words in ((["--set", "operator.replicaCount=-1"], "/operator/replicaCount"),
                            (["--set", "operator.logLevel=verbose"], "/operator/logLevel")):
            result = cluster.helm("install", RELEASE, CHART, "-n", NAMESPACE, *args, check=False)
            if result.returncode == 0 or words not in result.stderr:
                raise Failure(f"helm install {' '.join(args)}: exit {result.returncode}, "
                              f"{result.stderr.strip()}")
            print(f"helm install {' '.join(args)} refused: {result.stderr.strip().splitlines()[-1]}")
        if cluster.helm("status", RELEASE, "-n", NAMESPACE, check=False).returncode == 0:
            raise Failure("a release exists after the refused installs")

        started = time.monotonic()
        install = cluster.helm("install", RELEASE, CHART, "-n", NAMESPACE, "--set",
                               "bindPodIP=true", "--wait", "--timeout", "5m")
        if "kubectl apply -f -" not in install.stdout:
            raise Failure(f"NOTES do not show how to apply an LLMDeployment: {install.stdout}")
        print(f"helm install --wait: {time.monotonic() - started:.0f}s")
        crd = cluster.get("crd", CRD)
        if not crd:
            raise Failure("no CRD after helm install")
        if crd_from_helm:
            print("the CRD was installed by helm from the chart's crds/")
        for component in ("operator", "router"):
            _, d = deployment_args(cluster, f"{FULLNAME}-{component}")
            if d["status"].get("availableReplicas") != 2:
                raise Failure(f"{component}: {d['status']}")
        print(cluster.kubectl("get", "deploy,pods,lease", "-n", NAMESPACE, "-o", "wide").stdout)

        # A canary that waits for approval at a pause, then is promoted.
        cluster.ensure_namespace(APPS)
        cluster.kubectl("apply", "-f", "-", input=json.dumps(llmdeployment(models, "v1")))
        wait("revision 1 Healthy", lambda: status(cluster).get("phase") == "Healthy" and
             status(cluster).get("readyReplicas", 0) >= 1, 240)
        wait("the router to serve revision 1", lambda: _answers(cluster, "1"), 90)
        cluster.kubectl("apply", "-f", "-", input=json.dumps(llmdeployment(models, "v2")))
        wait("the canary paused at 50%", lambda: status(cluster).get("canaryRevision") == 2 and
             status(cluster).get("canaryWeight") == 50 and
             status(cluster).get("phase") == "Paused", 240)
        print("canary revision 2 at 50%, waiting for promote")
        cluster.kubectl("patch", "llmd", "stories", "-n", APPS, "--type", "merge", "-p",
                        json.dumps({"spec": {"rollout": {"promote": {"revision": 2}}}}))
        wait("revision 2 promoted", lambda: status(cluster).get("stableRevision") == 2 and
             not status(cluster).get("canaryRevision") and
             status(cluster).get("phase") == "Healthy", 240)
        wait("the router to serve revision 2 only", lambda: _answers(cluster, "2"), 90)
        print("promoted: revision 2 is stable and answers through the router")

        # helm upgrade with new values.
        cluster.helm("upgrade", RELEASE, CHART, "-n", NAMESPACE, "--reuse-values", "--set",
                     "operator.logLevel=debug", "--set", "router.replicaCount=1", "--wait",
                     "--timeout", "5m")
        args, _ = deployment_args(cluster, f"{FULLNAME}-operator")
        if "--log-level=debug" not in args:
            raise Failure(f"upgrade: operator args {args}")
        _, router = deployment_args(cluster, f"{FULLNAME}-router")
        if router["spec"]["replicas"] != 1:
            raise Failure(f"upgrade: router replicas {router['spec']['replicas']}")
        if cluster.get("pdb", f"{FULLNAME}-router", "-n", NAMESPACE):
            raise Failure("upgrade: the router's PDB stayed with one replica")
        wait("the upgraded operator to roll out", lambda: cluster.kubectl(
            "rollout", "status", f"deployment/{FULLNAME}-operator", "-n", NAMESPACE,
            "--timeout=5s", check=False).returncode == 0, 240)
        cluster.kubectl("scale", "llmd", "stories", "-n", APPS, "--replicas=2")
        wait("the upgraded operator to scale to 2", lambda: status(cluster).get(
            "readyReplicas") == 2, 240)
        history = cluster.helm("history", RELEASE, "-n", NAMESPACE, "-o", "json").stdout
        print(f"helm upgrade: revision {json.loads(history)[-1]['revision']}, operator "
              "--log-level=debug, router 1 replica (no PDB), the operator still reconciles")

        # Uninstall: LLMDeployments first (their pods go through the garbage collector).
        cluster.kubectl("delete", "llmd", "stories", "-n", APPS, "--wait=true", "--timeout=180s")
        cluster.helm("uninstall", RELEASE, "-n", NAMESPACE, "--wait", "--timeout", "5m")
        try:
            wait("the release's objects to go", lambda: not release_objects(cluster), 180)
        except Failure:
            raise Failure(f"left after uninstall: {release_objects(cluster)}") from None
        if not cluster.get("crd", CRD):
            raise Failure("helm uninstall removed the CRD (Helm keeps crds/)")
        print("helm uninstall: nothing of the release left but the CRD")
    except Failure:
        print(cluster.kubectl("get", "all,llmd,lease", "-n", NAMESPACE, "-o", "wide",
                              check=False).stdout)
        print(cluster.kubectl("get", "all,llmd", "-n", APPS, "-o", "wide", check=False).stdout)
        for pod in (cluster.get("pods", "-n", NAMESPACE) or {"items": []})["items"]:
            print(f"--- logs {pod['metadata']['name']}")
            print(cluster.kubectl("logs", "-n", NAMESPACE, pod["metadata"]["name"],
                                  check=False).stdout[-3000:])
        raise
    finally:
        cluster.helm("uninstall", RELEASE, "-n", NAMESPACE, "--wait", check=False)
        cluster.delete_namespace(APPS)
        cluster.delete_namespace(NAMESPACE)


def _answers(cluster, revision):
    try:
        code, answered = complete_through_router(cluster)
        return code == 200 and answered == revision
    except (OSError, urllib.error.URLError, Failure):
        return False


CASES = {"dryrun": case_dryrun, "monitors": case_monitors, "lifecycle": case_lifecycle}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(CASES)}")
    work = tempfile.mkdtemp(prefix=f"chart-real-{sys.argv[1]}.")
    try:
        CASES[sys.argv[1]](Cluster(work), work)
    except (Failure, subprocess.SubprocessError) as error:
        print(f"FAIL {error}")
        sys.exit(1)
    finally:
        subprocess.run(["rm", "-rf", work])
    print("PASS")


if __name__ == "__main__":
    main()
