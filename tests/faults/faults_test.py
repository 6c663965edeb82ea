#!/usr/bin/python3
"""The fault suite (ctest label `faults`): llmops under partitions, API server crashes and
watch expiry, on llmops-devcluster (see fault_harness.py for the network set-up).

usage: faults_test.py CASE
  operator_partition  the leading operator is cut off from the API server mid-rollout: it
                      stops writing before the other replica takes the Lease over (checked
                      in the API server's access log: no write from it after the takeover),
                      and the rollout finishes correctly after the heal
  router_partition    the router cut off from the API server keeps serving its last table
                      with no failed request, and follows changes again after the heal
  canary_partition    a canary pod cut off from the router is ejected; its share is served
                      by stable with no failed client request
  apiserver_restarts  kill -9 and restart of the API server at every step of a rollout:
                      the rollout completes, no duplicate pods, no lost status
  watch_expiry        a watch history of 20 events under constant writes, connections
                      broken every ~10 writes (ss -K), so watches resume into 410 Expired
                      all the time: two rollouts complete, no duplicate pods
"""
import json
import os
import re
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


def writes_from(entries, source_ip):
    return [(i, e) for i, e in enumerate(entries)
            if e.get("sourceIP") == source_ip and e.get("verb") in ("create", "update", "patch", "delete")]


def operator_partition(work):
    if h.backend() != "devcluster":
        h.skip("partitions run on the devcluster (the real API server is not on the fabric)")
    fabric = h.Fabric()
    cluster = None
    try:
        ns = fabric.namespace("op")
        cluster = h.Cluster(work, fabric)
        models = h.make_models(work)
        lease_flags = ("--leader-elect", "--lease-namespace", "llmops-system")
        a = cluster.spawn("operator-a", h.operator_argv(cluster, *lease_flags), ns=ns)
        h.wait("operator A (namespaced) to lead", lambda: "event=leading" in a.log(), 60)
        b = cluster.spawn("operator-b", h.operator_argv(cluster, *lease_flags))
        h.wait("operator B to campaign", lambda: "event=lease_campaign" in b.log(), 30)
        apply(cluster, h.llmd(models, [{"setWeight": 50}, {"pause": {"duration": "20s"}}]))
        h.wait("revision 1 healthy", lambda: h.healthy_on(1)(cluster.deployment()), 120)

        patch_model(cluster, models, "v2")
        h.wait("the canary at 50% (pausing)", lambda: cluster.deployment().get("status", {}).get(
            "canaryWeight") == 50, 90)
        cut_line = len(cluster.access_log())
        ns.cut(fabric.host_ip, cluster.port)
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

        # Fencing, from the API server's access log: B's first successful Lease write after
        # the cut is the takeover; no write of A's may have been received after it.
        entries = cluster.access_log()
        takeover = next(e for e in entries[cut_line:]
                        if e.get("sourceIP") != ns.ip and e.get("resource") == "leases" and
                        e.get("namespace") == "llmops-system" and
                        e.get("verb") in ("update", "create") and e.get("code") in (200, 201))
        a_writes = [e for _, e in writes_from(entries, ns.ip)]
        assert a_writes, "operator A never wrote: the test saw nothing"
        late = [e for e in a_writes if e["receivedAt"] >= takeover["receivedAt"]]
        print(f"operator A: {len(a_writes)} writes, the last received at "
              f"{a_writes[-1]['receivedAt']}; B took the Lease over at {takeover['receivedAt']}")
        assert not late, f"operator A wrote after B took over (no fencing): {late[:3]}"
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
        self.relays = []
        self.ns = self.fabric.namespace("rt")
        self.cluster = h.Cluster(work, self.fabric)
        self.models = h.make_models(work)
        self.operator = self.cluster.spawn("operator", h.operator_argv(self.cluster))
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
        self.relays.append(self.cluster.spawn("relay-host", ["/usr/bin/python3", h.RELAY, *pairs_host]))
        self.relays.append(self.cluster.spawn("relay-ns", ["/usr/bin/python3", h.RELAY, *pairs_ns],
                                              ns=self.ns))
        for relay in self.relays:
            h.wait(f"{relay.name} ready", lambda relay=relay: "ready" in relay.log(), 30)
        self.router_port = 8000
        self.router = self.cluster.spawn("router", [
            h.ROUTER, "--listen", f"{self.ns.ip}:{self.router_port}", "--kubeconfig",
            self.cluster.kubeconfig, "--upstream-first-byte-timeout", "2"], ns=self.ns)
        h.wait("the router to route", self._routes, 60)

    def _canary_ready(self):
        s = self.cluster.deployment().get("status", {})
        traffic = {t["revision"]: t["weight"] for t in s.get("traffic", [])}
        return traffic.get(2) == 50 and s.get("readyReplicas", 0) >= 3

    def _routes(self):
        try:
            conn = h.http.client.HTTPConnection(self.ns.ip, self.router_port, timeout=10)
            conn.request("POST", "/v1/completions", json.dumps(
                {"model": h.NAME, "prompt": "x", "max_tokens": 1}), {"Content-Type": "application/json"})
            return conn.getresponse().status == 200
        except OSError:
            return False

    def metrics(self):
        return h.metrics_text(self.ns.ip, self.router_port)

    def close(self):
        if self.cluster:
            self.cluster.close()
        self.fabric.close()


def router_partition(work):
    if h.backend() != "devcluster":
        h.skip("partitions run on the devcluster (the real API server is not on the fabric)")
    world = RoutedWorld(work, [{"setWeight": 50}, {"pause": {}}])
    try:
        clients = h.Clients(world.ns.ip, world.router_port)
        time.sleep(2)
        world.ns.cut(world.fabric.host_ip, world.cluster.port)
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
    if h.backend() != "devcluster":
        h.skip("partitions run on the devcluster (the real API server is not on the fabric)")
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
            {"pause": {"duration": "2s"}}]


def apiserver_restarts(work):
    if h.backend() != "devcluster":
        h.skip("the real-control-plane variant needs scripts/real-cluster.sh (issue 14)")
    cluster = h.Cluster(work)
    try:
        models = h.make_models(work)
        cluster.spawn("operator", h.operator_argv(cluster))
        apply(cluster, h.llmd(models, rollout_steps()))
        h.wait("revision 1 healthy", lambda: h.healthy_on(1)(cluster.deployment()), 120)
        patch_model(cluster, models, "v2")
        kills = []

        def killing():
            d = cluster.deployment()
            s = d.get("status", {})
            point = (s.get("canaryRevision"), s.get("currentStep"))
            if s.get("canaryRevision") and point not in kills:
                kills.append(point)
                cluster.kill9_and_restart()
                print(f"kill -9 and restart of the API server at canary {point[0]} step {point[1]}",
                      flush=True)
            return h.healthy_on(2)(d)

        h.wait("the rollout to finish despite the restarts", killing, 300, interval=0.3)
        steps = sorted({p[1] for p in kills})
        print(f"restarts at steps {steps}")
        assert {0, 1} <= set(steps), steps
        h.wait("no duplicate pods", lambda: h.no_duplicate_pods(cluster, 2, 2), 90)
        status = cluster.deployment()["status"]
        assert [r["revision"] for r in status["revisions"]] == [1, 2], status["revisions"]
        assert status["stableRevision"] == 2 and status.get("traffic") == [
            {"revision": 2, "weight": 100}], status
    finally:
        cluster.close()


def watch_expiry(work):
    if h.backend() != "devcluster":
        h.skip("a small watch history is a devcluster flag")
    # No bookmarks: a watch's resourceVersion moves only with its own resource's events,
    # so after 20 other writes it is too old to resume.
    cluster = h.Cluster(work, flags=["--watch-history", "20", "--bookmark-interval-ms", "600000"])
    stop = threading.Event()
    try:
        models = h.make_models(work)
        cluster.spawn("operator", h.operator_argv(cluster))
        apply(cluster, h.llmd(models, rollout_steps()))
        h.wait("revision 1 healthy", lambda: h.healthy_on(1)(cluster.deployment()), 120)

        writes = [0]

        def write_load():
            i = 0
            while not stop.is_set():
                if i % 10 == 9:
                    # Break every client connection to the API server (ss -K): watches
                    # resume from their last resourceVersion, long compacted by now: 410.
                    h.run("ss", "-K", "dst", cluster.host, "dport", "=", f":{cluster.port}",
                          check=False)
                cluster.kubectl("create", "configmap", f"load-{i}", f"--from-literal=i={i}", check=False)
                if i >= 5:
                    cluster.kubectl("delete", "configmap", f"load-{i - 5}", "--wait=false", check=False)
                writes[0] += 2
                i += 1

        writers = [threading.Thread(target=write_load, daemon=True)]
        for t in writers:
            t.start()
        patch_model(cluster, models, "v2")
        h.wait("the rollout to finish with watches expiring", lambda: h.healthy_on(2)(cluster.deployment()), 240)
        patch_model(cluster, models, "v3")
        h.wait("a second rollout to finish", lambda: h.healthy_on(3)(cluster.deployment()), 240)
        stop.set()
        for t in writers:
            t.join(timeout=60)
        h.wait("no duplicate pods", lambda: h.no_duplicate_pods(cluster, 3, 2), 90)
        status = cluster.deployment()["status"]
        assert [r["revision"] for r in status["revisions"]] == [1, 2, 3], status["revisions"]
        operator_log = cluster.processes[0].log()
        expired = len(re.findall(r"410|Expired|too old", operator_log))
        print(f"{writes[0]} writes meanwhile; {expired} expired-watch lines in the operator's log")
        assert expired > 0, "no watch ever expired: the test did not test anything"
    finally:
        stop.set()
        cluster.close()


if __name__ == "__main__":
    h.main({f.__name__: f for f in (operator_partition, router_partition, canary_partition,
                                     apiserver_restarts, watch_expiry)})
