"""A fresh llmops-devcluster for one manifests test: its own temp dir, port 0, kubectl
against its kubeconfig, and cleanup that prints the logs when the test failed.
Environment: DEVCLUSTER_BIN, OPERATOR_BIN (run for image llmops-operator unless a case
asks for the kubelet's built-in mapping)."""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402
from harness import Failure, tail  # noqa: E402,F401
from harness.cases import run_cases  # noqa: E402

MANIFESTS = os.path.join(harness.ROOT, "manifests")
wait_for = harness.waiter(60.0, 0.2)


class Devcluster(harness.Devcluster):
    def __init__(self, name, image_map=True):
        self.dir = tempfile.mkdtemp(prefix=f"manifests-{name}.")
        flags = []
        if image_map:  # else the kubelet's built-in mapping: ../operator/ beside the devcluster
            flags = ["--image-map", "llmops-operator=" + os.environ["OPERATOR_BIN"]]
        super().__init__(os.path.join(self.dir, "data"), flags,
                         log=os.path.join(self.dir, "devcluster.log"),
                         home=os.path.join(self.dir, "home"))
        self.kubectl.timeout = 90
        self.start(timeout=30)

    def get_json(self, *args):
        return self.kubectl.get_json(*args)

    def install(self):
        """kubectl apply -k manifests/overlays/devcluster, then waits for the CRD."""
        result = self.kubectl("apply", "-k", os.path.join(MANIFESTS, "overlays", "devcluster"))
        self.kubectl("wait", "--for", "condition=established", "--timeout=60s",
                     "crd/llmdeployments.llmops.dev")
        return result

    def close(self, ok):
        self.stop(timeout=30, must_exit=False)
        if not ok:
            print("--- devcluster.log (tail)\n" + tail(self.log_path))
            pods = os.path.join(self.data, "pods")
            for root, _, files in os.walk(pods):
                for name in files:
                    if name.endswith(".log"):
                        print(f"--- {os.path.relpath(os.path.join(root, name), self.data)}\n"
                              + tail(os.path.join(root, name)))
        shutil.rmtree(self.dir, ignore_errors=True)


def run(cases, builtin_images=()):
    """Runs the case named by argv[1] (every case when none); exit status 1 on failure.
    Cases named in builtin_images start the devcluster without --image-map."""
    run_cases(cases, lambda name: Devcluster(name, image_map=name not in builtin_images),
              lambda cluster, ok: cluster.close(ok))
