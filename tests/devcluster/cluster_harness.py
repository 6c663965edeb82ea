"""Helpers for the part-2 integration tests (nodes, scheduler, kubelet, endpoints): a
devcluster with the kubelet flags, kubectl against it, and polling with a deadline."""
import json
import os
import shutil
import tempfile
import urllib.request

import yaml

from devcluster_harness import Devcluster, harness

PYTHON = "/usr/bin/python3"


def cluster(*flags):
    """A devcluster that runs `python` images with /usr/bin/python3 and restarts fast; the
    real control plane instead with LLMOPS_TEST_BACKEND=real (its kubelet was started with
    those flags by the fixture)."""
    if os.environ.get("LLMOPS_TEST_BACKEND", "devcluster") == "real":
        return RealCluster()
    return Devcluster("--image-map", f"python={PYTHON}", "--restart-backoff-seconds", "1",
                      *flags)


class RealCluster:
    """The real control plane of $REAL_CLUSTER_DIR (LLMOPS_TEST_BACKEND=real) in the shape
    of a Devcluster for these helpers: kubeconfig, work, the kubectl to use, and close(),
    which deletes the pods and LLMDeployments a test made in the namespace default."""

    def __init__(self):
        self.real = harness.real_cluster.RealCluster()
        self.kubeconfig = self.real.kubeconfig
        self.work = tempfile.mkdtemp(prefix="real-cluster-py.")
        self.kubectl = harness.Kubectl(self.kubeconfig, self.real.kubectl_bin, home=self.work)

    def start(self):
        return self

    def close(self):
        kubectl(self, "delete", "llmd,pods", "--all", "-n", "default", "--wait=true",
                "--timeout=120s", check=False)
        shutil.rmtree(self.work, ignore_errors=True)


def kubectl(dc, *args, stdin=None, check=True):
    """kubectl's output; dc's discovery cache is its own (HOME=dc.work)."""
    return dc.kubectl.out(*args, input=stdin, check=check)


def apply(dc, objects):
    kubectl(dc, "apply", "-f", "-", stdin="---\n".join(yaml.safe_dump(o) for o in objects))


def get(dc, kind, name, namespace="default"):
    out = kubectl(dc, "-n", namespace, "get", kind, name, "-o", "json", check=False)
    return json.loads(out) if out.strip() else None


wait_for = harness.waiter(30.0, 0.2)


def pod_ready(pod):
    for condition in (pod or {}).get("status", {}).get("conditions", []):
        if condition["type"] == "Ready":
            return condition["status"] == "True"
    return False


def container_pid(pod, index=0):
    statuses = pod.get("status", {}).get("containerStatuses", [])
    container_id = statuses[index].get("containerID", "") if len(statuses) > index else ""
    return int(container_id[len("process://"):]) if container_id.startswith("process://") else None


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read().decode()


def python_server_pod(name, labels=None, workdir=None, readiness_path=None, liveness_path=None,
                      grace=5):
    """A pod serving HTTP with `python -m http.server` on its pod IP, port 8080."""
    container = {
        "name": "web",
        "image": "docker.io/library/python:3.12",
        "args": ["-u", "-m", "http.server", "8080", "--bind", "$(POD_IP)"],
        "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        "ports": [{"name": "http", "containerPort": 8080}],
    }
    if workdir:
        container["workingDir"] = workdir
    if readiness_path:
        container["readinessProbe"] = {"httpGet": {"path": readiness_path, "port": "http"},
                                       "periodSeconds": 1, "failureThreshold": 1}
    if liveness_path:
        container["livenessProbe"] = {"httpGet": {"path": liveness_path, "port": 8080},
                                      "periodSeconds": 1, "failureThreshold": 2}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": labels or {}},
            "spec": {"terminationGracePeriodSeconds": grace, "containers": [container]}}


def service(name, selector, target_port="http"):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"selector": selector,
                     "ports": [{"name": "http", "port": 80, "targetPort": target_port}]}}
