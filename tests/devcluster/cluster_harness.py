"""Helpers for the part-2 integration tests (nodes, scheduler, kubelet, endpoints): a
devcluster with the kubelet flags, kubectl against it, and polling with a deadline."""
import json
import os
import subprocess
import time
import urllib.request

import yaml

from devcluster_harness import Devcluster

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
        import sys
        import tempfile
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), "scripts"))
        import real_cluster
        self.real = real_cluster.RealCluster()
        self.kubeconfig = self.real.kubeconfig
        self.kubectl_bin = self.real.kubectl_bin
        self.work = tempfile.mkdtemp(prefix="real-cluster-py.")

    def start(self):
        return self

    def close(self):
        import shutil
        kubectl(self, "delete", "llmd,pods", "--all", "-n", "default", "--wait=true",
                "--timeout=120s", check=False)
        shutil.rmtree(self.work, ignore_errors=True)


def kubectl(dc, *args, stdin=None, check=True):
    env = dict(os.environ, HOME=dc.work)  # kubectl's discovery cache: one per cluster
    env.pop("KUBECONFIG", None)
    binary = getattr(dc, "kubectl_bin", "kubectl")
    result = subprocess.run([binary, "--kubeconfig", dc.kubeconfig, *args], input=stdin,
                            capture_output=True, text=True, env=env, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def apply(dc, objects):
    kubectl(dc, "apply", "-f", "-", stdin="---\n".join(yaml.safe_dump(o) for o in objects))


def get(dc, kind, name, namespace="default"):
    out = kubectl(dc, "-n", namespace, "get", kind, name, "-o", "json", check=False)
    return json.loads(out) if out.strip() else None


def wait_for(what, predicate, timeout=30.0, interval=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


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
