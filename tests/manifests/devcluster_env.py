"""A fresh llmops-devcluster for one manifests test: its own temp dir, port 0, kubectl
against its kubeconfig, and cleanup that prints the logs when the test failed.
Environment: DEVCLUSTER_BIN, OPERATOR_BIN (run for image llmops-operator unless a case
asks for the kubelet's built-in mapping)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MANIFESTS = os.path.join(REPO, "manifests")


class Failure(Exception):
    pass


def wait_for(what, condition, timeout=60.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class Devcluster:
    def __init__(self, name, image_map=True):
        self.dir = tempfile.mkdtemp(prefix=f"manifests-{name}.")
        self.data = os.path.join(self.dir, "data")
        self.home = os.path.join(self.dir, "home")  # kubectl's discovery cache
        os.makedirs(self.home)
        self.log_path = os.path.join(self.dir, "devcluster.log")
        argv = [os.environ["DEVCLUSTER_BIN"], "--listen", "127.0.0.1:0", "--data-dir", self.data]
        if image_map:  # else the kubelet's built-in mapping: ../operator/ beside the devcluster
            argv += ["--image-map", "llmops-operator=" + os.environ["OPERATOR_BIN"]]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        port_file = os.path.join(self.data, "port")

        def listening():
            if self.process.poll() is not None:
                raise Failure(f"llmops-devcluster exited: {self.tail(self.log_path)}")
            return os.path.exists(port_file)
        wait_for("llmops-devcluster to listen", listening, timeout=30)
        self.kubeconfig = os.path.join(self.data, "kubeconfig")
        self.access_log = os.path.join(self.data, "access.log")

    def kubectl(self, *args, check=True, input=None):
        env = dict(os.environ, HOME=self.home)
        env.pop("KUBECONFIG", None)
        result = subprocess.run(["kubectl", "--kubeconfig", self.kubeconfig, *args], env=env,
                                capture_output=True, text=True, input=input, timeout=90)
        if check and result.returncode != 0:
            raise Failure(f"kubectl {' '.join(args)} exited {result.returncode}: "
                          f"{result.stderr.strip()}")
        return result

    def get_json(self, *args):
        result = self.kubectl("get", *args, "-o", "json", check=False)
        return json.loads(result.stdout) if result.returncode == 0 else None

    def install(self):
        """kubectl apply -k manifests/overlays/devcluster, then waits for the CRD."""
        result = self.kubectl("apply", "-k", os.path.join(MANIFESTS, "overlays", "devcluster"))
        self.kubectl("wait", "--for", "condition=established", "--timeout=60s",
                     "crd/llmdeployments.llmops.dev")
        return result

    @staticmethod
    def tail(path, lines=40):
        try:
            with open(path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def close(self, ok):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not ok:
            print("--- devcluster.log (tail)\n" + self.tail(self.log_path))
            pods = os.path.join(self.data, "pods")
            for root, _, files in os.walk(pods):
                for name in files:
                    if name.endswith(".log"):
                        print(f"--- {os.path.relpath(os.path.join(root, name), self.data)}\n"
                              + self.tail(os.path.join(root, name)))
        shutil.rmtree(self.dir, ignore_errors=True)


def run(cases, builtin_images=()):
    """Runs the case named by argv[1] (every case when none); exit status 1 on failure.
    Cases named in builtin_images start the devcluster without --image-map."""
    names = sys.argv[1:] or list(cases)
    failed = False
    for name in names:
        cluster = Devcluster(name, image_map=name not in builtin_images)
        ok = False
        started = time.monotonic()
        try:
            cases[name](cluster)
            ok = True
            print(f"PASS {name} ({time.monotonic() - started:.1f}s)")
        except Exception as error:  # every failure is reported with the logs
            failed = True
            print(f"FAIL {name}: {error}")
        finally:
            cluster.close(ok)
    sys.exit(1 if failed else 0)
