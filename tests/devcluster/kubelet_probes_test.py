"""Probes on the process kubelet run off its lock, and exec and tcpSocket probes run for
real: `kubectl logs` answers while an httpGet probe hangs on a server that never replies
(and other pods' probes go on); a tcpSocket readiness probe keeps a pod unready until its
port opens; exec `true` makes a pod ready and exec `false` does not; a failing exec
liveness probe restarts the container; a startup probe holds the other probes (and
readiness) back until it succeeds, and restarts the container when it keeps failing."""
import os
import socket
import sys
import tempfile
import time

from cluster_harness import apply, cluster, get, kubectl, pod_ready, wait_for


def pod(name, script, workdir=None, **probes):
    container = {"name": "main", "image": "registry.example/python:3",
                 "command": ["python3", "-u", "-c", script],
                 "env": [{"name": "POD_IP",
                          "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
                 **probes}
    if workdir:
        container["workingDir"] = workdir
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"terminationGracePeriodSeconds": 2, "containers": [container]}}


SLEEPER = "import time\nprint('hello from', __import__('os').environ['HOSTNAME'])\n" \
          "while True: time.sleep(1)"

# Listens on POD_IP:9000 once the file `open-port` exists in its working directory.
TCP_SERVER = """
import os, socket, time
print('waiting for open-port')
while not os.path.exists('open-port'):
    time.sleep(0.1)
server = socket.socket()
server.bind((os.environ['POD_IP'], 9000))
server.listen(16)
print('listening')
while True:
    connection, _ = server.accept()
    connection.close()
"""


def exec_probe(command, **fields):
    return {"exec": {"command": command}, "periodSeconds": 1, "failureThreshold": 1, **fields}


def container_field(dc, name, field):
    statuses = (get(dc, "pod", name) or {}).get("status", {}).get("containerStatuses", [])
    return statuses[0].get(field) if statuses else None


def restart_count(dc, name):
    return container_field(dc, name, "restartCount") or 0


def running(dc, name):
    statuses = (get(dc, "pod", name) or {}).get("status", {}).get("containerStatuses", [])
    return bool(statuses) and "running" in statuses[0].get("state", {})


def still_open(connection):
    """Whether the peer has not closed `connection` (what it sent is read and dropped)."""
    while True:
        try:
            data = connection.recv(65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return True
        if not data:
            return False


def main():
    # A server that accepts the probe's connection and never answers it.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    silent_port = silent.getsockname()[1]
    workdir = tempfile.mkdtemp(prefix="devcluster-probes.")
    with cluster() as dc:
        apply(dc, [pod("hang", SLEEPER, readinessProbe={
            "httpGet": {"host": "127.0.0.1", "port": silent_port, "path": "/healthz"},
            "timeoutSeconds": 3600, "periodSeconds": 1})])
        silent.settimeout(60)
        probe_connection, _ = silent.accept()
        # The probe now waits for a reply it will not get; the kubelet must still answer.
        logs = wait_for("logs of hang", lambda: "hello from hang" in (
            out := kubectl(dc, "logs", "hang")) and out)
        assert "hello from hang" in logs, logs
        assert still_open(probe_connection), "the hanging probe gave up: the test proved nothing"
        assert not pod_ready(get(dc, "pod", "hang"))

        # Other pods' probes run meanwhile.
        apply(dc, [pod("exec-true", SLEEPER, readinessProbe=exec_probe(["true"])),
                   pod("exec-false", SLEEPER, readinessProbe=exec_probe(["false"])),
                   pod("tcp", TCP_SERVER, workdir=workdir, readinessProbe={
                       "tcpSocket": {"port": 9000}, "periodSeconds": 1, "failureThreshold": 1}),
                   pod("exec-liveness", SLEEPER, livenessProbe=exec_probe(
                       ["sh", "-c", "test -f alive"])),
                   pod("slow-start", SLEEPER, workdir=workdir,
                       startupProbe=exec_probe(["test", "-f", "started"], failureThreshold=1000),
                       readinessProbe=exec_probe(["true"])),
                   pod("never-starts", SLEEPER,
                       startupProbe=exec_probe(["false"], failureThreshold=2))])
        wait_for("exec-true ready", lambda: pod_ready(get(dc, "pod", "exec-true")))
        wait_for("tcp running", lambda: running(dc, "tcp") and
                 "waiting for open-port" in kubectl(dc, "logs", "tcp"))
        wait_for("exec-false running", lambda: running(dc, "exec-false"))
        time.sleep(3)  # three probe periods: the failing probes have run and failed
        assert not pod_ready(get(dc, "pod", "exec-false"))
        assert not pod_ready(get(dc, "pod", "tcp"))
        assert running(dc, "slow-start") and not pod_ready(get(dc, "pod", "slow-start"))
        assert container_field(dc, "slow-start", "started") is False
        with open(os.path.join(workdir, "started"), "w"):
            pass
        wait_for("slow-start ready once started", lambda: pod_ready(get(dc, "pod", "slow-start")))
        assert container_field(dc, "slow-start", "started") is True
        assert restart_count(dc, "slow-start") == 0
        with open(os.path.join(workdir, "open-port"), "w"):
            pass
        wait_for("tcp ready once its port opens", lambda: pod_ready(get(dc, "pod", "tcp")))
        assert "listening" in kubectl(dc, "logs", "tcp")
        assert not pod_ready(get(dc, "pod", "exec-false"))

        # Liveness: `test -f alive` fails in the pod's directory, so the container restarts.
        wait_for("exec liveness restart", lambda: restart_count(dc, "exec-liveness") >= 1)
        wait_for("startup failure restart", lambda: restart_count(dc, "never-starts") >= 1)

        assert still_open(probe_connection), "the hanging probe ended before its timeout"
        assert not pod_ready(get(dc, "pod", "hang"))
        probe_connection.close()
    silent.close()
    print("PASS")


if __name__ == "__main__":
    sys.exit(main())
