"""Two devclusters started at once (as parallel tests do) pick different pod CIDRs and
run pods on the same port side by side; a restarted devcluster keeps its CIDR and
starts again the pods that should run, and stops every pod process when it exits."""
import glob
import sys

from cluster_harness import (apply, cluster, container_pid, get, http_get, kubectl, pid_alive,
                             pod_ready, python_server_pod, wait_for)


def cidr(dc):
    return open(f"{dc.data}/pod-cidr").read().strip()


def main():
    first, second = cluster("--nodes", "2"), cluster()
    try:
        first.start()
        second.start()
        assert cidr(first) != cidr(second), (cidr(first), cidr(second))
        wait_for("two nodes", lambda: kubectl(first, "get", "nodes", "-o", "name").split() ==
                 ["node/devcluster-node-1", "node/devcluster-node-2"])
        ips = []
        for dc in (first, second):
            # A readiness probe: Ready then means serving, also right after the restart.
            apply(dc, [python_server_pod("web", readiness_path="/")])
        for dc in (first, second):
            pod = wait_for("web running", lambda: (p := get(dc, "pod", "web")) and pod_ready(p) and p)
            ips.append(pod["status"]["podIP"])
            assert http_get(f"http://{pod['status']['podIP']}:8080/")[0] == 200
        assert ips[0] != ips[1], ips

        # Restart: same CIDR, same pod IP, a new process; the old one died with the server.
        old_cidr, old_pid = cidr(first), container_pid(get(first, "pod", "web"))
        first.stop()
        wait_for("old process gone", lambda: not pid_alive(old_pid), timeout=5)
        first.start()
        assert cidr(first) == old_cidr
        pod = wait_for("web running again", lambda: (p := get(first, "pod", "web")) and
                       pod_ready(p) and container_pid(p) != old_pid and p)
        assert pod["status"]["podIP"] == ips[0], pod["status"]
        assert http_get(f"http://{ips[0]}:8080/")[0] == 200
        new_pid = container_pid(pod)
        first.stop()
        wait_for("process stopped with the devcluster", lambda: not pid_alive(new_pid), timeout=5)

        # Stopping a devcluster ends its pods gracefully: SIGTERM first.
        apply(second, [{"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": "graceful", "namespace": "default"},
                        "spec": {"containers": [{
                            "name": "c", "image": "python",
                            "command": ["/bin/sh", "-c", "trap 'echo got TERM; exit 0' TERM; "
                                        "echo up; while :; do sleep 0.1; done"]}]}}])
        pod = wait_for("graceful running", lambda: (p := get(second, "pod", "graceful")) and
                       container_pid(p) and p)
        log = glob.glob(f"{second.data}/pods/default_graceful_*/c-0.log")[0]
        wait_for("graceful up", lambda: "up" in open(log).read())
        second.stop()
        assert not pid_alive(container_pid(pod))
        assert "got TERM" in open(log).read(), open(log).read()
    finally:
        first.close()
        second.close()
    print("PASS")


if __name__ == "__main__":
    sys.exit(main())
