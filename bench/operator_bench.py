#!/usr/bin/python3
"""Benchmark of the operator machinery with 1,000 LLMDeployments on llmops-devcluster:
time until the informer cache is synced (against the baseline of one `kubectl get llmd
-o json` of the same objects, measured in the same run), reconciles per second with a
trivial reconcile (llmops-test-operator: a no-op when status.observedGeneration is
current, else one status PUT), steady-state API requests per minute other than Lease
renewals (from the devcluster's access log; watch-driven, so it should be ~0) and
resident memory.

usage: bench/operator_bench.py [--build-dir build-op] [--objects 1000] [--steady-seconds 60]
Standard library only; run with Debian's /usr/bin/python3.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import harness  # noqa: E402

wait_for = harness.waiter(120.0, 0.02)


class Cluster(harness.Devcluster):
    """The devcluster of the run, its requests on one kept-open HTTPS connection."""

    def __init__(self, binary, data):
        super().__init__(data, binary=binary, log=os.devnull)
        self.start(timeout=120.0)
        self.kept = self.connection(timeout=None)

    def request(self, method, path, body=None):
        status, _, data = super().request(method, path, body if body else None,
                                          headers={"User-Agent": "operator-bench"},
                                          connection=self.kept)
        if status >= 300:
            sys.exit(f"error: {method} {path}: {status} {str(data)[:300]!r}")
        return data

    def stop(self):
        super().stop(timeout=None)


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def metric(port, name, labels_part):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and labels_part in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def start_operator(binary, cluster, log_path):
    log = open(log_path, "w")
    proc = subprocess.Popen([binary, "--kubeconfig", cluster.kubeconfig, "--leader-elect",
                             "--lease-name", "bench", "--metrics-addr", "127.0.0.1:0",
                             "--health-addr", "127.0.0.1:0", "--log-level", "warn"],
                            stdout=log, stderr=subprocess.STDOUT)
    return proc, time.monotonic()


def listening_port(pid):
    """The TCP port a process listens on (its only listener: metrics and health)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                return int(fields[1].split(":")[1], 16)
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build-op"))
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--steady-seconds", type=float, default=60)
    args = parser.parse_args()
    devcluster = os.path.join(args.build_dir, "devcluster", "llmops-devcluster")
    operator = os.path.join(args.build_dir, "tests", "operator", "llmops-test-operator")
    for binary in (devcluster, operator):
        if not os.access(binary, os.X_OK):
            sys.exit(f"error: {binary} not built")
    work = tempfile.mkdtemp(prefix="operator-bench-")
    os.environ["HOME"] = work
    cluster = Cluster(devcluster, os.path.join(work, "data"))
    op = None
    try:
        cluster.kubectl("apply", "-f", os.path.join(ROOT, "crds"))
        cluster.kubectl("wait", "--for=condition=Established", "crd/llmdeployments.llmops.dev")
        path = "/apis/llmops.dev/v1alpha1/namespaces/default/llmdeployments"
        t = time.monotonic()
        for i in range(args.objects):
            cluster.request("POST", path, {
                "apiVersion": "llmops.dev/v1alpha1", "kind": "LLMDeployment",
                "metadata": {"name": f"model-{i:04d}", "namespace": "default"},
                "spec": {"replicas": 1, "model": {"name": f"m{i}", "uri": f"file:///m/{i}.gguf"},
                         "runtime": {"image": "registry.example/llmops-runtime:0.1.0"}}})
        create_s = time.monotonic() - t

        t = time.monotonic()
        cluster.kubectl("get", "llmd", "-o", "json")
        kubectl_list_s = time.monotonic() - t

        # Run 1: cold start, every object needs a status write.
        op, started = start_operator(operator, cluster, os.path.join(work, "op1.log"))
        port = wait_for("metrics port", lambda: listening_port(op.pid))
        wait_for("readyz", lambda: ready(port))
        sync_s = time.monotonic() - started
        rss_synced = rss_mib(op.pid)
        # Each status write comes back as a MODIFIED event and a no-op reconcile follows:
        # 2n successful reconciles, n of them with a PUT.
        wait_for("all written", lambda: metric(port, "llmops_reconcile_total", "success")
                 >= 2 * args.objects, timeout=600)
        write_phase_s = time.monotonic() - started - sync_s
        op.send_signal(signal.SIGTERM)
        op.wait()

        # Run 2: warm objects, every reconcile is a no-op read of the cache.
        op, started = start_operator(operator, cluster, os.path.join(work, "op2.log"))
        port = wait_for("metrics port", lambda: listening_port(op.pid))
        wait_for("readyz", lambda: ready(port))
        sync2_s = time.monotonic() - started
        wait_for("no-op reconciles", lambda: metric(port, "llmops_reconcile_total", "success")
                 >= args.objects, timeout=600)
        noop_s = time.monotonic() - started - sync2_s

        # Steady state: nothing changes; count what the operator still asks.
        time.sleep(2)
        before = len(cluster.access_log())
        time.sleep(args.steady_seconds)
        window = cluster.access_log()[before:]
        ours = [e for e in window if e.get("userAgent", "").startswith("llmops")]
        leases = [e for e in ours if e.get("resource") == "leases"]
        other = [e for e in ours if e.get("resource") != "leases"]
        per_minute = len(other) * 60 / args.steady_seconds
        rss_steady = rss_mib(op.pid)
        op.send_signal(signal.SIGTERM)
        op.wait()
        op = None

        n = args.objects
        print(f"operator benchmark: {n} LLMDeployments on llmops-devcluster")
        print(f"  create (bench client, sequential POST)   {create_s:8.2f} s")
        print(f"  baseline: kubectl get llmd -o json        {kubectl_list_s:8.2f} s")
        print(f"  cache synced, cold start (to /readyz)     {sync_s:8.2f} s   "
              f"{sync_s / kubectl_list_s:5.2f}x the kubectl list")
        print(f"  cache synced, second start                {sync2_s:8.2f} s   "
              f"{sync2_s / kubectl_list_s:5.2f}x the kubectl list")
        print(f"  status writes/s (n PUT + n no-op)          {n / write_phase_s:8.0f}")
        print(f"  reconciles/s, no-op (cache read)          {n / noop_s:8.0f}")
        print(f"  steady API requests/min, except leases    {per_minute:8.1f}   "
              f"(leases: {len(leases) * 60 / args.steady_seconds:.0f}/min, "
              f"window {args.steady_seconds:.0f} s)")
        print(f"  resident memory synced / steady           {rss_synced:8.1f} / {rss_steady:.1f} MiB")
        if other:
            print("  non-lease requests in the window:", sorted({(e['verb'], e['resource']) for e in other}))
    finally:
        if op is not None:
            op.kill()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


def ready(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return response.status == 200
    except Exception:
        return False


if __name__ == "__main__":
    main()
