"""The process kubelet (`llmops-devcluster kubelet`) on the real control plane of the
fixture real_control_plane, beyond what the manifests test shows:

  bad_input  a kubelet whose credentials have no rights for its node logs the 403 with
             what it needs and keeps retrying; when the apiserver goes away the node's
             kubelet logs it, keeps its pods running (same process), and recovers when
             the apiserver is back.

Environment: REAL_CLUSTER_DIR, DEVCLUSTER_BIN."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness import real_cluster, waiter  # noqa: E402

RealCluster = real_cluster.RealCluster
wait = waiter(None, 0.25)


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def no_rights(cluster, work):
    """The node's own credentials used for another node name: every request is refused by
    the Node authorizer; the kubelet says so, names what it needs, and retries."""
    log_path = os.path.join(work, "intruder.log")
    with open(log_path, "ab") as log:
        kubelet = subprocess.Popen(
            [os.environ["DEVCLUSTER_BIN"], "kubelet",
             "--kubeconfig", os.path.join(cluster.dir, "kubelet.kubeconfig"),
             "--node-name", "intruder", "--data-dir", os.path.join(work, "intruder")],
            stdout=log, stderr=subprocess.STDOUT)
    try:
        line = wait("the forbidden node request logged", lambda: [
            l for l in read(log_path).splitlines()
            if "event=api_request_failed component=node" in l], 30)[0]
        assert "forbidden" in line and "system:node:intruder" in line, line
        time.sleep(3)
        assert kubelet.poll() is None, "the kubelet must keep retrying"
        # Logged when the failure starts (and every 30 s), not on every retry.
        node_lines = [l for l in read(log_path).splitlines()
                      if "event=api_request_failed component=node" in l]
        assert len(node_lines) == 1, node_lines
        assert cluster.get_json("node", "intruder") is None
    finally:
        kubelet.terminate()
        kubelet.wait(timeout=30)
    print("no rights: logged once with the reason, retried, nothing registered")


def apiserver_gone(cluster, work):
    """The apiserver stops while a pod runs: the kubelet logs it, the pod's process keeps
    running (a kubelet never stops pods because it cannot see the API), and once the
    apiserver is back the kubelet recovers and the pod is still the same process."""
    kubelet_log = os.path.join(cluster.dir, "logs", "kubelet.log")
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "survivor", "namespace": "default"},
           "spec": {"terminationGracePeriodSeconds": 2, "containers": [{
               "name": "sleep", "image": "python:3.12",
               "command": ["/usr/bin/python3", "-c", "import time; time.sleep(600)"]}]}}
    cluster.kubectl("apply", "-f", "-", input=json.dumps(pod))
    try:
        def running_pid():
            p = cluster.get_json("pod", "survivor")
            statuses = (p or {}).get("status", {}).get("containerStatuses", [])
            cid = statuses[0].get("containerID", "") if statuses else ""
            return int(cid[len("process://"):]) if cid.startswith("process://") else None
        pid = wait("the pod running", running_pid, 60)
        before = len(read(kubelet_log))
        cluster.stop_component("kube-apiserver")
        try:
            wait("the kubelet to log the unreachable apiserver", lambda: re.search(
                r"event=api_request_failed component=\w+ .*unreachable", read(kubelet_log)[before:]), 30)
            time.sleep(3)
            assert pid_alive(pid), "the pod's process was stopped while the apiserver was away"
        finally:
            cluster.start_component("kube-apiserver")
        cluster.wait_ready()
        wait("the kubelet to recover", lambda: "event=api_recovered" in read(kubelet_log)[before:], 60)
        assert pid_alive(pid) and running_pid() == pid, "the pod must be the same process"
        print(f"apiserver gone: pod pid {pid} kept running; the kubelet recovered")
    finally:
        cluster.kubectl("delete", "pod", "survivor", "--ignore-not-found", "--wait=true",
                        "--timeout=60s", check=False)


def main():
    work = tempfile.mkdtemp(prefix="real-kubelet.")
    cluster = RealCluster(home=work)
    try:
        no_rights(cluster, work)
        apiserver_gone(cluster, work)
    finally:
        subprocess.run(["rm", "-rf", work])
    print("PASS")


if __name__ == "__main__":
    main()
