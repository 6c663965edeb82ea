"""The runtime as a pod: an llmops-runtime image (any registry, any tag) runs the
llmops-runtime built beside the devcluster, listening on its pod IP ($(POD_IP) from the
downward API); it becomes Ready through /readyz, serves a completion, and its Service's
endpoints list it once ready. A Guaranteed pod with one whole CPU gets it exclusively."""
import json
import os
import sys
import urllib.request

from cluster_harness import (apply, cluster, container_pid, get, kubectl, pod_ready, service,
                             wait_for)

MODELS = os.path.join(os.environ["SHARED_DIR"], "models")


def main():
    with cluster() as dc:
        container = {
            "name": "runtime",
            "image": "registry.example/llmops-runtime:0.1.0",
            "args": ["serve", "--model", os.path.join(MODELS, "aidreams260K.bin"),
                     "--tokenizer", os.path.join(MODELS, "tok512.bin"),
                     "--host", "$(POD_IP)", "--port", "8080"],
            "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 1},
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 2},
            "resources": {"requests": {"cpu": "1", "memory": "256Mi"},
                          "limits": {"cpu": "1", "memory": "256Mi"}},
        }
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "runtime", "namespace": "default", "labels": {"app": "llm"}},
               "spec": {"containers": [container]}}
        apply(dc, [pod, service("llm", {"app": "llm"})])
        pod = wait_for("runtime Ready", lambda: (p := get(dc, "pod", "runtime")) and pod_ready(p) and p,
                       timeout=60)
        ip = pod["status"]["podIP"]
        request = urllib.request.Request(
            f"http://{ip}:8080/v1/completions",
            data=json.dumps({"prompt": "Once upon a time", "max_tokens": 8}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        assert body["choices"][0]["text"], body
        endpoints = wait_for("endpoints", lambda: (e := get(dc, "endpoints", "llm")) and
                             e.get("subsets") and e)
        assert endpoints["subsets"][0]["addresses"][0]["ip"] == ip, endpoints
        wide = kubectl(dc, "get", "pods", "-o", "wide")
        assert ip in wide and "devcluster-node-1" in wide, wide
        logs = kubectl(dc, "logs", "runtime")
        assert "serving model=" in logs and f"address={ip}:8080" in logs, logs
        assert pod["status"]["qosClass"] == "Guaranteed", pod["status"]
        if len(os.sched_getaffinity(0)) >= 2:  # one CPU must stay shared
            pid = container_pid(pod)
            assert os.sched_getaffinity(pid) == {max(os.sched_getaffinity(0))}, \
                os.sched_getaffinity(pid)
    print("PASS")


if __name__ == "__main__":
    sys.exit(main())
