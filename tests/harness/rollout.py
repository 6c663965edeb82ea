"""The rollout stack on one machine, shared by scripts/demo.py and the e2e tests: a
cluster (llmops-devcluster, or the real control plane) with llmops-operator and
llmops-router as local processes (Stack), clients sending completions through the router
the whole time (Clients), and a live view of an LLMDeployment while waiting for an
outcome (watch)."""
import http.client
import json
import os
import signal
import subprocess
import threading
import time

from .cluster import BUILD, ROOT, Devcluster, real_cluster
from .kubectl import Kubectl
from .ports import free_port
from .wait import wait_for

RUNTIME = os.path.join(BUILD, "node-runtime", "llmops-runtime")


def make_model(path, seed):
    """A small random model (llmops-runtime make-model) at path: seed 1 and 2 give the
    two versions the rollouts switch between."""
    subprocess.run([RUNTIME, "make-model", "--dim", "64", "--hidden", "128", "--layers", "2",
                    "--heads", "4", "--context", "256", "--out", path, "--seed", str(seed)],
                   check=True, capture_output=True)


class Stack:
    """llmops-devcluster started in WORK/cluster, or with LLMOPS_TEST_BACKEND=real (the e2e
    tests on the real control plane) the one in $REAL_CLUSTER_DIR; the operator and the
    router run as local processes either way, in their own sessions, their pids in
    WORK/pids for stop(WORK) and their logs in WORK/<process>.log. name: the
    LLMDeployment that deployment() reads."""

    def __init__(self, work, name):
        self.work = work
        self.name = name
        self.real = real_cluster.RealCluster() if real_cluster.selected() else None
        self.data = os.path.join(work, "cluster")
        self.devcluster = None if self.real else Devcluster(
            self.data, log=os.path.join(work, "devcluster.log"), home=work,
            spawn=lambda argv: self.spawn("devcluster", argv))
        self.kubeconfig = self.real.kubeconfig if self.real else self.devcluster.kubeconfig
        self._kubectl = Kubectl(self.kubeconfig, self.real.kubectl_bin if self.real else "kubectl",
                                home=work)
        self.pids_file = os.path.join(work, "pids")

    def kubectl(self, *args, check=True, stdin=None):
        """kubectl's output."""
        return self._kubectl.out(*args, check=check, input=stdin)

    def spawn(self, name, argv):
        log = open(os.path.join(self.work, f"{name}.log"), "ab")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        with open(self.pids_file, "a") as f:
            f.write(f"{name} {process.pid}\n")
        return process

    def start(self, router_port, router_metrics_port, operator_flags=()):
        if not self.real:
            self.devcluster.start(timeout=30)
        self.kubectl("apply", "-f", os.path.join(ROOT, "crds", "llmdeployment.yaml"))
        self.kubectl("wait", "--for", "condition=established", "--timeout=30s",
                     "crd/llmdeployments.llmops.dev")
        # Where the operator's Lease lives.
        self.kubectl("create", "namespace", "llmops-system", check=not self.real)
        self.spawn("router", [os.path.join(BUILD, "router", "llmops-router"),
                              "--listen", f"127.0.0.1:{router_port}", "--kubeconfig", self.kubeconfig,
                              "--metrics-addr", f"127.0.0.1:{router_metrics_port}"])
        self.operator_argv = [os.path.join(BUILD, "operator", "llmops-operator"),
                              "--kubeconfig", self.kubeconfig,
                              "--metrics-addr", f"127.0.0.1:{free_port()}",
                              "--health-addr", f"127.0.0.1:{free_port()}",
                              "--router-metrics-url",
                              f"http://127.0.0.1:{router_metrics_port}/metrics",
                              "--scale-down-delay-seconds", "5", *operator_flags]
        self.operator = self.spawn("operator", self.operator_argv)

    def clean(self):
        """On the real control plane: delete what the run made (the LLMDeployment, whose
        Pods and Service the garbage collector removes, and the operator's Lease) and wait
        until its pods are gone, so that the next test starts from an empty cluster."""
        if not self.real:
            return
        self.kubectl("delete", "llmd", "--all", "-n", "default", "--wait=true", "--timeout=90s",
                     check=False)
        self.kubectl("delete", "lease", "--all", "-n", "llmops-system", check=False)
        wait_for("the LLMDeployment's pods gone", lambda: not self.kubectl(
            "get", "pods", "-n", "default", "-l", "llmops.dev/deployment", "-o", "name",
            check=False).strip(), 120)

    def restart_operator(self):
        """kill -9 the operator and start a new one: it must resume from status alone."""
        self.operator.send_signal(signal.SIGKILL)
        self.operator.wait()
        self.operator = self.spawn("operator", self.operator_argv)

    def deployment(self):
        out = self.kubectl("get", "llmd", self.name, "-o", "json", check=False)
        return json.loads(out) if out.strip() else {}


def stop(work):
    pids_file = os.path.join(work, "pids")
    if not os.path.exists(pids_file):
        return False
    for line in reversed(open(pids_file).read().splitlines()):
        _name, pid = line.split()
        try:
            os.killpg(int(pid), signal.SIGTERM)
        except ProcessLookupError:
            pass
    for line in open(pids_file).read().splitlines():
        pid = int(line.split()[1])
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    os.unlink(pids_file)
    return True


class Clients:
    """A few clients sending completions through the router, streamed and not, counting
    outcomes by the revision that served them; each asks max_tokens and waits `pause`
    seconds between requests."""

    def __init__(self, port, model, clients=3, host="127.0.0.1", max_tokens=12, pause=0.02):
        self.port = port
        self.model = model
        self.host = host
        self.max_tokens = max_tokens
        self.pause = pause
        self.lock = threading.Lock()
        self.ok = {}
        self.failed = 0
        self.failures = []
        self.failed_at = []  # the time of each failure
        self.recent = []  # (time, revision), pruned by split()
        self.log = []  # (time, revision) of every success
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(clients)]
        for t in self.threads:
            t.start()

    def run(self, client):
        n = 0
        while not self.stopping.is_set():
            stream = (client + n) % 2 == 0
            body = {"model": self.model, "prompt": "Once upon a time", "max_tokens": self.max_tokens,
                    "stream": stream}
            revision, error = None, None
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                conn.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
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
                    self.failed += 1
                    self.failures.append(error)
                    self.failed_at.append(time.time())
                else:
                    self.ok[revision] = self.ok.get(revision, 0) + 1
                    self.recent.append((time.time(), revision))
                    self.log.append((time.time(), revision))
            n += 1
            time.sleep(self.pause)

    def split(self, seconds=3.0):
        """Share of each revision among the requests of the last `seconds`."""
        now = time.time()
        with self.lock:
            self.recent = [(t, r) for t, r in self.recent if now - t <= seconds]
            counts = {}
            for _, r in self.recent:
                counts[r] = counts.get(r, 0) + 1
        total = sum(counts.values()) or 1
        return " ".join(f"r{r} {100 * c / total:3.0f}%" for r, c in sorted(counts.items()))

    def totals(self):
        with self.lock:
            return sum(self.ok.values()), self.failed

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=70)


def view_line(started, d, clients):
    status = d.get("status", {})
    spec = d.get("spec", {})
    steps = spec.get("rollout", {}).get("steps", [])
    canary = status.get("canaryRevision")
    step = status.get("currentStep")
    parts = [f"[{time.time() - started:5.1f}s] {status.get('phase', '-'):11}",
             f"ready {status.get('readyReplicas', 0)}/{status.get('replicas', 0)}",
             f"stable r{status.get('stableRevision', '-')}"]
    if canary:
        parts.append(f"canary r{canary} weight {status.get('canaryWeight', 0):3}%"
                     + (f" step {step + 1}/{len(steps)}" if step is not None and step < len(steps) else ""))
    analysis = status.get("analysis") or {}
    samples = analysis.get("samples") or []
    if canary and samples:
        last = samples[-1]
        metrics = " ".join(f"{k}={v:.3g}" if isinstance(v, (int, float)) else f"{k}={v}"
                           for k, v in (last.get("metrics") or {}).items())
        parts.append(f"analysis {len(samples)} samples, last {last.get('verdict', '?')}: {metrics}")
    ok, failed = clients.totals()
    parts.append(f"| router split {clients.split() or '-'} | clients {ok} ok {failed} failed")
    return "  ".join(parts)


def watch(cluster, clients, started, what, done, timeout, interval=1.0):
    """Prints the live view about once a second until done(deployment) or timeout."""
    print(f"\n== {what}", flush=True)
    deadline = time.time() + timeout
    last_line = None
    while time.time() < deadline:
        d = cluster.deployment()
        line = view_line(started, d, clients)
        if line[9:] != (last_line or "")[9:]:
            print(line, flush=True)
            last_line = line
        if d and done(d):
            return d
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout}s: {what}")


def condition(d, kind):
    for c in d.get("status", {}).get("conditions", []):
        if c.get("type") == kind:
            return c
    return {}


def current(d):
    return d.get("status", {}).get("observedGeneration") == d.get("metadata", {}).get("generation")


class NoClients:
    """The live view's clients before any start."""

    ok = {}

    def totals(self):
        return 0, 0

    def split(self):
        return ""


def router_ready(port, model, host="127.0.0.1"):
    """True once the router answers a completion for model with 200."""
    try:
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("POST", "/v1/completions", json.dumps({"model": model, "prompt": "x", "max_tokens": 1}))
        return conn.getresponse().status == 200
    except OSError:
        return False
