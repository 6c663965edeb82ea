"""llmops-router with real llmops-runtime processes behind it, in static mode (a YAML file
the test rewrites) and in Kubernetes mode (LLMDeployments and runtime Pods on
llmops-devcluster, status.traffic patched by the test as the operator would).

usage: router_integration_test.py static|kube CASE
cases: split, sticky, weights_under_streams, pod_killed, pod_drained, canary_errors,
       openai_stream, first_byte_timeout
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests"))
from harness import free_port, waiter  # noqa: E402
RUNTIME = os.environ["RUNTIME_BIN"]
ROUTER = os.environ["ROUTER_BIN"]
MODEL = "story"


# ---------------------------------------------------------------- clients

class Result:
    def __init__(self, status, revision, body=b"", done=False, error=None):
        self.status, self.revision, self.body, self.done, self.error = status, revision, body, done, error

    @property
    def ok(self):
        return self.error is None and 200 <= self.status < 300

    def __repr__(self):
        return f"Result({self.status}, rev={self.revision}, error={self.error}, body={self.body[:200]!r})"


def request(port, body, headers=None, conn=None, timeout=60):
    """One completion; keeps `conn` alive for the next call when given."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/v1/completions", json.dumps(body),
                     {"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        done = b"data: [DONE]" in data if body.get("stream") else True
        if body.get("stream") and b'"error"' in data:
            done = False
        return Result(response.status, response.getheader("x-llmops-revision"), data, done)
    except (OSError, http.client.HTTPException) as error:
        conn.close()
        return Result(0, None, error=repr(error))
    finally:
        if own:
            conn.close()


def completion(max_tokens=2, stream=False, **extra):
    return {"model": MODEL, "prompt": "Once upon a time", "max_tokens": max_tokens,
            "stream": stream, **extra}


def load(port, count, concurrency, body_fn, headers_fn=lambda i: None):
    """`count` requests over `concurrency` keep-alive connections; results in order."""
    results = [None] * count
    next_index = [0]
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= count:
                break
            result = request(port, body_fn(i), headers_fn(i), conn=conn)
            if result.error:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            results[i] = result
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


class BackgroundLoad:
    """Clients sending requests in a loop until stopped; every result is kept."""

    def __init__(self, port, clients, body_fn):
        self.port, self.body_fn = port, body_fn
        self.results = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(clients)]
        for t in self.threads:
            t.start()

    def run(self, client):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        n = 0
        while not self.stopping.is_set():
            result = request(self.port, self.body_fn(client, n), conn=conn)
            if result.error or (self.body_fn(client, n).get("stream")):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            with self.lock:
                self.results.append(result)
            n += 1
        conn.close()

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join()
        return self.results


def assert_no_failures(results, what):
    failed = [r for r in results if not r.ok or not r.done]
    assert not failed, f"{what}: {len(failed)} of {len(results)} failed, e.g. {failed[:3]}"


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def metric_value(text, name, **labels):
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


wait_for = waiter(60.0, 0.1)


def revision_counts(results):
    counts = {}
    for r in results:
        counts[r.revision] = counts.get(r.revision, 0) + 1
    return counts


# ---------------------------------------------------------------- backends

def make_model(work):
    path = os.path.join(work, "model.gguf")
    subprocess.run([RUNTIME, "make-model", "--dim", "64", "--hidden", "128", "--layers", "2",
                    "--heads", "4", "--context", "512", "--out", path, "--seed", "7"],
                   check=True, capture_output=True)
    return path


class StaticBackend:
    """Runtime processes on loopback ports and a routes file the test rewrites."""

    def __init__(self, work):
        self.work = work
        self.model = make_model(work)
        self.pods = {}  # (revision, index) -> (process, port)
        self.weights = {}
        self.routes = os.path.join(work, "routes.yaml")
        self.router = None

    def start(self, layout, weights, args=None):
        """layout: {revision: pods}; args: {revision: [extra runtime flags]}."""
        for revision, count in layout.items():
            for index in range(count):
                self.start_pod(revision, index, (args or {}).get(revision, []))
        for key in self.pods:
            port = self.pods[key][1]
            wait_for(f"runtime {key} ready", lambda: self.ready(port))
        self.weights = dict(weights)
        self.write_routes()
        self.start_router(["--static-config", self.routes])

    def start_pod(self, revision, index, extra):
        port = free_port()
        log = open(os.path.join(self.work, f"runtime-{revision}-{index}.log"), "wb")
        process = subprocess.Popen(
            [RUNTIME, "serve", "--model", self.model, "--model-name", MODEL, "--port", str(port),
             "--threads", "1", "--numa", "none", "--lame-duck-seconds", "1", *extra],
            stdout=log, stderr=subprocess.STDOUT)
        self.pods[(revision, index)] = (process, port)

    @staticmethod
    def ready(port):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def write_routes(self):
        lines = ["deployments:", f"  - name: {MODEL}", "    revisions:"]
        for revision in sorted({r for r, _ in self.pods} | set(self.weights)):
            endpoints = [f'"127.0.0.1:{port}"' for (r, _), (_, port) in sorted(self.pods.items()) if r == revision]
            lines.append(f"      - {{revision: {revision}, weight: {self.weights.get(revision, 0)}, "
                         f"endpoints: [{', '.join(endpoints)}]}}")
        tmp = self.routes + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.rename(tmp, self.routes)

    def start_router(self, source_flags):
        log = open(os.path.join(self.work, "router.log"), "wb")
        self.router = subprocess.Popen([ROUTER, "--listen", "127.0.0.1:0", *source_flags],
                                       stdout=subprocess.PIPE, stderr=log)
        line = self.router.stdout.readline().decode()
        match = re.search(r":(\d+)$", line.strip())
        assert match, f"router did not start: {line!r}"
        self.port = int(match.group(1))
        wait_for("router ready", lambda: self.ready(self.port))

    def set_weights(self, weights):
        self.weights = dict(weights)
        self.write_routes()
        # Static mode polls the file twice a second.
        wait_for("router weights applied", lambda: self.router_weights() == self.weights, timeout=10)

    def router_weights(self):
        text = metrics(self.port)
        found = {}
        for line in text.splitlines():
            m = re.match(r'llmops_router_revision_weight\{.*revision="(\d+)".*\} (\S+)', line)
            if m:
                found[int(m.group(1))] = int(float(m.group(2)))
        return found

    def router_endpoints_total(self):
        return sum(metric_value(metrics(self.port), "llmops_router_endpoints", state=state)
                   for state in ("ready", "not_ready", "ejected"))

    def pod_port(self, revision, index):
        return self.pods[(revision, index)][1]

    def kill(self, revision, index):
        self.pods[(revision, index)][0].send_signal(signal.SIGKILL)

    def drain(self, revision, index):
        self.pods[(revision, index)][0].send_signal(signal.SIGTERM)

    def stop_router(self):
        if self.router:
            self.router.terminate()
            try:
                self.router.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.router.kill()
                self.router.wait()
                raise AssertionError("the router did not exit within 40 s of SIGTERM")

    def close(self):
        try:
            self.stop_router()
        finally:
            self.stop_pods()

    def stop_pods(self):
        for process, _ in self.pods.values():
            if process.poll() is None:
                process.kill()
            process.wait()


class KubeBackend(StaticBackend):
    """LLMDeployment + runtime Pods on llmops-devcluster; the test plays the operator's part
    (status.traffic, status.stableRevision) so that the router is tested alone."""

    def __init__(self, work):
        super().__init__(work)
        sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "devcluster"))
        import cluster_harness
        self.h = cluster_harness
        self.dc = cluster_harness.cluster("--restart-backoff-seconds", "1").start()
        self.h.kubectl(self.dc, "apply", "-f", os.path.join(SOURCE_DIR, "crds", "llmdeployment.yaml"))
        self.h.kubectl(self.dc, "wait", "--for", "condition=established", "--timeout=30s",
                       "crd/llmdeployments.llmops.dev")

    def start(self, layout, weights, args=None):
        self.h.apply(self.dc, [{
            "apiVersion": "llmops.dev/v1alpha1", "kind": "LLMDeployment",
            "metadata": {"name": "storyteller", "namespace": "default"},
            "spec": {"replicas": 1, "model": {"name": MODEL, "uri": "file://" + self.model},
                     "runtime": {"image": "llmops-runtime"}}}])
        for revision, count in layout.items():
            for index in range(count):
                self.start_pod(revision, index, (args or {}).get(revision, []))
        for key in list(self.pods):
            wait_for(f"pod {key} ready",
                     lambda: self.h.pod_ready(self.h.get(self.dc, "pod", self.pod_name(*key))), timeout=90)
        self.set_status(weights)
        self.start_router(["--kubeconfig", self.dc.kubeconfig])
        wait_for("router sees the weights", lambda: self.router_weights() == dict(weights), timeout=20)
        wait_for("router sees every pod", lambda: self.router_endpoints() == len(self.pods), timeout=20)

    @staticmethod
    def pod_name(revision, index):
        return f"storyteller-r{revision}-{index}"

    def start_pod(self, revision, index, extra):
        container = {
            "name": "runtime", "image": "registry.example/llmops-runtime:0.1.0",
            "args": ["serve", "--model", self.model, "--model-name", MODEL, "--host", "$(POD_IP)",
                     "--port", "8080", "--threads", "1", "--numa", "none",
                     "--lame-duck-seconds", "1", *extra],
            "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 1,
                               "failureThreshold": 1},
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
        }
        self.h.apply(self.dc, [{
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": self.pod_name(revision, index), "namespace": "default",
                         "labels": {"llmops.dev/deployment": "storyteller",
                                    "llmops.dev/revision": str(revision),
                                    "llmops.dev/track": "stable" if revision == 1 else "canary"}},
            "spec": {"terminationGracePeriodSeconds": 30, "containers": [container]}}])
        self.pods[(revision, index)] = (None, None)

    def set_status(self, weights):
        traffic = [{"revision": r, "weight": w} for r, w in sorted(weights.items())]
        self.h.kubectl(self.dc, "patch", "llmdeployment", "storyteller", "--subresource=status",
                       "--type=merge", "-p",
                       json.dumps({"status": {"stableRevision": 1, "traffic": traffic}}))

    def set_weights(self, weights):
        self.weights = dict(weights)
        self.set_status(weights)
        wait_for("router weights applied", lambda: self.router_weights() == self.weights, timeout=10)

    def router_endpoints(self):
        return int(sum(float(line.rsplit(" ", 1)[1]) for line in metrics(self.port).splitlines()
                       if line.startswith("llmops_router_endpoints{") and 'state="ready"' in line))

    def pod(self, revision, index):
        return self.h.get(self.dc, "pod", self.pod_name(revision, index))

    def pod_port(self, revision, index):
        raise AssertionError("pod IPs are not reachable as loopback ports; use the router")

    def kill(self, revision, index):
        os.kill(self.h.container_pid(self.pod(revision, index)), signal.SIGKILL)

    def drain(self, revision, index):
        self.h.kubectl(self.dc, "delete", "pod", self.pod_name(revision, index), "--wait=false")

    def close(self):
        try:
            self.stop_router()
        finally:
            self.dc.close()


# ---------------------------------------------------------------- cases

def split(b):
    """90/10 over 2,000 requests: within 1% of the weights; both canary pods used."""
    b.start({1: 1, 2: 2}, {1: 90, 2: 10})
    results = load(b.port, 2000, 8, lambda i: completion(max_tokens=1))
    assert_no_failures(results, "split")
    counts = revision_counts(results)
    share = counts.get("2", 0) / len(results)
    print(f"revisions: {counts}, canary share {share:.4f}")
    assert abs(share - 0.10) <= 0.01, counts
    assert counts.get("1", 0) + counts.get("2", 0) == 2000, counts
    text = metrics(b.port)
    served = metric_value(text, "llmops_router_upstream_requests_total", revision="2", outcome="success")
    assert served == counts["2"], (served, counts)


def sticky(b):
    """Requests of one session stay on one revision (x-llmops-session, or the body's user)."""
    b.start({1: 1, 2: 1}, {1: 70, 2: 30})
    sessions = [f"conversation-{i}" for i in range(150)]

    def body(i):
        extra = {"user": sessions[i % 150]} if (i % 150) % 2 else {}
        return completion(max_tokens=1, **extra)

    def headers(i):
        return {"x-llmops-session": sessions[i % 150]} if (i % 150) % 2 == 0 else None

    results = load(b.port, 150 * 4, 6, body, headers)
    assert_no_failures(results, "sticky")
    by_session = {}
    for i, r in enumerate(results):
        by_session.setdefault(sessions[i % 150], set()).add(r.revision)
    hopped = {s: revs for s, revs in by_session.items() if len(revs) != 1}
    assert not hopped, f"sessions that hopped: {hopped}"
    canary = sum(1 for revs in by_session.values() if revs == {"2"})
    print(f"{canary} of 150 sessions on the canary")
    assert 20 <= canary <= 70, canary
    # Raising the canary's weight only moves sessions to it.
    b.set_weights({1: 40, 2: 60})
    results = load(b.port, 150, 6, lambda i: completion(max_tokens=1, user=sessions[i]),)
    moved_back = [s for i, s in enumerate(sessions) if by_session[s] == {"2"} and results[i].revision == "1"]
    assert not moved_back, moved_back


def weights_under_streams(b):
    """32 concurrent streams while the weights change: every stream completes."""
    b.start({1: 1, 2: 1}, {1: 90, 2: 10})
    background = BackgroundLoad(b.port, 32, lambda c, n: completion(max_tokens=24, stream=True))
    for weights in ({1: 50, 2: 50}, {1: 0, 2: 100}, {1: 100, 2: 0}, {1: 90, 2: 10}):
        time.sleep(1.5)
        b.set_weights(weights)
    time.sleep(1.5)
    results = background.stop()
    assert_no_failures(results, "streams")
    counts = revision_counts(results)
    print(f"{len(results)} streams completed: {counts}")
    assert len(results) >= 64 and counts.get("1") and counts.get("2"), counts


def pod_killed(b):
    """SIGKILL a stable pod under load: retries hide it from every client."""
    b.start({1: 2, 2: 1}, {1: 80, 2: 20})
    background = BackgroundLoad(b.port, 8, lambda c, n: completion(max_tokens=8))
    time.sleep(2)
    b.kill(1, 0)
    time.sleep(3)
    results = background.stop()
    assert_no_failures(results, "kill")
    text = metrics(b.port)
    errors = metric_value(text, "llmops_router_upstream_requests_total", revision="1", outcome="error")
    print(f"{len(results)} requests, upstream errors on revision 1: {errors}")
    assert len(results) > 50


def pod_drained(b):
    """SIGTERM (static) or delete (kube) a stable pod under streaming load: its streams
    finish, new requests go elsewhere, no client sees a failure."""
    b.start({1: 2, 2: 1}, {1: 80, 2: 20})

    def body(c, n):
        return completion(max_tokens=24, stream=(c % 2 == 0))

    background = BackgroundLoad(b.port, 8, body)
    time.sleep(2)
    b.drain(1, 0)
    time.sleep(4)
    results = background.stop()
    assert_no_failures(results, "drain")
    print(f"{len(results)} requests across the drain: {revision_counts(results)}")
    assert len(results) > 30


def canary_errors(b):
    """A canary failing half its requests: clients see none of it; the router's metrics
    show the canary's upstream errors and the retries."""
    b.start({1: 1, 2: 1}, {1: 50, 2: 50}, args={2: ["--inject-error-rate", "0.5"]})
    results = load(b.port, 300, 6, lambda i: completion(max_tokens=2, stream=(i % 3 == 0)))
    assert_no_failures(results, "canary errors")
    text = metrics(b.port)
    errors = metric_value(text, "llmops_router_upstream_requests_total", revision="2", outcome="error")
    retries = metric_value(text, "llmops_router_retries_total", revision="2")
    stable_errors = metric_value(text, "llmops_router_upstream_requests_total", revision="1", outcome="error")
    client_errors = sum(metric_value(text, "llmops_router_requests_total", code=str(c)) for c in (500, 502, 503))
    ejections = metric_value(text, "llmops_router_ejections_total", revision="2")
    print(f"canary upstream errors {errors}, retries {retries}, ejections {ejections}, "
          f"stable errors {stable_errors}")
    # Half the canary's ~150 attempts fail, and each is retried (on stable). Its only pod
    # may be ejected, but the canary keeps its share: the analysis needs the traffic.
    assert errors >= 30 and retries >= errors * 0.9, (errors, retries)
    assert stable_errors == 0 and client_errors == 0, (stable_errors, client_errors)


def first_byte_timeout(b):
    """A pod that accepts connections and never answers (black-holed): each attempt at it
    fails after --upstream-first-byte-timeout, counts as an upstream error, gets it
    ejected and is retried on a pod that answers, so no client fails; with only the black
    hole left, clients get 504 (not a 5-minute wait)."""
    if isinstance(b, KubeBackend):
        raise AssertionError("first_byte_timeout runs in static mode")
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(64)  # the kernel completes handshakes; nobody ever reads
    hole_port = hole.getsockname()[1]
    try:
        b.start_pod(1, 0, [])
        wait_for("runtime ready", lambda: b.ready(b.pod_port(1, 0)))
        live = f"127.0.0.1:{b.pod_port(1, 0)}"

        def routes(endpoints):
            tmp = b.routes + ".tmp"
            with open(tmp, "w") as f:
                f.write(f"deployments:\n  - name: {MODEL}\n    revisions:\n"
                        f"      - {{revision: 1, weight: 100, endpoints: [{', '.join(endpoints)}]}}\n")
            os.rename(tmp, b.routes)

        routes([f'"127.0.0.1:{hole_port}"', f'"{live}"'])
        b.start_router(["--static-config", b.routes, "--upstream-first-byte-timeout", "1"])
        results = [request(b.port, completion(max_tokens=2), timeout=20) for _ in range(12)]
        assert_no_failures(results, "black-holed pod beside a live one")
        text = metrics(b.port)
        errors = metric_value(text, "llmops_router_upstream_requests_total", revision="1", outcome="error")
        ejections = metric_value(text, "llmops_router_ejections_total", revision="1")
        retries = metric_value(text, "llmops_router_retries_total", revision="1")
        print(f"black hole: upstream errors {errors}, retries {retries}, ejections {ejections}")
        assert errors >= 1 and retries >= errors and ejections >= 1, (errors, retries, ejections)

        routes([f'"127.0.0.1:{hole_port}"'])
        wait_for("routes with only the black hole", lambda: b.router_endpoints_total() == 1, timeout=15)
        started = time.time()
        result = request(b.port, completion(max_tokens=2), timeout=30)
        print(f"only the black hole: {result.status} after {time.time() - started:.1f} s")
        assert result.status == 504, result
        assert json.loads(result.body)["error"]["code"] == "upstream_timeout", result
    finally:
        hole.close()


def openai_stream(b):
    """The official openai client streams the same chunks through the router as directly."""
    if isinstance(b, KubeBackend):
        raise AssertionError("openai_stream runs in static mode (pod IPs need no second check)")
    b.start({1: 1}, {1: 100})
    client_dir = os.path.join(SOURCE_DIR, "tests", "server", "openai-client")
    result = subprocess.run(["node", os.path.join(client_dir, "router_stream_check.mjs"),
                             str(b.port), str(b.pod_port(1, 0)), MODEL],
                            capture_output=True, text=True, timeout=120)
    print(result.stdout, result.stderr)
    assert result.returncode == 0, "openai client check failed"


CASES = {f.__name__: f for f in (split, sticky, weights_under_streams, pod_killed, pod_drained,
                                 canary_errors, openai_stream, first_byte_timeout)}


def main():
    mode, case = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix=f"router-it-{case}.")
    backend = (StaticBackend if mode == "static" else KubeBackend)(work)
    try:
        CASES[case](backend)
    except BaseException:
        for name in sorted(os.listdir(work)):
            if name.endswith(".log"):
                with open(os.path.join(work, name), errors="replace") as f:
                    tail = f.read()[-3000:]
                print(f"--- {name} (tail)\n{tail}", file=sys.stderr)
        raise
    finally:
        backend.close()
    subprocess.run(["rm", "-rf", work])
    print("PASS")


if __name__ == "__main__":
    main()
