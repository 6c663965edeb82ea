#!/usr/bin/python3
"""The fault suite (ctest label `faults`): llmops under partitions, API server crashes and
watch expiry, on llmops-devcluster (faults_<case>) or on the real control plane
(faults_real_<case>, LLMOPS_TEST_BACKEND=real; see fault_harness.py for the network set-up
and what differs between the two).

usage: faults_test.py CASE
  operator_partition  the leading operator is cut off from the API server mid-rollout: it
                      stops writing before the other replica takes the Lease over (checked
                      in the API server's access log, or the real one's audit log: no
                      write from it once its Lease expired or another took it), and the
                      rollout finishes correctly after the heal
  router_partition    the router cut off from the API server keeps serving its last table
                      with no failed request, and follows changes again after the heal
  canary_partition    a canary pod cut off from the router is ejected; its share is served
                      by stable with no failed client request
  apiserver_restarts  kill -9 and restart of the API server at every step of a rollout:
                      the rollout completes, no duplicate pods, no lost status; on the real
                      control plane (whose kubelet keeps the pods running) also no failed
                      client request through the router
  watch_expiry        watches resuming into 410 Expired all the time under constant writes
                      (the operator's connections broken every ~5 writes with ss -K; the
                      devcluster keeps a 20-event watch history, the real apiserver runs
                      without a watch cache and compacts etcd every 2 s): two rollouts
                      complete, no duplicate pods
"""
import datetime
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fault_harness as h  # noqa: E402


def patch_model(cluster, models, version):
    cluster.kubectl("patch", "llmd", h.NAME, "--type", "merge", "-p",
                    json.dumps({"spec": {"model": {"uri": f"file://{models}/{version}.gguf"}}}))


def apply(cluster, obj):
    cluster.kubectl("apply", "-f", "-", stdin=json.dumps(obj))


def utc_now():
    """Now in the write logs' format (RFC 3339, microseconds, UTC): strings that sort."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seconds(at):
    return datetime.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def operator_partition(work):
    fabric = h.Fabric()
    cluster = None
    try:
        ns = fabric.namespace("op")
        cluster = h.make_cluster(work, fabric)
        models = h.make_models(work)
        lease_flags = ("--leader-elect", "--lease-namespace", "llmops-system")
        api_a = cluster.endpoint("llmops-operator-a", ns)
        api_b = cluster.endpoint("llmops-operator-b")
        a = cluster.spawn("operator-a", h.operator_argv(api_a.kubeconfig, *lease_flags), ns=ns)
        h.wait("operator A (namespaced) to lead", lambda: "event=leading" in a.log(), 60)
        b = cluster.spawn("operator-b", h.operator_argv(api_b.kubeconfig, *lease_flags))
        h.wait("operator B to campaign", lambda: "event=lease_campaign" in b.log(), 30)
        apply(cluster, h.llmd(models, [{"setWeight": 50}, {"pause": {"duration": "20s"}}]))
        h.wait("revision 1 healthy", lambda: h.healthy_on(1)(cluster.deployment()), 120)

        patch_model(cluster, models, "v2")
        h.wait("the canary at 50% (pausing)", lambda: cluster.deployment().get("status", {}).get(
            "canaryWeight") == 50, 90)
        since = utc_now()
        ns.cut(*api_a.cut)
        cut_at = time.time()
        print("cut operator A off the API server", flush=True)
        h.wait("operator B to take the Lease over", lambda: "event=leading" in b.log(), 90)
        print(f"operator B leads {time.time() - cut_at:.1f} s after the cut", flush=True)
        h.wait("operator A to give up leading", lambda: "event=leadership_lost" in a.log(), 60)
        time.sleep(3)
        ns.heal()
        print("healed", flush=True)
        h.wait("the rollout to finish under B", lambda: h.healthy_on(2)(cluster.deployment()), 150)
        h.wait("no duplicate pods", lambda: h.no_duplicate_pods(cluster, 2, 2), 60)
        time.sleep(15)  # what A still had on its way (TCP retransmits) would have landed

        # Fencing, from the API server's write log: B's first successful Lease write after
        # the cut is the takeover; A's Lease expired a lease duration after its last
        # successful renew. No write of A's may have been received after either.
        writes = cluster.writes()

        def lease_write(e):
            return (e["resource"] == "leases" and e["namespace"] == "llmops-system" and
                    e["verb"] in ("update", "create", "patch") and e["code"] in (200, 201))
        takeover = next((e for e in writes if e["at"] >= since and e["who"] != api_a.who and
                         lease_write(e)), None)
        assert takeover, "no Lease write of another operator after the cut"
        a_writes = [e for e in writes if e["who"] == api_a.who]
        assert a_writes, "operator A never wrote: the test saw nothing"
        a_renews = [e for e in a_writes if lease_write(e) and e["at"] < since]
        assert a_renews, "no Lease write of operator A before the cut"
        lease = cluster.get("lease", "-n", "llmops-system", "llmops-operator")
        duration = lease["spec"]["leaseDurationSeconds"]
        expiry = seconds(a_renews[-1]["at"]) + duration
        fence = min(seconds(takeover["at"]), expiry)
        late = [e for e in a_writes if seconds(e["at"]) >= fence]
        print(f"operator A: {len(a_writes)} writes, the last received at {a_writes[-1]['at']}; "
              f"its last renew at {a_renews[-1]['at']} (Lease valid {duration} s after); "
              f"B took the Lease over at {takeover['at']}")
        assert not late, f"operator A wrote after its Lease ended (no fencing): {late[:3]}"
        d = cluster.deployment()
        revisions = [r["revision"] for r in d["status"]["revisions"]]
        assert revisions == [1, 2], revisions
    finally:
        if cluster:
            cluster.close()
        fabric.close()


class RoutedWorld:
    """Operator on the host, the router in a namespace reaching the pods through relays."""

    def __init__(self, work, steps, canary=False):
        self.fabric = h.Fabric()
        self.cluster = None
        try:
            self.start(work, steps, canary)
        except BaseException:
            self.close()
            raise

    def start(self, work, steps, canary):
        self.ns = self.fabric.namespace("rt")
        self.cluster = h.make_cluster(work, self.fabric)
        self.models = h.make_models(work)
        operator_api = self.cluster.endpoint("llmops-operator")
        self.operator = self.cluster.spawn("operator", h.operator_argv(operator_api.kubeconfig))
        apply(self.cluster, h.llmd(self.models, steps))
        h.wait("revision 1 healthy", lambda: h.healthy_on(1)(self.cluster.deployment()), 120)
        if canary:
            patch_model(self.cluster, self.models, "v2")
            h.wait("the canary ready at 50%", lambda: self._canary_ready(), 120)
        self.pod_hops = {}  # pod name -> host relay port
        pairs_host, pairs_ns = [], []
        for pod in self.cluster.pods():
            ip = pod["status"]["podIP"]
            port = h.free_port(self.fabric.host_ip)
            self.pod_hops[pod["metadata"]["name"]] = port
            pairs_host.append(f"{self.fabric.host_ip}:{port}={ip}:8080")
            pairs_ns.append(f"{ip}:8080={self.fabric.host_ip}:{port}")
        relays = [self.cluster.spawn("relay-host", ["/usr/bin/python3", h.RELAY, *pairs_host]),
                  self.cluster.spawn("relay-ns", ["/usr/bin/python3", h.RELAY, *pairs_ns],
                                     ns=self.ns)]
        for relay in relays:
            h.wait(f"{relay.name} ready", lambda relay=relay: "ready" in relay.log(), 30)
        self.router_api = self.cluster.endpoint("llmops-router", self.ns)
        self.router_port = 8000
        self.router = self.cluster.spawn("router", [
            h.ROUTER, "--listen", f"{self.ns.ip}:{self.router_port}", "--kubeconfig",
            self.router_api.kubeconfig, "--upstream-first-byte-timeout", "2"], ns=self.ns)
        h.wait("the router to route", lambda: routes(self.ns.ip, self.router_port), 60)

    def _canary_ready(self):
        s = self.cluster.deployment().get("status", {})
        traffic = {t["revision"]: t["weight"] for t in s.get("traffic", [])}
        return traffic.get(2) == 50 and s.get("readyReplicas", 0) >= 3

    def metrics(self):
        return h.metrics_text(self.ns.ip, self.router_port)

    def close(self):
        if self.cluster:
            self.cluster.close()
        self.fabric.close()


def router_partition(work):
    world = RoutedWorld(work, [{"setWeight": 50}, {"pause": {}}])
    try:
        clients = h.Clients(world.ns.ip, world.router_port)
        time.sleep(2)
        world.ns.cut(*world.router_api.cut)
        print("cut the router off the API server", flush=True)
        # A second model appears while the router cannot see it (no pods: replicas 0).
        other = h.llmd(world.models, [{"setWeight": 50}], replicas=0)
        other["metadata"]["name"] = "other"
        other["spec"]["model"]["name"] = "other-model"
        apply(world.cluster, other)
        time.sleep(25)
        assert "other-model" not in models_served(world), "the router saw through the cut"
        ready = h.http.client.HTTPConnection(world.ns.ip, world.router_port, timeout=10)
        ready.request("GET", "/readyz")
        assert ready.getresponse().status == 200, "the router stopped being ready"
        total, failures = clients.stop()
        assert not failures, f"{len(failures)} of {total} failed while partitioned: {failures[:3]}"
        print(f"partitioned: {total} requests, none failed", flush=True)
        # After the heal it follows the API again.
        world.ns.heal()
        h.wait("the router to learn of the new model after the heal",
               lambda: "other-model" in models_served(world), 120)
        clients = h.Clients(world.ns.ip, world.router_port)
        time.sleep(5)
        total, failures = clients.stop()
        assert not failures, f"{len(failures)} of {total} failed after the heal: {failures[:3]}"
        print(f"after the heal: {total} requests, none failed", flush=True)
    finally:
        world.close()


def models_served(world):
    conn = h.http.client.HTTPConnection(world.ns.ip, world.router_port, timeout=10)
    conn.request("GET", "/v1/models")
    return [m["id"] for m in json.loads(conn.getresponse().read())["data"]]


def canary_partition(work):
    world = RoutedWorld(work, [{"setWeight": 50}, {"pause": {}}], canary=True)
    try:
        clients = h.Clients(world.ns.ip, world.router_port, clients=3)
        time.sleep(3)
        canary = [p for p in world.cluster.pods() if p["metadata"]["labels"]["llmops.dev/revision"] == "2"]
        assert len(canary) == 1, canary
        world.ns.cut(world.fabric.host_ip, world.pod_hops[canary[0]["metadata"]["name"]])
        cut_at = time.time()
        print("cut the canary pod off the router", flush=True)
        h.wait("the canary pod ejected", lambda: h.metric_sum(
            world.metrics(), "llmops_router_ejections_total", revision="2") >= 1, 60)
        ejected_at = time.time()
        time.sleep(10)
        total, failures = clients.stop()
        assert not failures, f"{len(failures)} of {total} failed: {failures[:3]}"
        after = [r for t, r in clients.log if t > ejected_at + 1]
        print(f"{total} requests, none failed; after the ejection {len(after)} served, by "
              f"revision {sorted(set(after))}; ejected {ejected_at - cut_at:.1f} s after the cut")
        assert after and set(after) == {"1"}, set(after)
    finally:
        world.close()


def rollout_steps():
    return [{"setWeight": 50}, {"pause": {"duration": "3s"}}, {"setWeight": 100},
            {"pause": {"duration": "3s"}}]


def apiserver_restarts(work):
    cluster = h.make_cluster(work)
    clients = None
    try:
        models = h.make_models(work)
        cluster.spawn("operator", h.operator_argv(cluster.endpoint("llmops-operator").kubeconfig))
        apply(cluster, h.llmd(models, rollout_steps()))
        h.wait("revision 1 healthy", lambda: h.healthy_on(1)(cluster.deployment()), 120)
        if h.backend() == "real":
            # The devcluster's kill -9 ends its pods too (it is the node): requests are
            # checked only where the kubelet outlives the API server.
            port = h.free_port()
            cluster.spawn("router", [h.ROUTER, "--listen", f"127.0.0.1:{port}", "--kubeconfig",
                                     cluster.endpoint("llmops-router").kubeconfig])
            h.wait("the router to route", lambda: routes("127.0.0.1", port), 60)
            clients = h.Clients("127.0.0.1", port)
        patch_model(cluster, models, "v2")
        # Step 0 (the canary's pods, its first weight) can pass between two looks when the
        # pods are ready within a fraction of a second: kill as it starts, on both backends.
        started = time.time()
        cluster.kill9_and_restart()
        kills = [(2, "spec")]
        print(f"kill -9 of the API server right after the spec change, ready again after "
              f"{time.time() - started:.1f} s", flush=True)

        def killing():
            d = cluster.deployment()
            s = d.get("status", {})
            point = (s.get("canaryRevision"), s.get("currentStep"))
            if s.get("canaryRevision") and point not in kills:
                kills.append(point)
                started = time.time()
                cluster.kill9_and_restart()
                print(f"kill -9 of the API server at canary {point[0]} step {point[1]}, "
                      f"ready again after {time.time() - started:.1f} s", flush=True)
            return h.healthy_on(2)(d)

        h.wait("the rollout to finish despite the restarts", killing, 300, interval=0.3)
        steps = [p[1] for p in kills]
        print(f"restarts at steps {steps}")
        # The pauses last 3 s and are looked at every 0.3 s, so each is seen on the real
        # control plane. On the devcluster the pods restart with the API server (it is the
        # node), so a kill can take the rollout past a pause while they come back: at least
        # one of the two pauses is seen there.
        paused = {1, 3} & set(steps)
        assert paused == {1, 3} if h.backend() == "real" else paused, steps
        h.wait("no duplicate pods", lambda: h.no_duplicate_pods(cluster, 2, 2), 90)
        status = cluster.deployment()["status"]
        assert [r["revision"] for r in status["revisions"]] == [1, 2], status["revisions"]
        assert status["stableRevision"] == 2 and status.get("traffic") == [
            {"revision": 2, "weight": 100}], status
        if clients:
            total, failures = clients.stop()
            clients = None
            print(f"{total} client requests through the router, {len(failures)} failed")
            assert total > 0 and not failures, f"{len(failures)} of {total} failed: {failures[:3]}"
    finally:
        if clients:
            clients.stop()
        cluster.close()


def routes(host, port):
    try:
        conn = h.http.client.HTTPConnection(host, port, timeout=10)
        conn.request("POST", "/v1/completions", json.dumps(
            {"model": h.NAME, "prompt": "x", "max_tokens": 1}), {"Content-Type": "application/json"})
        return conn.getresponse().status == 200
    except OSError:
        return False


def watch_expiry(work):
    cluster = h.make_cluster(work, expiring_watches=True)
    stop = threading.Event()
    try:
        models = h.make_models(work)
        operator = cluster.spawn("operator", h.operator_argv(
            cluster.endpoint("llmops-operator").kubeconfig))
        apply(cluster, h.llmd(models, rollout_steps()))
        h.wait("revision 1 healthy", lambda: h.healthy_on(1)(cluster.deployment()), 120)

        writes = [0]

        def configmap(i):
            return json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                               "metadata": {"name": f"load-{i}", "namespace": "default",
                                            "labels": {"llmops.dev/fault-load": "true"}},
                               "data": {"i": str(i)}})

        def write_load():
            i = 0
            while not stop.is_set():
                if i % 5 == 4:
                    # Break the operator's connections to the API server (ss -K): its
                    # watches resume from their last resourceVersion, long compacted: 410.
                    cluster.break_connections_of(operator)
                cluster.kubectl("create", "-f", "-", stdin=configmap(i), check=False)
                if i >= 5:
                    cluster.kubectl("delete", "configmap", f"load-{i - 5}", "--wait=false", check=False)
                writes[0] += 2
                i += 1

        writers = [threading.Thread(target=write_load, daemon=True)]
        for t in writers:
            t.start()
        started = time.time()
        patch_model(cluster, models, "v2")
        h.wait("the rollout to finish with watches expiring",
               lambda: h.healthy_on(2)(cluster.deployment()), 240)
        print(f"rollout to revision 2 in {time.time() - started:.0f} s", flush=True)
        started = time.time()
        patch_model(cluster, models, "v3")
        h.wait("a second rollout to finish", lambda: h.healthy_on(3)(cluster.deployment()), 240)
        print(f"rollout to revision 3 in {time.time() - started:.0f} s", flush=True)
        stop.set()
        for t in writers:
            t.join(timeout=60)
        h.wait("no duplicate pods", lambda: h.no_duplicate_pods(cluster, 3, 2), 90)
        status = cluster.deployment()["status"]
        assert [r["revision"] for r in status["revisions"]] == [1, 2, 3], status["revisions"]
        expired = operator.log().count("event=watch_expired")
        print(f"{writes[0]} writes meanwhile; {expired} watches of the operator expired (410)")
        assert expired > 0, "no watch ever expired: the test did not test anything"
    finally:
        stop.set()
        cluster.close()


if __name__ == "__main__":
    h.main({f.__name__: f for f in (operator_partition, router_partition, canary_partition,
                                     apiserver_restarts, watch_expiry)})
