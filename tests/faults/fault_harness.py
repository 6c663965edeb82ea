"""The fault suite's world: llmops-devcluster (the API server, plus the kubelet that runs
the runtime pods), llmops-operator and llmops-router as processes, some of them inside
network namespaces so that their links can be cut and healed.

Network: a bridge in the host namespace carries 127.213.N.1/24 (N chosen per test run);
each namespace gets a veth on it with 127.213.N.k. The API server listens on the bridge
address, so host processes and namespaced ones reach it the same way. A partition is an
iptables DROP in the namespace's OUTPUT chain (packets vanish, as on a cut link: TCP
retransmits until it gives up), removed to heal. Loopback-range addresses only, as the
devcluster's pods use: 127/8 is routed across the veth with route_localnet.

The kernel does not forward traffic from a namespace to the host's own loopback
addresses, where the devcluster's pods listen, so a namespaced router reaches pods
through a relay (tcp_relay.py): inside the namespace it listens on each pod's IP and port,
on the host it connects to the pod; cutting the relay's hop for one pod is a partition
between the router and that pod only.

Backends: LLMOPS_TEST_BACKEND=devcluster (default). With `real`, the tests that need no
namespace run against the control plane in $REAL_CLUSTER_DIR (scripts/real-cluster.sh up
DIR); the others are skipped with a message (see README "Reliability").
Standard library only (Debian's /usr/bin/python3)."""
import fcntl
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("LLMOPS_BUILD", os.path.join(ROOT, "build"))
DEVCLUSTER = os.path.join(BUILD, "devcluster", "llmops-devcluster")
OPERATOR = os.path.join(BUILD, "operator", "llmops-operator")
ROUTER = os.path.join(BUILD, "router", "llmops-router")
RUNTIME = os.path.join(BUILD, "node-runtime", "llmops-runtime")
RELAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tcp_relay.py")
NAME = "storyteller"
SKIP = 77  # ctest SKIP_RETURN_CODE


def backend():
    value = os.environ.get("LLMOPS_TEST_BACKEND", "devcluster")
    if value not in ("devcluster", "real"):
        raise SystemExit(f"LLMOPS_TEST_BACKEND must be devcluster or real, not {value!r}")
    return value


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def run(*argv, check=True, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {result.stderr.strip() or result.stdout.strip()}")
    return result


def wait(what, predicate, timeout, interval=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- network

class Fabric:
    """A bridge with 127.213.N.1/24 and namespaces attached to it. N is taken under a lock
    file, so that fault tests running side by side never share addresses or names."""

    def __init__(self):
        if os.geteuid() != 0:
            skip("network namespaces need root")
        if not shutil.which("ip") or not shutil.which("iptables"):
            skip("iproute2 and iptables are needed")
        self.lock = open("/tmp/llmops-faults.lock", "a+")
        self.index = None
        for n in range(10, 250):
            name = f"llf{n}br"
            if not os.path.exists(f"/sys/class/net/{name}"):
                fcntl.flock(self.lock, fcntl.LOCK_EX)
                try:
                    if os.path.exists(f"/sys/class/net/{name}"):
                        continue
                    run("ip", "link", "add", name, "type", "bridge")
                    self.index = n
                    break
                finally:
                    fcntl.flock(self.lock, fcntl.LOCK_UN)
        if self.index is None:
            raise RuntimeError("no free 127.213.N.0/24 for a fault fabric")
        self.bridge = f"llf{self.index}br"
        self.host_ip = f"127.213.{self.index}.1"
        run("ip", "addr", "add", f"{self.host_ip}/24", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        run("sysctl", "-qw", f"net.ipv4.conf.{self.bridge}.route_localnet=1")
        self.namespaces = []

    def namespace(self, role):
        ns = Namespace(self, len(self.namespaces) + 2, role)
        self.namespaces.append(ns)
        return ns

    def close(self):
        for ns in self.namespaces:
            ns.close()
        run("ip", "link", "del", self.bridge, check=False)


class Namespace:
    def __init__(self, fabric, k, role):
        self.fabric = fabric
        self.name = f"llf{fabric.index}-{role}"
        self.ip = f"127.213.{fabric.index}.{k}"
        host_end, ns_end = f"llf{fabric.index}h{k}", f"llf{fabric.index}n{k}"
        run("ip", "netns", "add", self.name)
        run("ip", "link", "add", host_end, "type", "veth", "peer", "name", ns_end)
        run("ip", "link", "set", host_end, "master", fabric.bridge)
        run("ip", "link", "set", host_end, "up")
        run("ip", "link", "set", ns_end, "netns", self.name)
        for command in (["ip", "link", "set", "lo", "up"],
                        ["sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1"],
                        ["sysctl", "-qw", f"net.ipv4.conf.{ns_end}.route_localnet=1"],
                        ["ip", "addr", "add", f"{self.ip}/24", "dev", ns_end],
                        ["ip", "link", "set", ns_end, "up"]):
            run(*self.prefix(), *command)
        self.host_end = host_end
        self.cuts = []

    def prefix(self):
        return ["ip", "netns", "exec", self.name]

    def cut(self, ip, port=None):
        """Drops every packet between this namespace and ip[:port], both ways."""
        out = ["OUTPUT", "-d", f"{ip}/32", "-p", "tcp"] + (["--dport", str(port)] if port else [])
        back = ["INPUT", "-s", f"{ip}/32", "-p", "tcp"] + (["--sport", str(port)] if port else [])
        for rule in (out, back):
            run(*self.prefix(), "iptables", "-A", *rule, "-j", "DROP")
            self.cuts.append(rule)

    def heal(self):
        for rule in self.cuts:
            run(*self.prefix(), "iptables", "-D", *rule, "-j", "DROP", check=False)
        self.cuts = []

    def close(self):
        run("ip", "netns", "del", self.name, check=False)
        run("ip", "link", "del", self.host_end, check=False)


# ---------------------------------------------------------------- processes

class Process:
    def __init__(self, name, argv, work, ns=None):
        self.name, self.argv, self.work, self.ns = name, argv, work, ns
        self.log_path = os.path.join(work, f"{name}.log")
        self.process = None
        self.start()

    def start(self):
        log = open(self.log_path, "ab")
        argv = (self.ns.prefix() if self.ns else []) + self.argv
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def kill(self, sig=signal.SIGKILL):
        if self.process and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def stop(self):
        self.kill(signal.SIGTERM)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


class Cluster:
    """llmops-devcluster on the fabric's bridge address (or on 127.0.0.1 without one)."""

    def __init__(self, work, fabric=None, flags=()):
        self.work = work
        self.data = os.path.join(work, "cluster")
        self.kubeconfig = os.path.join(self.data, "kubeconfig")
        self.host = fabric.host_ip if fabric else "127.0.0.1"
        self.flags = list(flags)
        self.port = 0
        self.server = None
        self.processes = []
        try:
            self.start()
            self.kubectl("apply", "-f", os.path.join(ROOT, "crds", "llmdeployment.yaml"))
            self.kubectl("wait", "--for", "condition=established", "--timeout=60s",
                         "crd/llmdeployments.llmops.dev")
            self.kubectl("create", "namespace", "llmops-system")
        except BaseException:
            self.close()
            raise

    def start(self):
        port_file = os.path.join(self.data, "port")
        old = os.stat(port_file).st_ino if os.path.exists(port_file) else None
        self.server = Process("devcluster", [DEVCLUSTER, "--listen", f"{self.host}:{self.port}",
                                             "--data-dir", self.data, "--restart-backoff-seconds", "1",
                                             *self.flags], self.work)
        wait("the devcluster to listen",
             lambda: os.path.exists(port_file) and os.stat(port_file).st_ino != old, 60)
        self.port = int(open(port_file).read())
        wait("the devcluster to answer", lambda: self.kubectl("get", "--raw", "/readyz",
                                                              check=False) == "ok", 30)

    def kill9_and_restart(self):
        self.server.kill()
        self.start()

    def spawn(self, name, argv, ns=None):
        process = Process(name, argv, self.work, ns)
        self.processes.append(process)
        return process

    def kubectl(self, *args, check=True, stdin=None):
        result = subprocess.run(["kubectl", "--kubeconfig", self.kubeconfig, *args], input=stdin,
                                capture_output=True, text=True, timeout=60,
                                env=dict(os.environ, HOME=self.work))
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout if result.returncode == 0 else None

    def get(self, *args):
        out = self.kubectl("get", *args, "-o", "json", check=False)
        return json.loads(out) if out else None

    def deployment(self):
        return self.get("llmd", NAME) or {}

    def pods(self):
        items = (self.get("pods", "-l", "llmops.dev/deployment") or {}).get("items", [])
        return [p for p in items if not p["metadata"].get("deletionTimestamp")]

    def access_log(self):
        entries = []
        with open(os.path.join(self.data, "access.log"), errors="replace") as f:
            for line in f:
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    pass
        return entries

    def close(self):
        for process in reversed(self.processes):
            process.stop()
        if self.server:
            self.server.stop()


def make_models(work):
    models = os.path.join(work, "models")
    os.makedirs(models, exist_ok=True)
    for version, seed in (("v1", 1), ("v2", 2), ("v3", 3)):
        subprocess.run([RUNTIME, "make-model", "--dim", "64", "--hidden", "128", "--layers", "2",
                        "--heads", "4", "--context", "256", "--out",
                        os.path.join(models, f"{version}.gguf"), "--seed", str(seed)],
                       check=True, capture_output=True)
    return models


def llmd(models, steps, replicas=2, deadline=120):
    return {"apiVersion": "llmops.dev/v1alpha1", "kind": "LLMDeployment",
            "metadata": {"name": NAME, "namespace": "default"},
            "spec": {"replicas": replicas,
                     "model": {"name": NAME, "uri": f"file://{models}/v1.gguf"},
                     "runtime": {"image": "llmops-runtime", "threads": 1, "numa": "none",
                                 "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}},
                     "rollout": {"steps": steps, "progressDeadlineSeconds": deadline}}}


def current(d):
    return d.get("status", {}).get("observedGeneration") == d.get("metadata", {}).get("generation")


def healthy_on(revision, replicas=2):
    def check(d):
        s = d.get("status", {})
        return (current(d) and s.get("phase") == "Healthy" and s.get("stableRevision") == revision
                and not s.get("canaryRevision") and s.get("readyReplicas", 0) >= replicas)
    return check


def operator_argv(cluster, *flags):
    return [OPERATOR, "--kubeconfig", cluster.kubeconfig,
            "--metrics-addr", "0", "--health-addr", "0",
            "--scale-down-delay-seconds", "3", *flags]


def no_duplicate_pods(cluster, revision, replicas):
    """Exactly `replicas` live pods of `revision` once settled, each name once, and no
    pod of another revision left."""
    pods = cluster.pods()
    names = [p["metadata"]["name"] for p in pods]
    assert len(names) == len(set(names)), names
    revisions = [p["metadata"]["labels"].get("llmops.dev/revision") for p in pods]
    return revisions.count(str(revision)) == replicas and len(revisions) == replicas


class Clients:
    """Clients sending completions through a router, counting outcomes by revision."""

    def __init__(self, host, port, clients=2):
        self.host, self.port = host, port
        self.lock = threading.Lock()
        self.ok = {}
        self.log = []  # (time, revision)
        self.failures = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(clients)]
        for t in self.threads:
            t.start()

    def run(self, client):
        n = 0
        while not self.stopping.is_set():
            stream = (client + n) % 2 == 0
            body = {"model": NAME, "prompt": "Once upon a time", "max_tokens": 8, "stream": stream}
            revision, error = None, None
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                conn.request("POST", "/v1/completions", json.dumps(body),
                             {"Content-Type": "application/json"})
                response = conn.getresponse()
                data = response.read()
                revision = response.getheader("x-llmops-revision")
                if response.status != 200:
                    error = f"HTTP {response.status}: {data[:200]!r}"
                elif stream and (not data.rstrip().endswith(b"data: [DONE]") or b'"error"' in data):
                    error = f"incomplete stream: {data[-200:]!r}"
                conn.close()
            except (OSError, http.client.HTTPException) as e:
                error = repr(e)
            with self.lock:
                if error:
                    self.failures.append((time.time(), error))
                else:
                    self.ok[revision] = self.ok.get(revision, 0) + 1
                    self.log.append((time.time(), revision))
            n += 1
            time.sleep(0.05)

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=70)
        with self.lock:
            return sum(self.ok.values()), list(self.failures)


def metrics_text(host, port):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/metrics")
    return conn.getresponse().read().decode()


def metric_sum(text, name, **labels):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main(cases):
    """usage: faults_test.py CASE; runs it in a fresh work directory, cleans up."""
    case = sys.argv[1]
    work = tempfile.mkdtemp(prefix=f"faults-{case}.")
    ok = False
    try:
        cases[case](work)
        ok = True
    finally:
        if not ok:
            for name in sorted(os.listdir(work)):
                if name.endswith(".log"):
                    text = open(os.path.join(work, name), errors="replace").read()
                    print(f"--- {name} (tail)\n{text[-4000:]}", file=sys.stderr)
        if ok or not os.environ.get("LLMOPS_KEEP_WORK"):
            subprocess.run(["rm", "-rf", work])
        else:
            print(f"kept {work} (LLMOPS_KEEP_WORK)", file=sys.stderr)
    print("PASS")
