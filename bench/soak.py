#!/usr/bin/python3
"""Soak (not CI): llmops-devcluster, llmops-operator and llmops-router with clients sending
requests through the router for DURATION, while the LLMDeployment is rolled forward to a
new model, promoted, rolled back to the previous one (fast rollback: no steps) and so on.
Every process's resident memory, open file descriptors and threads are sampled once a
minute from /proc; at the end, one table: first sample, last sample and the largest, per
process, and the client totals. Flat = the last samples near the first ones.

usage: bench/soak.py [--minutes 30] [--build build] [--clients 4]
Standard library only; run as root or any user (no namespaces needed)."""
import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "faults"))


def proc_stats(pid):
    """(rss MiB, fds, threads) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        rss = int(fields["VmRSS"].split()[0]) / 1024
        threads = int(fields["Threads"])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        return rss, fds, threads
    except (OSError, KeyError, ValueError):
        return None


def children(pid):
    """Every descendant of pid (the devcluster's pods)."""
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    out.append(int(child))
                    out.extend(children(int(child)))
    except OSError:
        pass
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    os.environ["LLMOPS_BUILD"] = os.path.abspath(args.build)
    import fault_harness as h  # reads LLMOPS_BUILD

    work = tempfile.mkdtemp(prefix="llmops-soak.")
    cluster = h.Cluster(work)
    samples = {}  # name -> [(t, rss, fds, threads)]
    try:
        models = h.make_models(work)
        router_port = h.free_port()
        operator = cluster.spawn("operator", h.operator_argv(
            cluster.endpoint("llmops-operator").kubeconfig))
        router = cluster.spawn("router", [h.ROUTER, "--listen", f"127.0.0.1:{router_port}",
                                          "--kubeconfig",
                                          cluster.endpoint("llmops-router").kubeconfig])
        steps = [{"setWeight": 30}, {"pause": {"duration": "10s"}}, {"setWeight": 70},
                 {"pause": {"duration": "10s"}}]
        obj = h.llmd(models, steps)
        obj["spec"]["runtime"]["args"] = ["--max-queue", "64"]
        cluster.kubectl("apply", "-f", "-", stdin=json.dumps(obj))
        h.wait("revision 1 healthy", lambda: h.healthy_on(1)(cluster.deployment()), 180)
        clients = h.Clients("127.0.0.1", router_port, clients=args.clients)
        started = time.time()
        end = started + args.minutes * 60
        next_sample = started
        # Forward to a new revision (its steps run), then back to the previous one (a fast
        # rollback: no steps), and so on; each forward step is a new runtime flag value.
        rollouts = 0
        spec = previous = ("v1", 64)

        def sample():
            now = time.time() - started
            named = {"devcluster": cluster.server.process.pid, "operator": operator.process.pid,
                     "router": router.process.pid}
            for name, pid in list(named.items()):
                stats = proc_stats(pid)
                if stats:
                    samples.setdefault(name, []).append((now, *stats))
            pods = children(cluster.server.process.pid)
            total = [0.0, 0, 0]
            for pid in pods:
                stats = proc_stats(pid)
                if stats:
                    total = [total[0] + stats[0], total[1] + stats[1], total[2] + stats[2]]
            samples.setdefault("pods (all)", []).append((now, *total))
            samples.setdefault("pod count", []).append((now, len(pods), 0, 0))

        while time.time() < end:
            before = cluster.deployment().get("status", {}).get("stableRevision")
            if rollouts % 2 == 0:  # forward: a revision never seen (its steps run)
                previous = spec
                spec = ("v2" if rollouts % 4 == 0 else "v3", 65 + rollouts // 2)
            else:  # back to the revision before: a fast rollback
                spec = previous
            cluster.kubectl("patch", "llmd", h.NAME, "--type", "merge", "-p", json.dumps(
                {"spec": {"model": {"uri": f"file://{models}/{spec[0]}.gguf"},
                          "runtime": {"args": ["--max-queue", str(spec[1])]}}}))
            rollouts += 1

            def settled():
                d = cluster.deployment()
                s = d.get("status", {})
                return (h.current(d) and s.get("phase") == "Healthy" and
                        s.get("stableRevision") != before)

            deadline = time.time() + 240
            while time.time() < deadline and not settled():
                if time.time() >= next_sample:
                    sample()
                    next_sample += 60
                time.sleep(1)
            if time.time() >= next_sample:
                sample()
                next_sample += 60
            ok, failures = sum(clients.ok.values()), len(clients.failures)
            print(f"{(time.time() - started) / 60:5.1f} min: {rollouts} rollouts/rollbacks, "
                  f"{ok} requests ok, {failures} failed", flush=True)
        sample()
        total, failures = clients.stop()
        print(f"\n{args.minutes:g} minutes, {rollouts} rollouts and rollbacks, {total} requests, "
              f"{len(failures)} failed" + (f" (e.g. {failures[:2]})" if failures else ""))
        print(f"\n{'process':<16}{'RSS MiB first/last/max':>26}{'fds first/last/max':>22}"
              f"{'threads first/last/max':>26}")
        for name, rows in samples.items():
            first, last = rows[0], rows[-1]
            cells = []
            for column in (1, 2, 3):
                peak = max(r[column] for r in rows)
                fmt = "{:.0f}" if column == 1 else "{}"
                cells.append("/".join(fmt.format(v) for v in (first[column], last[column], peak)))
            print(f"{name:<16}{cells[0]:>26}{cells[1]:>22}{cells[2]:>26}")
        # The curve, to tell a leak (steady growth) from a bounded cache filling up.
        print("\nRSS MiB by minute:")
        for name, rows in samples.items():
            if name != "pod count":
                print(f"{name:<16}" + " ".join(f"{r[1]:.0f}" for r in rows))
    finally:
        cluster.close()
        os.system(f"rm -rf {work}")


if __name__ == "__main__":
    main()
