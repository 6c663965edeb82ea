"""End to end on llmops-devcluster: llmops-operator, llmops-router and real runtime pods,
with clients sending requests through the router the whole time.

usage: rollout_e2e_test.py promoted|analysis_rollback|deadline_rollback
  promoted           a canary walks setWeight 20 → 60 and is promoted; the share of
                     responses each revision served (x-llmops-revision) follows the weights
  analysis_rollback  a canary failing half its requests is rolled back by the analysis
  deadline_rollback  a canary whose model fails its sha256 never gets ready and is rolled
                     back at the progress deadline
  operator_killed    kill -9 and restart of the operator at every step: same outcomes
In every case no client request fails. `promoted` also checks the operator's and the
router's API use against the shipped RBAC (tests/manifests/rbac_check.py).
"""
import json
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "manifests"))
from harness import free_port, wait_for  # noqa: E402
from harness.rollout import (Clients, NoClients, Stack, condition, current, make_model,  # noqa: E402
                             router_ready, stop, watch)

NAME = "storyteller"


def llmd(models, steps, analysis=None, deadline=60):
    rollout = {"steps": steps, "progressDeadlineSeconds": deadline}
    if analysis:
        rollout["analysis"] = analysis
    return {"apiVersion": "llmops.dev/v1alpha1", "kind": "LLMDeployment",
            "metadata": {"name": NAME, "namespace": "default"},
            "spec": {"replicas": 2,
                     "model": {"name": NAME, "uri": f"file://{models}/v1.gguf"},
                     "runtime": {"image": "llmops-runtime", "threads": 1, "numa": "none",
                                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                     "rollout": rollout}}


def setup(work, obj, operator_flags=()):
    models = os.path.join(work, "models")
    os.makedirs(models)
    for version, seed in (("v1", 1), ("v2", 2)):
        make_model(os.path.join(models, f"{version}.gguf"), seed)
    cluster = Stack(work, NAME)
    router_port, metrics_port = free_port(), free_port()
    cluster.start(router_port, metrics_port, operator_flags)
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps(obj(models)))
    started = time.time()
    watch(cluster, NoClients(), started, "revision 1 ready",
               lambda d: current(d) and d["status"].get("phase") == "Healthy" and
               d["status"].get("readyReplicas", 0) >= 2, 120)
    wait_for("the router to route", lambda: router_ready(router_port, NAME), 30)
    return cluster, models, Clients(router_port, NAME), started


def rolled_back(d):
    status = d.get("status", {})
    return (current(d) and status.get("phase") == "Degraded" and status.get("stableRevision") == 1
            and all(t.get("revision") == 1 or t.get("weight") == 0 for t in status.get("traffic", [])))


def canary_pods(cluster):
    out = cluster.kubectl("get", "pods", "-l", "llmops.dev/revision=2", "-o", "json")
    return [p for p in json.loads(out)["items"] if not p["metadata"].get("deletionTimestamp")]


def promoted(work):
    steps = [{"setWeight": 20}, {"pause": {"duration": "4s"}}, {"setWeight": 60},
             {"pause": {"duration": "4s"}}]
    cluster, models, clients, started = setup(
        work, lambda m: llmd(m, steps),
        operator_flags=("--leader-elect", "--lease-namespace", "llmops-system"))
    weights = []  # (time, canaryWeight in status)

    def done(d):
        weights.append((time.time(), d.get("status", {}).get("canaryWeight", 0) if
                        d.get("status", {}).get("canaryRevision") else None))
        return (current(d) and d["status"].get("stableRevision") == 2 and
                not d["status"].get("canaryRevision") and d["status"].get("phase") == "Healthy")

    cluster.kubectl("patch", "llmd", NAME, "--type", "merge", "-p",
                    json.dumps({"spec": {"model": {"uri": f"file://{models}/v2.gguf"}}}))
    watch(cluster, clients, started, "canary promoted", done, 180)
    time.sleep(1)
    clients.stop()
    total, failed = clients.totals()
    assert failed == 0, f"{failed} failed: {clients.failures[:3]}"
    # While status said weight w, and after the router had a moment to apply it, the share
    # of responses from revision 2 is w (smooth round-robin is exact; the window edges blur).
    for w in (20, 60):
        spans = [t for t, weight in weights if weight == w]
        assert spans, f"weight {w} never seen in status: {weights}"
        start, end = min(spans) + 1.0, max(spans)
        served = [r for t, r in clients.log if start <= t <= end]
        share = sum(1 for r in served if r == "2") / max(1, len(served))
        print(f"status weight {w}%: {len(served)} responses, revision 2 served {100 * share:.1f}%")
        assert len(served) >= 15, served
        assert abs(share - w / 100) <= 0.12, (w, share)
    assert clients.ok.get("2", 0) > 0 and total > 50
    # The old revision's pods go after the scale-down delay, and a Service edited by hand
    # is put back.
    old = lambda: json.loads(cluster.kubectl("get", "pods", "-l", "llmops.dev/revision=1", "-o", "json"))["items"]
    wait_for("revision 1 pods removed", lambda: not old(), 60)
    cluster.kubectl("patch", "service", NAME, "--type", "merge", "-p",
                    json.dumps({"spec": {"selector": {"app": "someone-else"}}}))
    wait_for("the Service's selector restored", lambda: json.loads(
        cluster.kubectl("get", "service", NAME, "-o", "json"))["spec"]["selector"] ==
        {"llmops.dev/deployment": NAME}, 30)
    if cluster.real:
        # No access log there: the real authorizer proves the RBAC instead
        # (tests/manifests/real_cluster_install_test.py runs both under it).
        return cluster
    import rbac_check
    report = rbac_check.check(os.path.join(cluster.data, "access.log"))
    print(report.text())
    assert report.ok, "RBAC check failed"
    return cluster


def analysis_rollback(work):
    steps = [{"setWeight": 50}, {"analysis": {}}, {"pause": {}}]
    analysis = {"interval": "2s", "count": 3, "failureLimit": 1, "noData": "Inconclusive",
                "metrics": [{"name": "error-rate", "max": 0.05}]}
    cluster, models, clients, started = setup(work, lambda m: llmd(m, steps, analysis))
    cluster.kubectl("patch", "llmd", NAME, "--type", "merge", "-p",
                    json.dumps({"spec": {"runtime": {"args": ["--inject-error-rate", "0.5"]}}}))
    d = watch(cluster, clients, started, "analysis rollback", rolled_back, 180)
    reason = condition(d, "Degraded").get("reason")
    assert reason == "AnalysisFailed", d["status"]
    wait_for("canary pods removed", lambda: not canary_pods(cluster), 60)
    time.sleep(1)
    clients.stop()
    total, failed = clients.totals()
    assert failed == 0, f"{failed} failed: {clients.failures[:3]}"
    print(f"{total} requests, none failed: {clients.ok}")
    return cluster


def deadline_rollback(work):
    steps = [{"setWeight": 50}, {"pause": {}}]
    cluster, models, clients, started = setup(work, lambda m: llmd(m, steps, deadline=12))
    cluster.kubectl("patch", "llmd", NAME, "--type", "merge", "-p",
                    json.dumps({"spec": {"model": {"uri": f"file://{models}/v2.gguf", "sha256": "0" * 64}}}))
    failing = []

    def rolled_back_noting_failures(d):
        progressing = condition(d, "Progressing")
        if progressing.get("reason") == "PodsFailing":
            failing.append(progressing.get("message", ""))
        return rolled_back(d)

    d = watch(cluster, clients, started, "progress-deadline rollback",
                   rolled_back_noting_failures, 180)
    reason = condition(d, "Degraded").get("reason")
    assert reason == "ProgressDeadlineExceeded", d["status"]
    # Before the deadline, the status said why the canary's pods did not run: the runtime's
    # own error, from the pods' termination message; and so did an event.
    print(f"PodsFailing while waiting: {failing[-1] if failing else None}")
    assert any("sha256" in m for m in failing), failing
    events = json.loads(cluster.kubectl("get", "events", "--field-selector", "reason=PodsFailing",
                                        "-o", "json"))["items"]
    assert any("sha256" in e.get("message", "") for e in events), events
    wait_for("canary pods removed", lambda: not canary_pods(cluster), 60)
    clients.stop()
    total, failed = clients.totals()
    assert failed == 0, f"{failed} failed: {clients.failures[:3]}"
    assert set(clients.ok) == {"1"}, clients.ok
    print(f"{total} requests, none failed, all on revision 1")
    return cluster


def operator_killed(work):
    """kill -9 of the operator at every step of a rollout (and during the scale-down after
    it), restarting it each time: the canary still walks every step and is promoted, with
    no duplicate pods and no failed client request. Then the same for a failing canary:
    it still ends rolled back by the analysis."""
    steps = [{"setWeight": 30}, {"pause": {"duration": "3s"}}, {"analysis": {}},
             {"setWeight": 60}, {"pause": {"duration": "2s"}}]
    analysis = {"interval": "2s", "count": 2, "failureLimit": 0, "noData": "Inconclusive",
                "metrics": [{"name": "error-rate", "max": 0.05}]}
    cluster, models, clients, started = setup(work, lambda m: llmd(m, steps, analysis))
    kills = []

    def killing(done):
        def check(d):
            status = d.get("status", {})
            point = (status.get("canaryRevision"), status.get("currentStep"), status.get("phase"))
            if status.get("canaryRevision") and point not in [k for k, _ in kills]:
                kills.append((point, time.time()))
                cluster.restart_operator()
                print(f"killed and restarted the operator at revision {point[0]} step {point[1]} "
                      f"({point[2]})", flush=True)
            return done(d)
        return check

    cluster.kubectl("patch", "llmd", NAME, "--type", "merge", "-p",
                    json.dumps({"spec": {"model": {"uri": f"file://{models}/v2.gguf"}}}))
    watch(cluster, clients, started, "canary promoted despite the kills", killing(
        lambda d: current(d) and d["status"].get("stableRevision") == 2 and
        not d["status"].get("canaryRevision") and d["status"].get("phase") == "Healthy"), 240,
        interval=0.2)
    steps_killed = sorted({k[1] for k, _ in kills if k[1] is not None})
    # Step 3 (setWeight 60) can pass within a reconcile or two once its pods are ready, so
    # it is not always seen; the waiting steps always are.
    assert {0, 1, 2, 4} <= set(steps_killed), f"kills at steps {steps_killed}"
    cluster.restart_operator()  # during the scale-down delay of the old pods
    old = lambda: json.loads(cluster.kubectl("get", "pods", "-l", "llmops.dev/revision=1", "-o", "json"))["items"]
    wait_for("revision 1 pods removed", lambda: not old(), 60)
    names = [p["metadata"]["name"] for p in json.loads(cluster.kubectl("get", "pods", "-o", "json"))["items"]]
    assert len(names) == len(set(names)) == 2, names

    kills.clear()
    cluster.kubectl("patch", "llmd", NAME, "--type", "merge", "-p",
                    json.dumps({"spec": {"runtime": {"args": ["--inject-error-rate", "0.5"]}}}))
    d = watch(cluster, clients, started, "failing canary rolled back despite the kills", killing(
        lambda d: current(d) and d["status"].get("phase") == "Degraded" and
        d["status"].get("stableRevision") == 2 and
        all(t.get("revision") == 2 or t.get("weight") == 0 for t in d["status"].get("traffic", []))), 240,
        interval=0.2)
    assert condition(d, "Degraded").get("reason") == "AnalysisFailed", d["status"]
    time.sleep(1)
    clients.stop()
    total, failed = clients.totals()
    assert failed == 0, f"{failed} failed: {clients.failures[:3]}"
    print(f"{total} requests across {len(kills)} + more operator kills, none failed: {clients.ok}")
    return cluster


def main():
    case = sys.argv[1]
    work = tempfile.mkdtemp(prefix=f"e2e-{case}.")
    ok = False
    try:
        {"promoted": promoted, "analysis_rollback": analysis_rollback,
         "deadline_rollback": deadline_rollback, "operator_killed": operator_killed}[case](work)
        ok = True
    finally:
        if not ok:
            for name in ("operator", "router"):
                path = os.path.join(work, f"{name}.log")
                if os.path.exists(path):
                    print(f"--- {name}.log (tail)\n" + open(path, errors="replace").read()[-5000:],
                          file=sys.stderr)
        stop(work)
        Stack(work, NAME).clean()
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
