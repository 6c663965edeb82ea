#!/usr/bin/python3
"""The llmops demo on one machine: llmops-devcluster, llmops-operator and llmops-router as
local processes, the sample manifests/samples/demo.yaml applied with kubectl, clients
sending requests through the router the whole time, then

  act 1: a canary of a second model version, walked through its steps and promoted;
  act 2: a canary of a version failing half its requests (--inject-error-rate 0.5 in its
         runtime args), rolled back by the analysis,

with a live view of replicas, weights, analysis and what the clients got. Everything
stays up for you to explore with kubectl afterwards (`scripts/demo.sh stop` ends it).

usage: scripts/demo.py [--ci] [--work /tmp/llmops-demo]   |   scripts/demo.py stop
  --ci: stop everything at the end; exit 1 unless both acts end as expected with zero
        failed client requests (the e2e test runs this).
Standard library only; run with Debian's /usr/bin/python3.
"""
import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("LLMOPS_BUILD", os.path.join(ROOT, "build"))
RUNTIME = os.path.join(BUILD, "node-runtime", "llmops-runtime")
SAMPLE = os.path.join(ROOT, "manifests", "samples", "demo.yaml")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import real_cluster  # noqa: E402
NAME = "storyteller"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """llmops-devcluster started in WORK/cluster, or with LLMOPS_TEST_BACKEND=real (the e2e
    tests on the real control plane) the one in $REAL_CLUSTER_DIR; the operator and the
    router run as local processes either way."""

    def __init__(self, work):
        self.work = work
        self.real = real_cluster.RealCluster() if real_cluster.selected() else None
        self.data = os.path.join(work, "cluster")
        self.kubeconfig = self.real.kubeconfig if self.real else os.path.join(self.data, "kubeconfig")
        self.kubectl_bin = self.real.kubectl_bin if self.real else "kubectl"
        self.pids_file = os.path.join(work, "pids")

    def kubectl(self, *args, check=True, stdin=None):
        env = dict(os.environ, HOME=self.work)
        env.pop("KUBECONFIG", None)
        result = subprocess.run([self.kubectl_bin, "--kubeconfig", self.kubeconfig, *args], input=stdin,
                                capture_output=True, text=True, env=env, timeout=60)
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def spawn(self, name, argv):
        log = open(os.path.join(self.work, f"{name}.log"), "ab")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        with open(self.pids_file, "a") as f:
            f.write(f"{name} {process.pid}\n")
        return process

    def start(self, router_port, router_metrics_port, operator_flags=()):
        if not self.real:
            port_file = os.path.join(self.data, "port")
            if os.path.exists(port_file):
                os.unlink(port_file)
            self.spawn("devcluster", [os.path.join(BUILD, "devcluster", "llmops-devcluster"),
                                      "--listen", "127.0.0.1:0", "--data-dir", self.data])
            wait("the devcluster", lambda: os.path.exists(port_file) and os.path.exists(self.kubeconfig), 30)
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
        wait("the LLMDeployment's pods gone", lambda: not self.kubectl(
            "get", "pods", "-n", "default", "-l", "llmops.dev/deployment", "-o", "name",
            check=False).strip(), 120)

    def restart_operator(self):
        """kill -9 the operator and start a new one: it must resume from status alone."""
        self.operator.send_signal(signal.SIGKILL)
        self.operator.wait()
        self.operator = self.spawn("operator", self.operator_argv)

    def deployment(self):
        out = self.kubectl("get", "llmd", NAME, "-o", "json", check=False)
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


def wait(what, predicate, timeout, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


class Clients:
    """A few clients sending completions through the router, streamed and not, counting
    outcomes by the revision that served them."""

    def __init__(self, port, clients=3, host="127.0.0.1"):
        self.port = port
        self.host = host
        self.lock = threading.Lock()
        self.ok = {}
        self.failed = 0
        self.failures = []
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
            body = {"model": NAME, "prompt": "Once upon a time", "max_tokens": 12, "stream": stream}
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
                else:
                    self.ok[revision] = self.ok.get(revision, 0) + 1
                    self.recent.append((time.time(), revision))
                    self.log.append((time.time(), revision))
            n += 1
            time.sleep(0.02)

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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", nargs="?", default="run", choices=["run", "stop"])
    parser.add_argument("--ci", action="store_true")
    parser.add_argument("--work", default="/tmp/llmops-demo")
    args = parser.parse_args()
    if args.command == "stop":
        print("stopped" if stop(args.work) else "no demo running in " + args.work)
        return 0
    if args.work != "/tmp/llmops-demo":
        sys.exit("the sample names /tmp/llmops-demo/models/; keep --work at its default")
    stop(args.work)  # a previous run
    subprocess.run(["rm", "-rf", os.path.join(args.work, "cluster")], check=True)
    models = os.path.join(args.work, "models")
    os.makedirs(models, exist_ok=True)
    for version, seed in (("v1", 1), ("v2", 2)):
        path = os.path.join(models, f"story-{version}.gguf")
        subprocess.run([RUNTIME, "make-model", "--dim", "64", "--hidden", "128", "--layers", "2",
                        "--heads", "4", "--context", "256", "--out", path, "--seed", str(seed)],
                       check=True, capture_output=True)

    cluster = Cluster(args.work)
    router_port, router_metrics_port = free_port(), free_port()
    clients = None
    ok = False
    try:
        cluster.start(router_port, router_metrics_port)
        started = time.time()
        print(f"devcluster, operator and router are up; kubectl --kubeconfig {cluster.kubeconfig}")
        print(f"$ kubectl apply -f manifests/samples/demo.yaml", flush=True)
        cluster.kubectl("apply", "-f", SAMPLE)
        watch(cluster, _NoClients(), started, "replicas of revision 1 starting",
              lambda d: current(d) and d["status"].get("phase") == "Healthy" and
              d["status"].get("readyReplicas", 0) >= d["spec"]["replicas"], 120)
        wait("the router to route", lambda: _router_ready(router_port), 30)
        clients = Clients(router_port)

        print(f"\n$ kubectl patch llmd {NAME} --type merge -p "
              "'{\"spec\":{\"model\":{\"uri\":\"file:///tmp/llmops-demo/models/story-v2.gguf\"}}}'")
        cluster.kubectl("patch", "llmd", NAME, "--type", "merge", "-p", json.dumps(
            {"spec": {"model": {"uri": f"file://{models}/story-v2.gguf"}}}))
        d = watch(cluster, clients, started, "act 1: canary of story-v2, promoted step by step",
                  lambda d: current(d) and d["status"].get("stableRevision") == 2 and
                  not d["status"].get("canaryRevision") and d["status"].get("phase") == "Healthy", 180)
        promoted_ok = clients.ok.get("2", 0) > 0

        print(f"\n$ kubectl patch llmd {NAME} --type merge -p "
              "'{\"spec\":{\"runtime\":{\"args\":[\"--inject-error-rate\",\"0.5\"]}}}'")
        cluster.kubectl("patch", "llmd", NAME, "--type", "merge", "-p", json.dumps(
            {"spec": {"runtime": {"args": ["--inject-error-rate", "0.5"]}}}))
        d = watch(cluster, clients, started,
                  "act 2: canary of a version failing half its requests, rolled back by the analysis",
                  lambda d: current(d) and d["status"].get("phase") == "Degraded" and
                  d["status"].get("stableRevision") == 2 and
                  all(t.get("revision") == 2 or t.get("weight") == 0 for t in d["status"].get("traffic", [])), 180)
        reason = condition(d, "Degraded")
        print(f"Degraded: {reason.get('reason')}: {reason.get('message')}")
        time.sleep(2)
        clients.stop()
        total, failed = clients.totals()
        print(f"\nclients: {total} requests served ({clients.ok}), {failed} failed")
        for failure in clients.failures[:5]:
            print("  failure:", failure)
        print("\n" + cluster.kubectl("get", "llmd,pods", "-o", "wide"))
        ok = failed == 0 and promoted_ok and reason.get("reason") == "AnalysisFailed"
        if not args.ci:
            print(f"""Everything is still running. Explore:
  export KUBECONFIG={cluster.kubeconfig}
  kubectl get llmd {NAME} -o yaml          # status: revisions, traffic, analysis, conditions
  kubectl describe llmd {NAME}             # events of every transition
  kubectl get pods -L llmops.dev/revision,llmops.dev/track
  curl -s localhost:{router_port}/v1/completions -d '{{"model": "{NAME}", "prompt": "Once"}}' -i
  curl -s localhost:{router_metrics_port}/metrics | grep llmops_router_
  kubectl patch llmd {NAME} --type json -p '[{{"op": "remove", "path": "/spec/runtime/args"}}]'
                                            # back to the promoted revision: Healthy again
Logs: {args.work}/*.log.  Stop everything: scripts/demo.sh stop""")
        return 0 if ok else 1
    except BaseException as error:
        print(f"demo failed: {error}", file=sys.stderr)
        for name in ("operator", "router", "devcluster"):
            path = os.path.join(args.work, f"{name}.log")
            if os.path.exists(path):
                print(f"--- {path} (tail)", file=sys.stderr)
                print(open(path, errors="replace").read()[-4000:], file=sys.stderr)
        return 1
    finally:
        if clients:
            clients.stop()
        if args.ci or not ok:
            stop(args.work)


class _NoClients:
    ok = {}

    def totals(self):
        return 0, 0

    def split(self):
        return ""


def _router_ready(port, host="127.0.0.1"):
    try:
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("POST", "/v1/completions", json.dumps({"model": NAME, "prompt": "x", "max_tokens": 1}))
        return conn.getresponse().status == 200
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
