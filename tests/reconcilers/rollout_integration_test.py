"""The LLMDeployment reconciler end to end on llmops-devcluster: llmops-operator creates real
llmops-runtime pods, rolls a canary through its steps to promotion, rolls a failing canary
back on its measured error rate, and finishes a rollout after being killed mid-way. Each
case is one ctest entry:  python3 rollout_integration_test.py <case>"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

os.environ.setdefault("TEST_OPERATOR_BIN", os.environ.get("OPERATOR_BIN", ""))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "operator"))
from operator_harness import (Devcluster, run, start_operator, wait_for,  # noqa: E402
                              OPERATOR_BIN)

RUNTIME_BIN = os.environ["RUNTIME_BIN"]
NAME = "story"


def make_model(ws, version, seed):
    path = ws.path(f"story-{version}.gguf")
    subprocess.run([RUNTIME_BIN, "make-model", "--dim", "64", "--hidden", "128", "--layers", "2",
                    "--heads", "4", "--context", "128", "--out", path, "--seed", str(seed)],
                   check=True, capture_output=True, timeout=60)
    return "file://" + path


def deployment(model_uri, steps, analysis, extra_args=()):
    return {
        "apiVersion": "llmops.dev/v1alpha1", "kind": "LLMDeployment",
        "metadata": {"name": NAME, "namespace": "default"},
        "spec": {
            "replicas": 2,
            "model": {"name": NAME, "uri": model_uri},
            "runtime": {"image": "llmops-runtime", "threads": 1, "numa": "none", "maxBatch": 4,
                        "resources": {"requests": {"cpu": "100m"}},
                        "args": ["--lame-duck-seconds", "1", "--drain-seconds", "2",
                                 *extra_args]},
            "rollout": {"steps": steps, "analysis": analysis, "progressDeadlineSeconds": 120},
        }}


def apply(cluster, obj):
    cluster.kubectl("apply", "-f", "-", input=json.dumps(obj))


def patch(cluster, body):
    cluster.kubectl("patch", "llmd", NAME, "--type=merge", "-p", json.dumps(body))


def status(cluster):
    obj = cluster.get_json("llmd", NAME)
    return (obj or {}).get("status", {})


def pods(cluster):
    listed = cluster.get_json("pods", "-l", "llmops.dev/deployment=" + NAME)
    return (listed or {}).get("items", [])


def live_pods(cluster, revision=None):
    out = []
    for pod in pods(cluster):
        if pod["metadata"].get("deletionTimestamp"):
            continue
        if revision is not None and pod["metadata"]["labels"].get("llmops.dev/revision") != str(revision):
            continue
        out.append(pod)
    return out


def ready(pod):
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in pod.get("status", {}).get("conditions", []))


def healthy_with(cluster, revision):
    st = status(cluster)
    return (st.get("phase") == "Healthy" and st.get("stableRevision") == revision
            and st.get("traffic") == [{"revision": revision, "weight": 100}]
            and st.get("readyReplicas", 0) >= 2)


def events(cluster):
    listed = cluster.get_json("events") or {"items": []}
    return [(e["reason"], e.get("message", "")) for e in listed["items"]
            if e["involvedObject"].get("name") == NAME]


class Traffic:
    """Sends completions straight to the pods of one revision (no router here), as curl
    would; counts answers by status code."""

    def __init__(self, cluster, revision):
        self.cluster = cluster
        self.revision = revision
        self.codes = {}
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            targets = [p["status"].get("podIP") for p in live_pods(self.cluster, self.revision)
                       if ready(p) and p["status"].get("podIP")]
            for ip in targets:
                body = json.dumps({"model": NAME, "prompt": "Once upon", "max_tokens": 4}).encode()
                request = urllib.request.Request(f"http://{ip}:8080/v1/completions", data=body,
                                                 headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        code = response.status
                except urllib.error.HTTPError as error:
                    code = error.code
                except OSError:
                    code = 0
                self.codes[code] = self.codes.get(code, 0) + 1
            time.sleep(0.1)

    def stop(self):
        self.running = False
        self.thread.join(timeout=15)


def start(ws, steps, analysis, extra_operator=()):
    cluster = Devcluster(ws)
    cluster.install_crds()
    op = start_operator(ws, "operator", cluster.kubeconfig, "--scale-down-delay-seconds", "2",
                        *extra_operator, binary=OPERATOR_BIN)
    v1 = make_model(ws, "v1", 1)
    apply(cluster, deployment(v1, steps, analysis))
    wait_for("revision 1 healthy", lambda: healthy_with(cluster, 1), timeout=60, interval=0.5)
    assert len(live_pods(cluster, 1)) == 2
    service = cluster.get_json("service", NAME)
    assert service["spec"]["selector"] == {"llmops.dev/deployment": NAME}, service
    for condition in status(cluster)["conditions"]:
        assert condition["observedGeneration"] == 1, condition
    cluster.kubectl("wait", "--for=condition=Available", "llmd/" + NAME, "--timeout=10s")
    return cluster, op


STEPS = [{"setWeight": 50}, {"pause": {"duration": "2s"}}, {"analysis": {}}]
ANALYSIS = {"interval": "2s", "count": 2, "failureLimit": 0, "noData": "Inconclusive",
            "metrics": [{"name": "error-rate", "max": 0.2}]}


def canary_promoted(ws):
    """A new model runs setWeight 50, a 2 s pause and an analysis over real traffic to the
    canary, then is promoted; the old pods go after the scale-down delay."""
    cluster, op = start(ws, STEPS, ANALYSIS)
    seen = []

    def weights():
        st = status(cluster)
        seen.append(json.dumps(st.get("traffic")))
        return st
    patch(cluster, {"spec": {"model": {"uri": make_model(ws, "v2", 2)}}})
    wait_for("canary 2 at 50%", lambda: weights().get("traffic") ==
             [{"revision": 1, "weight": 50}, {"revision": 2, "weight": 50}], timeout=60, interval=0.2)
    traffic = Traffic(cluster, 2)
    try:
        # kubectl scale through the scale subresource, mid-rollout.
        cluster.kubectl("scale", "llmd", NAME, "--replicas=3")
        wait_for("revision 2 promoted", lambda: healthy_with(cluster, 2), timeout=90, interval=0.5)
    finally:
        traffic.stop()
    st = status(cluster)
    assert len(live_pods(cluster, 2)) == 3 and st["readyReplicas"] >= 3, st
    scale = cluster.get_json("llmd", NAME, "--subresource=scale")
    assert scale["spec"]["replicas"] == 3 and scale["status"]["selector"] == "llmops.dev/deployment=" + NAME, scale
    assert st["analysis"]["passes"] == 2 and st["analysis"]["failures"] == 0, st["analysis"]
    assert st["analysis"]["samples"][-1]["metrics"]["error-rate"] == 0, st["analysis"]
    assert traffic.codes.get(200, 0) > 0, traffic.codes
    wait_for("revision 1 pods gone", lambda: not live_pods(cluster, 1), timeout=30, interval=0.5)
    reasons = [reason for reason, _ in events(cluster)]
    for reason in ("RevisionCreated", "CanaryStarted", "WeightSet", "AnalysisPass", "Promoted"):
        assert reason in reasons, reasons
    assert all(p["metadata"]["labels"]["llmops.dev/track"] == "stable" for p in live_pods(cluster, 2))


def canary_rolled_back(ws):
    """A canary answering 500 to every request (--inject-error-rate 1) fails its analysis:
    100% back to stable, phase Degraded, canary pods removed."""
    cluster, op = start(ws, STEPS, ANALYSIS)
    spec = cluster.get_json("llmd", NAME)["spec"]
    args = spec["runtime"]["args"] + ["--inject-error-rate", "1"]
    patch(cluster, {"spec": {"runtime": {"args": args}}})
    wait_for("canary 2 at 50%", lambda: status(cluster).get("canaryWeight") == 50, timeout=60,
             interval=0.2)
    traffic = Traffic(cluster, 2)
    try:
        wait_for("rolled back", lambda: status(cluster).get("phase") == "Degraded", timeout=90,
                 interval=0.5)
    finally:
        traffic.stop()
    st = status(cluster)
    assert st["traffic"] == [{"revision": 1, "weight": 100}], st
    assert "canaryRevision" not in st and st["abortedRevision"] == 2, st
    degraded = [c for c in st["conditions"] if c["type"] == "Degraded"][0]
    assert degraded["status"] == "True" and degraded["reason"] == "AnalysisFailed", degraded
    assert st["analysis"]["samples"][-1]["metrics"]["error-rate"] > 0.2, st["analysis"]
    assert traffic.codes.get(500, 0) > 0, traffic.codes
    wait_for("canary pods gone", lambda: not live_pods(cluster, 2), timeout=30, interval=0.5)
    assert len(live_pods(cluster, 1)) == 2
    assert "AnalysisFailed" in [reason for reason, _ in events(cluster)]


def operator_killed_mid_rollout(ws):
    """kill -9 of the operator during the canary's pause; a new operator process resumes
    from the status and finishes the rollout."""
    steps = [{"setWeight": 50}, {"pause": {"duration": "4s"}}, {"analysis": {}},
             {"setWeight": 100}]
    analysis = dict(ANALYSIS, noData="Pass")
    cluster, op = start(ws, steps, analysis)
    patch(cluster, {"spec": {"model": {"uri": make_model(ws, "v2", 2)}}})
    wait_for("canary paused at step 1", lambda: status(cluster).get("currentStep") == 1 and
             status(cluster).get("canaryRevision") == 2, timeout=60, interval=0.2)
    op.popen.send_signal(signal.SIGKILL)
    op.popen.wait()
    time.sleep(1)
    before = status(cluster)
    assert before.get("canaryRevision") == 2 and before.get("canaryWeight") == 50, before
    op2 = start_operator(ws, "operator-2", cluster.kubeconfig, "--scale-down-delay-seconds", "2",
                         binary=OPERATOR_BIN)
    wait_for("revision 2 promoted after the restart", lambda: healthy_with(cluster, 2), timeout=90,
             interval=0.5)
    assert status(cluster)["analysis"]["passes"] == 2
    wait_for("revision 1 pods gone", lambda: not live_pods(cluster, 1), timeout=30, interval=0.5)
    # No duplicate pods from the restart (deterministic names, 409 on repeats).
    names = [p["metadata"]["name"] for p in pods(cluster)]
    assert len(names) == len(set(names)) and len(live_pods(cluster, 2)) == 2, names
    op2.signal(signal.SIGTERM)
    assert op2.wait_exit() == 0


def canary_never_ready(ws):
    """A canary whose model fails its sha256 never gets ready: after
    progressDeadlineSeconds the rollout is rolled back (Degraded), stable keeps serving."""
    cluster, op = start(ws, STEPS, ANALYSIS)
    patch(cluster, {"spec": {"model": {"uri": make_model(ws, "v2", 2), "sha256": "0" * 64},
                             "rollout": {"progressDeadlineSeconds": 6}}})
    wait_for("rolled back by the deadline", lambda: status(cluster).get("phase") == "Degraded",
             timeout=60, interval=0.5)
    st = status(cluster)
    degraded = [c for c in st["conditions"] if c["type"] == "Degraded"][0]
    assert degraded["reason"] == "ProgressDeadlineExceeded", degraded
    assert st["traffic"] == [{"revision": 1, "weight": 100}] and st["abortedRevision"] == 2, st
    wait_for("canary pods gone", lambda: not live_pods(cluster, 2), timeout=30, interval=0.5)
    assert len([p for p in live_pods(cluster, 1) if ready(p)]) == 2


class FakeRouterMetrics:
    """A stand-in for llmops-router's /metrics on port 0: every scrape shows 10 more upstream
    requests to revision 2 of the deployment, half of them errors."""

    def __init__(self):
        import http.server
        state = {"scrapes": 0}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                state["scrapes"] += 1
                n = state["scrapes"] * 5
                body = ("# TYPE llmops_router_upstream_requests_total counter\n"
                        f'llmops_router_upstream_requests_total{{deployment="{NAME}",revision="2",outcome="success"}} {n}\n'
                        f'llmops_router_upstream_requests_total{{deployment="{NAME}",revision="2",outcome="error"}} {n}\n'
                        f'llmops_router_upstream_requests_total{{deployment="{NAME}",revision="1",outcome="success"}} {n}\n').encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.state = state
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metrics"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def router_errors_roll_back(ws):
    """Errors the router saw from the canary (--router-metrics-url) fail the analysis even
    with no traffic reaching the runtime's own counters."""
    router = FakeRouterMetrics()
    cluster, op = start(ws, STEPS, ANALYSIS, extra_operator=("--router-metrics-url", router.url))
    patch(cluster, {"spec": {"model": {"uri": make_model(ws, "v2", 2)}}})
    wait_for("rolled back", lambda: status(cluster).get("phase") == "Degraded", timeout=90,
             interval=0.5)
    st = status(cluster)
    assert st["traffic"] == [{"revision": 1, "weight": 100}], st
    assert abs(st["analysis"]["samples"][-1]["metrics"]["error-rate"] - 0.5) < 1e-9, st["analysis"]
    degraded = [c for c in st["conditions"] if c["type"] == "Degraded"][0]
    assert degraded["reason"] == "AnalysisFailed", degraded
    assert router.state["scrapes"] >= 2


CASES = {
    "router_errors_roll_back": router_errors_roll_back,
    "canary_never_ready": canary_never_ready,
    "canary_promoted": canary_promoted,
    "canary_rolled_back": canary_rolled_back,
    "operator_killed_mid_rollout": operator_killed_mid_rollout,
}

if __name__ == "__main__":
    run(CASES)
