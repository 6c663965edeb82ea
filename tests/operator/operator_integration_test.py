"""Integration tests of the operator machinery against a real llmops-devcluster, with
real kubectl as an independent client. Each case is one ctest entry:
  python3 operator_integration_test.py <case>"""

import os
import re
import signal
import subprocess
import time

from operator_harness import (Devcluster, Failure, Proxy, converged, http_get, llmd,
                              observed_generation, run, served_port, start_operator, wait_for,
                              OPERATOR_BIN)


def informer_crud(ws):
    """The informer sees create, update and delete; the controller converges each."""
    cluster = Devcluster(ws)
    cluster.install_crds()
    cluster.kubectl("apply", "-f", "-", input=llmd("pre-existing"))
    op = start_operator(ws, "operator", cluster.kubeconfig, "--record-events", "true")
    op.wait_log(r"event=informer type=add key=default/pre-existing")
    wait_for("pre-existing converged", lambda: converged(cluster, "pre-existing"))
    cluster.kubectl("apply", "-f", "-", input=llmd("story"))
    op.wait_log(r"event=informer type=add key=default/story")
    wait_for("story converged", lambda: converged(cluster, "story"))
    cluster.kubectl("patch", "llmd", "story", "--type=merge", "-p", '{"spec":{"replicas":4}}')
    wait_for("generation 2 observed", lambda: observed_generation(cluster, "story") == (2, 2))
    events = cluster.get_json("events")["items"]
    reasons = {(e["involvedObject"]["name"], e["message"]) for e in events
               if e["reason"] == "ObservedGeneration"}
    assert ("story", "observed generation 2") in reasons, events
    cluster.kubectl("delete", "llmd", "story")
    op.wait_log(r"event=informer type=delete key=default/story")
    op.wait_log(r"event=reconcile key=default/story state=absent")
    port = served_port(op)
    status, body = http_get(port, "/readyz")
    assert status == 200, body
    status, body = http_get(port, "/metrics")
    assert 'llmops_reconcile_total{controller="observed-generation",result="success"}' in body, body
    assert 'llmops_api_request_duration_seconds_count{code="200",verb="LIST"}' in body, body
    op.signal(signal.SIGTERM)
    assert op.wait_exit() == 0


def watch_broken_and_expired(ws):
    """A watch cut by the network resumes from its resourceVersion without a relist; a
    watch whose resourceVersion fell out of the server's history (410) relists; the cache
    is right after both."""
    cluster = Devcluster(ws, extra=["--watch-history", "5", "--bookmark-interval-ms", "60000"])
    cluster.install_crds()
    proxy = Proxy(cluster.port)
    kubeconfig = cluster.kubeconfig_via(proxy.port, ws.path("via-proxy.kubeconfig"))
    for name in ("a", "b"):
        cluster.kubectl("apply", "-f", "-", input=llmd(name))
    op = start_operator(ws, "operator", kubeconfig)
    wait_for("a and b converged", lambda: converged(cluster, "a") and converged(cluster, "b"))
    lists_before = len(op.lines(r"event=listed"))

    # 1. Broken: reset every connection; a change made meanwhile arrives on the new watch.
    proxy.cut()
    cluster.kubectl("patch", "llmd", "a", "--type=merge", "-p", '{"spec":{"replicas":2}}')
    wait_for("a generation 2 observed", lambda: observed_generation(cluster, "a") == (2, 2))
    op.wait_log(r"event=watch_error")
    assert len(op.lines(r"event=listed")) == lists_before, "a broken watch must not relist"

    # 2. Expired: the API server is unreachable while more than the watch history changes.
    # The real apiserver keeps a large watch cache, but a restarted one's cache begins at
    # the current revision: a watch from before the restart gets 410 as well.
    proxy.refuse(True)
    proxy.cut()
    time.sleep(0.5)
    if cluster.real:
        cluster.stop()
        cluster.start()
    cluster.kubectl("delete", "llmd", "b")
    for i in range(8):
        cluster.kubectl("patch", "llmd", "a", "--type=merge", "-p",
                        '{"metadata":{"labels":{"round":"%d"}}}' % i)
    cluster.kubectl("apply", "-f", "-", input=llmd("c"))
    proxy.refuse(False)
    op.wait_log(r"event=watch_expired", timeout=60)
    wait_for("relist", lambda: len(op.lines(r"event=listed")) > lists_before, timeout=30)
    op.wait_log(r"event=informer type=delete key=default/b")
    wait_for("c converged", lambda: converged(cluster, "c"), timeout=30)
    latest_a = cluster.get_json("llmd", "a")["metadata"]["resourceVersion"]
    op.wait_log(r"event=informer type=update key=default/a resource_version=%s" % latest_a)
    port = served_port(op)
    _, metrics = http_get(port, "/metrics")
    assert re.search(r'llmops_watch_restarts_total\{reason="expired",resource="[^"]+"\} [1-9]',
                     metrics), metrics


def conflict_retried(ws):
    """A status write racing another writer gets 409; the controller retries with backoff
    and converges."""
    cluster = Devcluster(ws)
    cluster.install_crds()
    op = start_operator(ws, "operator", cluster.kubeconfig, "--reconcile-delay-ms", "1500")
    op.wait_log(r"event=caches_synced")
    cluster.kubectl("apply", "-f", "-", input=llmd("race"))
    op.wait_log(r"event=reconcile key=default/race generation=1 observed=0")
    # While the reconciler sleeps between its read and its write, another writer changes it.
    cluster.kubectl("label", "llmd", "race", "touched=yes")
    op.wait_log(r"event=status_conflict key=default/race")
    op.wait_log(r"event=reconcile_error controller=observed-generation key=default/race")
    wait_for("race converged", lambda: converged(cluster, "race"), timeout=30)


def leader_election(ws):
    """Two operators: one leads and only it reconciles; SIGKILL hands over within the
    lease duration plus two (jittered) retry periods; SIGTERM releases at once."""
    cluster = Devcluster(ws)
    cluster.install_crds()
    a = start_operator(ws, "operator-a", cluster.kubeconfig, "--leader-elect", "--lease-name", "it")
    a.wait_log(r"event=leading")
    b = start_operator(ws, "operator-b", cluster.kubeconfig, "--leader-elect", "--lease-name", "it")
    b.wait_log(r"event=caches_synced|event=informer type=add|event=listed")
    cluster.kubectl("apply", "-f", "-", input=llmd("one"))
    wait_for("one converged", lambda: converged(cluster, "one"))
    b.wait_log(r"event=informer type=add key=default/one")  # b's cache is warm...
    time.sleep(1)
    assert not b.lines(r"event=reconcile "), "...but only the leader reconciles"
    assert a.lines(r"event=reconcile key=default/one")
    lease = cluster.get_json("lease", "it")
    assert lease["spec"]["holderIdentity"] in a.lines(r"event=leading")[0], lease

    killed = time.monotonic()
    a.popen.kill()
    a.popen.wait()
    b.wait_log(r"event=leading", timeout=40)
    handover = time.monotonic() - killed
    # client-go's bound: leaseDuration (15 s) + retry periods of 2 s, jittered up to 2.2x.
    assert handover <= 15 + 2 * 2 * 2.2, f"handover took {handover:.1f}s"
    print(f"  SIGKILL handover: {handover:.1f}s")
    lease = cluster.get_json("lease", "it")
    assert lease["spec"]["leaseTransitions"] >= 1, lease
    cluster.kubectl("patch", "llmd", "one", "--type=merge", "-p", '{"spec":{"replicas":3}}')
    wait_for("b reconciles", lambda: observed_generation(cluster, "one") == (2, 2))
    assert b.lines(r"event=status_written key=default/one observed_generation=2")

    c = start_operator(ws, "operator-c", cluster.kubeconfig, "--leader-elect", "--lease-name", "it")
    c.wait_log(r"event=lease_campaign")
    time.sleep(1)
    terminated = time.monotonic()
    b.signal(signal.SIGTERM)
    assert b.wait_exit() == 0
    assert b.lines(r"event=lease_released")
    c.wait_log(r"event=leading", timeout=15)
    release_handover = time.monotonic() - terminated
    assert release_handover < 2 * 2 * 2.2 + 1, f"after SIGTERM: {release_handover:.1f}s"
    print(f"  SIGTERM handover: {release_handover:.1f}s")


def devcluster_restart(ws):
    """The devcluster restarted on its data dir (the kube-apiserver, on the real control
    plane) is reconnected to without restarting the operator."""
    cluster = Devcluster(ws)
    cluster.install_crds()
    op = start_operator(ws, "operator", cluster.kubeconfig)
    op.wait_log(r"event=caches_synced")
    cluster.kubectl("apply", "-f", "-", input=llmd("before"))
    wait_for("before converged", lambda: converged(cluster, "before"))
    cluster.stop()
    time.sleep(2)
    cluster.start()
    cluster.kubectl("apply", "-f", "-", input=llmd("after"))
    wait_for("after converged", lambda: converged(cluster, "after"), timeout=60)
    cluster.kubectl("patch", "llmd", "before", "--type=merge", "-p", '{"spec":{"replicas":5}}')
    wait_for("before generation 2", lambda: observed_generation(cluster, "before") == (2, 2),
             timeout=30)
    assert op.popen.poll() is None


def wrong_ca(ws):
    """A kubeconfig whose CA did not sign the server's certificate fails with a clear TLS
    error and never becomes ready."""
    cluster = Devcluster(ws)
    other = Devcluster(ws, name="other")
    with open(os.path.join(other.data, "ca.crt"), "rb") as f:
        foreign_ca = f.read()
    other.stop()
    kubeconfig = cluster.kubeconfig_with_ca(foreign_ca, ws.path("wrong-ca.kubeconfig"))
    op = start_operator(ws, "operator", kubeconfig, binary=OPERATOR_BIN)
    line = op.wait_log(r"TLS handshake with https://127\.0\.0\.1:\d+ failed")[0]
    assert "certificate" in line.lower(), line
    port = served_port(op)
    status, _ = http_get(port, "/readyz")
    assert status == 503
    requests = cluster.access_log()  # None on the real control plane: no access log there
    assert requests is None or not any(entry.get("verb") == "list" for entry in requests), \
        "no request may reach the server"
    op.signal(signal.SIGTERM)
    assert op.wait_exit() == 0


def tls_server_name(ws):
    """tls-server-name verifies the certificate for that name while connecting to the
    server's address; a name the certificate does not carry is refused."""
    cluster = Devcluster(ws)
    cluster.install_crds()
    cluster.kubectl("apply", "-f", "-", input=llmd("story"))
    with open(cluster.kubeconfig) as f:
        text = f.read()
    for name, expect_ok in (("localhost", True), ("not-in-cert.example", False)):
        path = ws.path(name + ".kubeconfig")
        with open(path, "w") as f:
            f.write(re.sub(r"(\n    server: \S+)", r"\1\n    tls-server-name: " + name, text, count=1))
        op = start_operator(ws, "operator-" + name, path, binary=OPERATOR_BIN)
        if expect_ok:
            op.wait_log(r"event=observed key=default/story")
        else:
            line = op.wait_log(r"TLS handshake with .* failed")[0]
            assert "not-in-cert.example" in line, line
        op.signal(signal.SIGTERM)
        assert op.wait_exit() == 0


def crd_with_kubectl(ws):
    """kubectl apply -f crds/; kubectl get llmd shows the columns; a resource violating the
    schema is refused naming the field; defaults are applied; scale works."""
    cluster = Devcluster(ws)
    cluster.install_crds()
    cluster.kubectl("apply", "-f", "-", input=llmd("story", replicas=3))
    header = cluster.kubectl("get", "llmd").stdout.splitlines()[0].split()
    assert header == ["NAME", "REPLICAS", "READY", "STABLE", "CANARY", "WEIGHT", "PHASE", "AGE"], header
    obj = cluster.get_json("llmd", "story")
    assert obj["spec"]["runtime"]["numa"] == "bind"
    assert obj["spec"]["runtime"]["maxBatch"] == 16
    assert obj["spec"]["rollout"]["progressDeadlineSeconds"] == 600
    assert obj["spec"]["traffic"]["router"] == "Builtin"
    assert obj["spec"]["revisionHistoryLimit"] == 10
    bad = llmd("bad", replicas=-1)
    result = cluster.kubectl("apply", "-f", "-", input=bad, check=False)
    assert result.returncode != 0 and "spec.replicas" in result.stderr, result.stderr
    bad_numa = llmd("bad2").replace('"image"', '"numa": "fast", "image"')
    result = cluster.kubectl("apply", "-f", "-", input=bad_numa, check=False)
    assert result.returncode != 0 and "spec.runtime.numa" in result.stderr, result.stderr
    cluster.kubectl("scale", "llmd", "story", "--replicas=6")
    assert cluster.get_json("llmd", "story")["spec"]["replicas"] == 6


def shipped_operator(ws):
    """llmops-operator itself: observes LLMDeployments, serves /metrics, /healthz, /readyz,
    and stops on SIGTERM releasing its lease."""
    cluster = Devcluster(ws)
    cluster.install_crds()
    cluster.kubectl("apply", "-f", "-", input=llmd("story"))
    op = start_operator(ws, "operator", cluster.kubeconfig, "--leader-elect", binary=OPERATOR_BIN)
    op.wait_log(r"event=observed key=default/story generation=1")
    port = served_port(op)
    assert http_get(port, "/healthz")[0] == 200
    assert http_get(port, "/readyz")[0] == 200
    _, metrics = http_get(port, "/metrics")
    assert "llmops_leader_election_is_leader 1" in metrics, metrics
    op.signal(signal.SIGTERM)
    assert op.wait_exit() == 0
    lease = cluster.get_json("lease", "llmops-operator")
    assert lease["spec"]["holderIdentity"] == "" and lease["spec"]["leaseDurationSeconds"] == 1
    usage = subprocess.run([OPERATOR_BIN, "--bogus"], capture_output=True, text=True)
    assert usage.returncode == 2 and "--metrics-addr" in usage.stderr


CASES = {
    "informer_crud": informer_crud,
    "watch_broken_and_expired": watch_broken_and_expired,
    "conflict_retried": conflict_retried,
    "leader_election": leader_election,
    "devcluster_restart": devcluster_restart,
    "wrong_ca": wrong_ca,
    "tls_server_name": tls_server_name,
    "crd_with_kubectl": crd_with_kubectl,
    "shipped_operator": shipped_operator,
}

if __name__ == "__main__":
    run(CASES)
