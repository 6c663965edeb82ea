"""The real control plane of scripts/real-cluster.sh as the Python test harnesses see it.

A harness runs against llmops-devcluster by default; with LLMOPS_TEST_BACKEND=real it uses
the control plane already running in $REAL_CLUSTER_DIR (the ctest fixture
real_control_plane starts one per ctest run) instead of starting a devcluster.
Standard library only."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "real-cluster.sh")
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness.kubectl import Kubectl  # noqa: E402
from harness.wait import wait_for  # noqa: E402


def selected():
    """True when the tests should run against the real control plane."""
    backend = os.environ.get("LLMOPS_TEST_BACKEND", "devcluster")
    if backend not in ("devcluster", "real"):
        raise SystemExit(f"LLMOPS_TEST_BACKEND must be devcluster or real, not {backend!r}")
    return backend == "real"


class RealCluster:
    """kubectl against the running control plane, and restarts of its components."""

    def __init__(self, directory=None, home=None):
        self.dir = directory or os.environ.get("REAL_CLUSTER_DIR", "")
        env_file = os.path.join(self.dir, "env")
        if not self.dir or not os.path.exists(env_file):
            raise RuntimeError(f"no real control plane in {self.dir!r}: run "
                               "`scripts/real-cluster.sh up DIR` and set REAL_CLUSTER_DIR=DIR")
        values = {}
        with open(env_file) as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                values[key] = value
        self.kubeconfig = values["KUBECONFIG"]
        self.kubectl_bin = values["KUBECTL"]
        self.port = int(values["APISERVER_PORT"])
        self.node = values["NODE_NAME"]
        self.version = values["KUBE_VERSION"]
        self.home = home  # kubectl's discovery cache; None: the caller's $HOME

    def kubectl(self, *args, check=True, input=None, timeout=120):
        """The CompletedProcess of kubectl against it (tests/harness's wrapper)."""
        return Kubectl(self.kubeconfig, self.kubectl_bin, home=self.home)(
            *args, check=check, input=input, timeout=timeout)

    def get_json(self, *args):
        result = self.kubectl("get", *args, "-o", "json", check=False)
        return json.loads(result.stdout) if result.returncode == 0 else None

    def stop_component(self, name):
        subprocess.run([SCRIPT, "stop", self.dir, name], check=True, timeout=60)

    def start_component(self, name):
        subprocess.run([SCRIPT, "start", self.dir, name], check=True, timeout=60)

    def wait_ready(self, timeout=120):
        """Until /readyz answers (after an apiserver restart)."""
        wait_for("the apiserver to be ready", lambda: self.kubectl(
            "get", "--raw", "/readyz", check=False, timeout=10).returncode == 0, timeout, 0.5)

    def delete_and_wait(self, *args, timeout=120):
        """kubectl delete ARGS --wait: the objects and, through the garbage collector and
        the kubelet, everything they own are gone when it returns."""
        self.kubectl("delete", *args, "--ignore-not-found", "--wait=true",
                     f"--timeout={timeout}s", timeout=timeout + 30)
