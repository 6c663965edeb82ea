"""Container lifecycle on the process kubelet: a container that exits restarts under
restartPolicy Always with a growing back-off and a rising restart count (CrashLoopBackOff
in between, the previous run's output in `kubectl logs --previous`); a failing liveness
probe restarts a container; restartPolicy Never leaves a failed pod Failed; a process
that ignores SIGTERM is killed at the end of the grace period; a pod asking for more CPU
than any node has stays Pending with a FailedScheduling event."""
import json
import sys
import time

from cluster_harness import (apply, cluster, container_pid, get, kubectl, pid_alive,
                             python_server_pod, wait_for)


def shell_pod(name, script, restart_policy="Always", grace=30, cpu=None):
    container = {"name": "main", "image": "registry.example/python:3",
                 "command": ["/bin/sh", "-c", script]}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu}}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"restartPolicy": restart_policy, "terminationGracePeriodSeconds": grace,
                     "containers": [container]}}


def container_status(dc, name):
    pod = get(dc, "pod", name) or {}
    statuses = pod.get("status", {}).get("containerStatuses", [])
    return statuses[0] if statuses else {}


def main():
    with cluster() as dc:
        apply(dc, [shell_pod("crash", "echo run $(date +%s.%N); exit 3"),
                   shell_pod("once", "echo failing; exit 4", restart_policy="Never"),
                   shell_pod("stubborn", "trap '' TERM; echo started; while :; do sleep 0.1; done",
                             grace=2),
                   shell_pod("huge", "sleep 1", cpu="4096"),
                   python_server_pod("unhealthy", liveness_path="/missing")])

        # Crash loop: restart counts rise; the gaps between runs grow (0 s, 1 s, 2 s, 4 s).
        seen_backoff = False
        restart_times = {}
        deadline = time.time() + 30
        while time.time() < deadline:
            status = container_status(dc, "crash")
            count = status.get("restartCount", 0)
            restart_times.setdefault(count, time.time())
            waiting = status.get("state", {}).get("waiting", {})
            seen_backoff = seen_backoff or waiting.get("reason") == "CrashLoopBackOff"
            if count >= 4:
                break
            time.sleep(0.05)
        assert max(restart_times) >= 4, restart_times
        assert seen_backoff, "no CrashLoopBackOff state observed"
        assert restart_times[4] - restart_times[3] > restart_times[2] - restart_times[1], restart_times
        last = container_status(dc, "crash")["lastState"]["terminated"]
        assert last["exitCode"] == 3 and last["reason"] == "Error", last
        assert "run " in kubectl(dc, "logs", "crash", "--previous")
        assert "CrashLoopBackOff" in kubectl(dc, "get", "pod", "crash") or \
            "Error" in kubectl(dc, "get", "pod", "crash")

        # restartPolicy Never: the pod fails and stays down.
        wait_for("pod once Failed", lambda: (get(dc, "pod", "once") or {}).get("status", {})
                 .get("phase") == "Failed")
        assert container_status(dc, "once")["restartCount"] == 0
        assert container_status(dc, "once")["state"]["terminated"]["exitCode"] == 4

        # Liveness: /missing answers 404, so the container is restarted.
        wait_for("liveness restart", lambda: container_status(dc, "unhealthy")
                 .get("restartCount", 0) >= 1, timeout=30)

        # Unschedulable: Pending, PodScheduled False, a FailedScheduling event.
        huge = wait_for("huge unschedulable", lambda: (p := get(dc, "pod", "huge")) and any(
            c["type"] == "PodScheduled" and c["status"] == "False"
            for c in p["status"].get("conditions", [])) and p)
        assert huge["status"]["phase"] == "Pending" and not huge["spec"].get("nodeName")
        events = json.loads(kubectl(dc, "get", "events", "-o", "json"))["items"]
        failed = [e for e in events if e["reason"] == "FailedScheduling"
                  and e["involvedObject"]["name"] == "huge"]
        assert failed and "Insufficient cpu" in failed[0]["message"], events

        # A process ignoring SIGTERM: killed at the grace period's end, then deleted.
        stubborn = wait_for("stubborn running", lambda: container_pid(get(dc, "pod", "stubborn")))
        wait_for("stubborn log", lambda: "started" in kubectl(dc, "logs", "stubborn"))
        started = time.time()
        kubectl(dc, "delete", "pod", "stubborn", "--timeout=30s")
        elapsed = time.time() - started
        assert 1.5 < elapsed < 10, elapsed
        assert not pid_alive(stubborn)
        assert get(dc, "pod", "stubborn") is None
    print("PASS")


if __name__ == "__main__":
    sys.exit(main())
