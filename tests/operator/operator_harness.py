"""Processes for the operator integration tests: llmops-devcluster on a fresh data dir,
operators as child processes with their logs in files, kubectl, a TCP proxy that can cut
or refuse connections, and polling helpers. Standard library only.

With LLMOPS_TEST_BACKEND=real the cluster is the real control plane in $REAL_CLUSTER_DIR
(scripts/real_cluster.py): stop()/start() restart its kube-apiserver, and what a case
created in the namespace default is deleted when it ends."""

import base64
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402
from harness import Failure, real_cluster  # noqa: E402
from harness.cases import run_cases  # noqa: E402

DEVCLUSTER_BIN = os.environ["DEVCLUSTER_BIN"]
OPERATOR_BIN = os.environ["OPERATOR_BIN"]
TEST_OPERATOR_BIN = os.environ["TEST_OPERATOR_BIN"]
CRDS_DIR = os.environ["CRDS_DIR"]


wait_for = harness.waiter(20.0, 0.1)


class Workspace:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="operator-it-")
        self.processes = []
        self.clusters = []
        os.environ["HOME"] = os.path.join(self.dir, "home")  # kubectl's cache
        os.makedirs(os.environ["HOME"], exist_ok=True)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def cleanup(self, ok):
        for process in self.processes:
            process.kill()
        for cluster in self.clusters:
            cluster.clean()
        if not ok:
            for name in sorted(os.listdir(self.dir)):
                if name.endswith(".log"):
                    print(f"--- {name} (last 40 lines)")
                    with open(self.path(name), errors="replace") as log:
                        print("".join(log.readlines()[-40:]))
        shutil.rmtree(self.dir, ignore_errors=True)


class Process:
    def __init__(self, workspace, name, argv):
        self.name = name
        self.argv = argv
        self.log_path = workspace.path(name + ".log")
        self.log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        workspace.processes.append(self)

    def text(self):
        with open(self.log_path, errors="replace") as log:
            return log.read()

    def lines(self, pattern):
        return [line for line in self.text().splitlines() if re.search(pattern, line)]

    def wait_log(self, pattern, timeout=20.0):
        return wait_for(f"{self.name} to log /{pattern}/", lambda: self.lines(pattern), timeout)

    def signal(self, sig):
        if self.popen.poll() is None:
            self.popen.send_signal(sig)

    def wait_exit(self, timeout=20.0):
        return self.popen.wait(timeout)

    def kill(self):
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


class Devcluster:
    """The cluster of a case: a devcluster, or with LLMOPS_TEST_BACKEND=real the real
    control plane (for the main cluster of a case; others stay devclusters). `extra` flags
    are the devcluster's; the real one has none (watch history, bookmarks are its own)."""

    def __init__(self, workspace, name="devcluster", extra=()):
        self.workspace = workspace
        self.name = name
        self.data = workspace.path(name + "-data")
        self.process = None
        self.real = real_cluster.RealCluster() if (
            name == "devcluster" and real_cluster.selected()) else None
        self.server = None if self.real else harness.Devcluster(
            self.data, extra, binary=DEVCLUSTER_BIN, log=workspace.path(name + ".log"),
            spawn=self._spawn, home=os.environ["HOME"])
        self.kubectl = harness.Kubectl(self.kubeconfig,
                                       self.real.kubectl_bin if self.real else "kubectl")
        workspace.clusters.append(self)
        self.start()

    def clean(self):
        """What a case left in the real cluster: LLMDeployments, Leases, Events in default."""
        if self.real:
            self.kubectl("delete", "llmd,leases,events", "--all", "-n", "default", "--wait=true",
                         "--timeout=60s", check=False)
            # Their pods go through the garbage collector and the kubelet's grace period.
            self.kubectl("wait", "--for=delete", "pods", "-l", "llmops.dev/deployment",
                         "-n", "default", "--timeout=55s", check=False)

    def start(self):
        if self.real:
            if not os.path.exists(os.path.join(self.real.dir, "pids", "kube-apiserver.pid")):
                self.real.start_component("kube-apiserver")
            self.real.wait_ready()
            self.port = self.real.port
            return
        self.port = self.server.start(timeout=20.0).port

    def _spawn(self, argv):
        self.process = Process(self.workspace, self.name, argv)
        return self.process.popen

    def stop(self):
        if self.real:
            self.real.stop_component("kube-apiserver")
            return
        self.server.stop(timeout=20.0)

    @property
    def kubeconfig(self):
        return self.real.kubeconfig if self.real else os.path.join(self.data, "kubeconfig")

    def get_json(self, *args):
        return self.kubectl.get_json(*args)

    def install_crds(self):
        self.kubectl("apply", "-f", CRDS_DIR)
        self.kubectl("wait", "--for=condition=Established",
                     "crd/llmdeployments.llmops.dev", "--timeout=20s")

    def access_log(self):
        """The devcluster's requests; None on the real control plane (no such log)."""
        return None if self.real else self.server.access_log()

    def kubeconfig_via(self, port, path):
        """A copy of the kubeconfig pointing at 127.0.0.1:port (a proxy)."""
        with open(self.kubeconfig) as f:
            text = f.read()
        text = re.sub(r"server: https://127\.0\.0\.1:\d+", f"server: https://127.0.0.1:{port}", text)
        with open(path, "w") as f:
            f.write(text)
        return path

    def kubeconfig_with_ca(self, ca_pem, path):
        with open(self.kubeconfig) as f:
            text = f.read()
        encoded = base64.b64encode(ca_pem).decode()
        text = re.sub(r"certificate-authority-data: \S+", f"certificate-authority-data: {encoded}", text)
        with open(path, "w") as f:
            f.write(text)
        return path


def llmd(name, replicas=1, labels=None):
    return json.dumps({
        "apiVersion": "llmops.dev/v1alpha1", "kind": "LLMDeployment",
        "metadata": {"name": name, "namespace": "default", "labels": labels or {}},
        "spec": {"replicas": replicas,
                 "model": {"name": name, "uri": "file:///models/" + name + ".gguf"},
                 "runtime": {"image": "registry.example/llmops-runtime:0.1.0"}}})


def start_operator(workspace, name, kubeconfig, *extra, binary=None):
    argv = [binary or TEST_OPERATOR_BIN, "--kubeconfig", kubeconfig,
            "--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0", *extra]
    return Process(workspace, name, argv)


def served_port(process):
    line = process.wait_log(r"event=serving what=metrics")[0]
    return int(re.search(r"address=[\d.]+:(\d+)", line).group(1))


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def observed_generation(cluster, name):
    obj = cluster.get_json("llmd", name)
    if obj is None:
        return None
    return obj.get("status", {}).get("observedGeneration"), obj["metadata"]["generation"]


def converged(cluster, name):
    state = observed_generation(cluster, name)
    return state is not None and state[0] == state[1]


class Proxy:
    """Forwards 127.0.0.1:<port> to a target port. cut() resets every open connection;
    refuse(True) closes new connections at once (the API server looks down)."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.connections = []
        self.refusing = False
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                refusing = self.refusing
                self.accepted += 1
            if refusing:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a, b):
        sockets = [a, b]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 1.0)
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        raise OSError("closed")
                    (b if s is a else a).sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            for s in sockets:
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self):
        with self.lock:
            connections, self.connections = self.connections, []
        for client, upstream in connections:
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def refuse(self, value):
        with self.lock:
            self.refusing = value


def run(cases):
    """Runs the case named by argv[1] (all when none) and exits non-zero on failure."""
    run_cases(cases, lambda name: Workspace(), lambda workspace, ok: workspace.cleanup(ok))
