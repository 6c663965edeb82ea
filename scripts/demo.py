#!/usr/bin/python3
"""The llmops demo on one machine: llmops-devcluster, llmops-operator and llmops-router as
local processes, the sample manifests/samples/demo.yaml applied with kubectl, clients
sending requests through the router the whole time, then

  act 1: a canary of a second model version, walked through its steps and promoted;
  act 2: a canary of a version failing half its requests (--inject-error-rate 0.5 in its
         runtime args), rolled back by the analysis,

with a live view of replicas, weights, analysis and what the clients got. Everything
stays up for you to explore with kubectl afterwards (`scripts/demo.sh stop` ends it).

usage: scripts/demo.py [--ci] [--work /tmp/llmops-demo]   |   scripts/demo.py stop
  --ci: stop everything at the end; exit 1 unless both acts end as expected with zero
        failed client requests (the e2e test runs this).
Standard library only; run with Debian's /usr/bin/python3.
"""
import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness import free_port, wait_for  # noqa: E402
from harness.rollout import (Clients, NoClients, Stack, condition, current, make_model,  # noqa: E402
                             router_ready, stop, watch)
SAMPLE = os.path.join(ROOT, "manifests", "samples", "demo.yaml")
NAME = "storyteller"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", nargs="?", default="run", choices=["run", "stop"])
    parser.add_argument("--ci", action="store_true")
    parser.add_argument("--work", default="/tmp/llmops-demo")
    args = parser.parse_args()
    if args.command == "stop":
        print("stopped" if stop(args.work) else "no demo running in " + args.work)
        return 0
    if args.work != "/tmp/llmops-demo":
        sys.exit("the sample names /tmp/llmops-demo/models/; keep --work at its default")
    stop(args.work)  # a previous run
    subprocess.run(["rm", "-rf", os.path.join(args.work, "cluster")], check=True)
    models = os.path.join(args.work, "models")
    os.makedirs(models, exist_ok=True)
    for version, seed in (("v1", 1), ("v2", 2)):
        make_model(os.path.join(models, f"story-{version}.gguf"), seed)

    cluster = Stack(args.work, NAME)
    router_port, router_metrics_port = free_port(), free_port()
    clients = None
    ok = False
    try:
        cluster.start(router_port, router_metrics_port)
        started = time.time()
        print(f"devcluster, operator and router are up; kubectl --kubeconfig {cluster.kubeconfig}")
        print(f"$ kubectl apply -f manifests/samples/demo.yaml", flush=True)
        cluster.kubectl("apply", "-f", SAMPLE)
        watch(cluster, NoClients(), started, "replicas of revision 1 starting",
              lambda d: current(d) and d["status"].get("phase") == "Healthy" and
              d["status"].get("readyReplicas", 0) >= d["spec"]["replicas"], 120)
        wait_for("the router to route", lambda: router_ready(router_port, NAME), 30)
        clients = Clients(router_port, NAME)

        print(f"\n$ kubectl patch llmd {NAME} --type merge -p "
              "'{\"spec\":{\"model\":{\"uri\":\"file:///tmp/llmops-demo/models/story-v2.gguf\"}}}'")
        cluster.kubectl("patch", "llmd", NAME, "--type", "merge", "-p", json.dumps(
            {"spec": {"model": {"uri": f"file://{models}/story-v2.gguf"}}}))
        d = watch(cluster, clients, started, "act 1: canary of story-v2, promoted step by step",
                  lambda d: current(d) and d["status"].get("stableRevision") == 2 and
                  not d["status"].get("canaryRevision") and d["status"].get("phase") == "Healthy", 180)
        promoted_ok = clients.ok.get("2", 0) > 0

        print(f"\n$ kubectl patch llmd {NAME} --type merge -p "
              "'{\"spec\":{\"runtime\":{\"args\":[\"--inject-error-rate\",\"0.5\"]}}}'")
        cluster.kubectl("patch", "llmd", NAME, "--type", "merge", "-p", json.dumps(
            {"spec": {"runtime": {"args": ["--inject-error-rate", "0.5"]}}}))
        d = watch(cluster, clients, started,
                  "act 2: canary of a version failing half its requests, rolled back by the analysis",
                  lambda d: current(d) and d["status"].get("phase") == "Degraded" and
                  d["status"].get("stableRevision") == 2 and
                  all(t.get("revision") == 2 or t.get("weight") == 0 for t in d["status"].get("traffic", [])), 180)
        reason = condition(d, "Degraded")
        print(f"Degraded: {reason.get('reason')}: {reason.get('message')}")
        time.sleep(2)
        clients.stop()
        total, failed = clients.totals()
        print(f"\nclients: {total} requests served ({clients.ok}), {failed} failed")
        for failure in clients.failures[:5]:
            print("  failure:", failure)
        print("\n" + cluster.kubectl("get", "llmd,pods", "-o", "wide"))
        ok = failed == 0 and promoted_ok and reason.get("reason") == "AnalysisFailed"
        if not args.ci:
            print(f"""Everything is still running. Explore:
  export KUBECONFIG={cluster.kubeconfig}
  kubectl get llmd {NAME} -o yaml          # status: revisions, traffic, analysis, conditions
  kubectl describe llmd {NAME}             # events of every transition
  kubectl get pods -L llmops.dev/revision,llmops.dev/track
  curl -s localhost:{router_port}/v1/completions -d '{{"model": "{NAME}", "prompt": "Once"}}' -i
  curl -s localhost:{router_metrics_port}/metrics | grep llmops_router_
  kubectl patch llmd {NAME} --type json -p '[{{"op": "remove", "path": "/spec/runtime/args"}}]'
                                            # back to the promoted revision: Healthy again
Logs: {args.work}/*.log.  Stop everything: scripts/demo.sh stop""")
        return 0 if ok else 1
    except BaseException as error:
        print(f"demo failed: {error}", file=sys.stderr)
        for name in ("operator", "router", "devcluster"):
            path = os.path.join(args.work, f"{name}.log")
            if os.path.exists(path):
                print(f"--- {path} (tail)", file=sys.stderr)
                print(open(path, errors="replace").read()[-4000:], file=sys.stderr)
        return 1
    finally:
        if clients:
            clients.stop()
        if args.ci or not ok:
            stop(args.work)


if __name__ == "__main__":
    sys.exit(main())
