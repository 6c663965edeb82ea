"""A pod running a small HTTP server (python -m http.server) becomes Ready through its
readiness probe, answers on its pod IP, shows node and IP in `kubectl get pods -o wide`
and its output in `kubectl logs` (also `-f`); a Service's endpoints and endpointslice list it only
while it is ready; deleting it stops its process and removes the object."""
import os
import subprocess
import sys
import tempfile
import time

from cluster_harness import (apply, cluster, container_pid, get, http_get, kubectl, pid_alive,
                             pod_ready, python_server_pod, service, wait_for)


def endpoint_ips(dc, field):
    endpoints = get(dc, "endpoints", "web") or {}
    return sorted(a["ip"] for s in endpoints.get("subsets", []) for a in s.get(field, []))


def main():
    with cluster() as dc:
        site = tempfile.mkdtemp(prefix="devcluster-site.")
        with open(os.path.join(site, "ready.txt"), "w") as f:
            f.write("ok\n")
        nodes = kubectl(dc, "get", "nodes", "-o", "name").split()
        assert nodes == ["node/devcluster-node-1"], nodes
        node = get(dc, "node", "devcluster-node-1", namespace="")
        assert node["status"]["capacity"]["cpu"] != "0", node["status"]
        assert get(dc, "lease", "devcluster-node-1", namespace="kube-node-lease")["spec"]["renewTime"]

        apply(dc, [python_server_pod("web", {"app": "web"}, workdir=site,
                                     readiness_path="/ready.txt"),
                   service("web", {"app": "web"})])
        pod = wait_for("pod web Ready", lambda: (p := get(dc, "pod", "web")) and pod_ready(p) and p)
        ip = pod["status"]["podIP"]
        assert ip.startswith("127.") and ip != "127.0.0.1", ip
        assert pod["spec"]["nodeName"] == "devcluster-node-1"
        status, body = http_get(f"http://{ip}:8080/ready.txt")
        assert status == 200 and body == "ok\n", (status, body)

        wide = kubectl(dc, "get", "pods", "-o", "wide")
        assert "devcluster-node-1" in wide and ip in wide and "Running" in wide, wide
        logs = wait_for("logs", lambda: (out := kubectl(dc, "logs", "web")) and
                        "GET /ready.txt" in out and out)
        assert f"Serving HTTP on {ip} port 8080" in logs, logs

        # Endpoints follow readiness: ready -> addresses; probe failing -> notReadyAddresses.
        wait_for("endpoints list the pod", lambda: endpoint_ips(dc, "addresses") == [ip])
        slice_ = get(dc, "endpointslice", "web-devcluster")
        assert slice_["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
        assert slice_["endpoints"][0]["addresses"] == [ip]
        assert slice_["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}], slice_
        os.remove(os.path.join(site, "ready.txt"))
        wait_for("pod unready", lambda: not pod_ready(get(dc, "pod", "web")))
        wait_for("endpoints drop the pod", lambda: endpoint_ips(dc, "addresses") == [] and
                 endpoint_ips(dc, "notReadyAddresses") == [ip])
        assert get(dc, "endpointslice", "web-devcluster")["endpoints"][0]["conditions"]["ready"] is False
        with open(os.path.join(site, "ready.txt"), "w") as f:
            f.write("ok\n")
        wait_for("endpoints list the pod again", lambda: endpoint_ips(dc, "addresses") == [ip])

        # Deletion: SIGTERM ends http.server at once; the object goes, then the process.
        # A `kubectl logs -f` follows the output until then.
        pid = container_pid(get(dc, "pod", "web"))
        assert pid and pid_alive(pid), pid
        follower = subprocess.Popen(["kubectl", "--kubeconfig", dc.kubeconfig, "logs", "-f", "web"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    env=dict(os.environ, HOME=dc.work))
        time.sleep(1.5)
        started = time.time()
        kubectl(dc, "delete", "pod", "web", "--timeout=30s")
        assert time.time() - started < 5, "SIGTERM should end http.server quickly"
        followed, _ = follower.communicate(timeout=15)
        assert f"Serving HTTP on {ip}" in followed and "GET /ready.txt" in followed, followed
        assert get(dc, "pod", "web") is None
        wait_for("process gone", lambda: not pid_alive(pid), timeout=5)
        wait_for("endpoints empty", lambda: endpoint_ips(dc, "addresses") == [] and
                 endpoint_ips(dc, "notReadyAddresses") == [])
    print("PASS")


if __name__ == "__main__":
    sys.exit(main())
