"""llmops installed on the real control plane (the ctest fixture real_control_plane, see
scripts/real-cluster.sh) with `kubectl apply -k manifests/overlays/real-cluster`:

- kubectl reports the real server version and our kubelet's node Ready;
- the operator and router run as Deployments (ReplicaSets and Pods made by the real
  controller-manager, bound by the real scheduler) under their own service accounts with
  exactly the base's RBAC, in-cluster config from the token our kubelet requested;
- `kubectl logs` reaches our kubelet through the apiserver;
- a full rollout (canary promoted) under live traffic through the router pod, no failed
  request, with no request of the operator or router forbidden by the real authorizer;
- kill -9 of the leading operator: another process takes the Lease and reconciles;
- deleting the LLMDeployment: its Pods and Service are removed by the real garbage
  collector (the operator may not delete Services);
- uninstall with `kubectl delete -k`.
Environment: REAL_CLUSTER_DIR, LLMOPS_BUILD."""
import json
import os
import shutil
import signal
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness import real_cluster, waiter  # noqa: E402
from harness.rollout import Clients, current, make_model, router_ready  # noqa: E402

OVERLAY = os.path.join(ROOT, "manifests", "overlays", "real-cluster")
NAMESPACE = "llmops-it"
NAME = "storyteller"
RealCluster = real_cluster.RealCluster
wait = waiter(None, 0.5)
SYSTEM = "llmops-system"


def pods(cluster, namespace, selector):
    listed = cluster.get_json("pods", "-n", namespace, "-l", selector) or {"items": []}
    return [p for p in listed["items"] if not p["metadata"].get("deletionTimestamp")]


def ready(pod):
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in pod.get("status", {}).get("conditions", []))


def pid_of(pod):
    container_id = pod["status"]["containerStatuses"][0].get("containerID", "")
    assert container_id.startswith("process://"), container_id
    return int(container_id[len("process://"):])


def logs(cluster, namespace, pod, previous=False):
    args = ["logs", "-n", namespace, pod] + (["--previous"] if previous else [])
    return cluster.kubectl(*args, check=False).stdout


def llmd(models, model):
    return {"apiVersion": "llmops.dev/v1alpha1", "kind": "LLMDeployment",
            "metadata": {"name": NAME, "namespace": NAMESPACE},
            "spec": {"replicas": 1,
                     "model": {"name": NAME, "uri": f"file://{models}/{model}.gguf"},
                     "runtime": {"image": "llmops-runtime", "threads": 1, "numa": "none",
                                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
                     "rollout": {"steps": [{"setWeight": 50}, {"pause": {"duration": "3s"}}],
                                 "progressDeadlineSeconds": 120}}}


def deployment(cluster):
    return cluster.get_json("llmd", NAME, "-n", NAMESPACE) or {}


def check_cluster(cluster):
    version = json.loads(cluster.kubectl("version", "-o", "json").stdout)
    server = version["serverVersion"]["gitVersion"]
    assert server == cluster.version, f"server version {server}, expected {cluster.version}"
    print(f"kubectl version: server {server}")
    node = cluster.get_json("node", cluster.node)
    assert any(c["type"] == "Ready" and c["status"] == "True"
               for c in node["status"]["conditions"]), node["status"]
    print(cluster.kubectl("get", "nodes", "-o", "wide").stdout)


def install(cluster):
    cluster.kubectl("apply", "-k", OVERLAY)
    for name in ("llmops-operator", "llmops-router"):
        cluster.kubectl("-n", SYSTEM, "rollout", "status", f"deployment/{name}", "--timeout=240s",
                        timeout=300)
    for name in ("llmops-operator", "llmops-router"):
        d = cluster.get_json("deployment", "-n", SYSTEM, name)
        assert d["status"].get("availableReplicas") == d["spec"]["replicas"] == 2, d["status"]
        for pod in pods(cluster, SYSTEM, f"app.kubernetes.io/name={name}"):
            owner = pod["metadata"]["ownerReferences"][0]
            assert owner["kind"] == "ReplicaSet", owner  # made by the controller-manager
            assert pod["spec"]["nodeName"] == cluster.node, pod["spec"]  # bound by the scheduler
            assert pod["spec"]["serviceAccountName"] == name
    print(cluster.kubectl("-n", SYSTEM, "get", "deploy,pods", "-o", "wide").stdout)


def operator_pods(cluster):
    return sorted(pods(cluster, SYSTEM, "app.kubernetes.io/name=llmops-operator"),
                  key=lambda p: p["metadata"]["name"])


def leader(cluster):
    """The operator pod whose current process leads (its log says so, via kubectl logs)."""
    for pod in operator_pods(cluster):
        if "event=leading" in logs(cluster, SYSTEM, pod["metadata"]["name"]):
            return pod
    return None


def rollout(cluster, work):
    models = os.path.join(work, "models")
    os.makedirs(models)
    for version, seed in (("v1", 1), ("v2", 2)):
        make_model(os.path.join(models, f"{version}.gguf"), seed)
    cluster.kubectl("create", "namespace", NAMESPACE)
    cluster.kubectl("apply", "-f", "-", input=json.dumps(llmd(models, "v1")))
    wait("revision 1 Healthy", lambda: current(deployment(cluster)) and
         deployment(cluster)["status"].get("phase") == "Healthy" and
         deployment(cluster)["status"].get("readyReplicas", 0) >= 1, 180)
    router = [p for p in pods(cluster, SYSTEM, "app.kubernetes.io/name=llmops-router") if ready(p)][0]
    router_ip = router["status"]["podIP"]
    wait("the router pod to route", lambda: router_ready(8080, NAME, router_ip), 60)
    clients = Clients(8080, NAME, clients=2, host=router_ip)
    try:
        cluster.kubectl("patch", "llmd", NAME, "-n", NAMESPACE, "--type", "merge", "-p",
                        json.dumps({"spec": {"model": {"uri": f"file://{models}/v2.gguf"}}}))
        wait("the canary promoted", lambda: (lambda d: current(d) and
             d["status"].get("stableRevision") == 2 and not d["status"].get("canaryRevision")
             and d["status"].get("phase") == "Healthy")(deployment(cluster)), 240)
        time.sleep(1)
    finally:
        clients.stop()
    total, failed = clients.totals()
    print(f"rollout through router pod {router_ip}: {total} requests {clients.ok}, {failed} failed")
    assert failed == 0, clients.failures[:3]
    assert clients.ok.get("2", 0) > 0 and clients.ok.get("1", 0) > 0, clients.ok


def failover(cluster):
    """kill -9 of the leading operator process: a new process (the other replica's, or the
    killed container's restart: both race for the expired Lease, as on any cluster)
    takes the Lease and reconciles."""
    old = wait("an operator leading", lambda: leader(cluster), 60)
    old_name = old["metadata"]["name"]
    lease = cluster.get_json("lease", "-n", SYSTEM, "llmops-operator")
    old_holder = lease["spec"]["holderIdentity"]
    transitions = lease["spec"].get("leaseTransitions", 0)
    os.kill(pid_of(old), signal.SIGKILL)
    killed = time.monotonic()

    def new_holder():
        spec = cluster.get_json("lease", "-n", SYSTEM, "llmops-operator")["spec"]
        holder = spec.get("holderIdentity", "")
        return holder if holder and holder != old_holder else None
    holder = wait("another process to take the Lease", new_holder, 90)
    handover = time.monotonic() - killed
    leading = wait("the new leader's pod", lambda: [
        p["metadata"]["name"] for p in operator_pods(cluster)
        if f"event=leading lease={SYSTEM}/llmops-operator identity={holder}"
        in logs(cluster, SYSTEM, p["metadata"]["name"])], 30)[0]
    print(f"kill -9 of leader {old_name}: {leading} leads ({holder}) after {handover:.1f}s")
    lease = cluster.get_json("lease", "-n", SYSTEM, "llmops-operator")
    assert lease["spec"]["leaseTransitions"] > transitions, lease["spec"]
    # The new leader reconciles; the killed container was restarted by our kubelet.
    cluster.kubectl("patch", "llmd", NAME, "-n", NAMESPACE, "--type", "merge", "-p",
                    '{"spec":{"replicas":2}}')
    wait("the new leader scales to 2", lambda: (lambda d: current(d) and
         d["status"].get("readyReplicas") == 2)(deployment(cluster)), 120)
    restarted = cluster.get_json("pod", "-n", SYSTEM, old_name)
    assert restarted["status"]["containerStatuses"][0]["restartCount"] >= 1, restarted["status"]


def garbage_collection(cluster):
    selector = f"llmops.dev/deployment={NAME}"
    assert pods(cluster, NAMESPACE, selector) and cluster.get_json("service", "-n", NAMESPACE, NAME)
    cluster.kubectl("delete", "llmd", NAME, "-n", NAMESPACE)
    wait("the garbage collector to remove the pods and the Service", lambda: not cluster.kubectl(
        "get", "pods,services", "-n", NAMESPACE, "-l", selector, "-o", "name").stdout.strip(), 120)
    print("LLMDeployment deleted: its Pods and Service removed by the garbage collector")


def no_forbidden_requests(cluster):
    for name in ("llmops-operator", "llmops-router"):
        for pod in pods(cluster, SYSTEM, f"app.kubernetes.io/name={name}"):
            for previous in (False, True):
                text = logs(cluster, SYSTEM, pod["metadata"]["name"], previous)
                denied = [line for line in text.splitlines() if "forbidden" in line.lower()]
                assert not denied, f"{pod['metadata']['name']}: {denied[:3]}"


def dump(cluster):
    print(cluster.kubectl("get", "all,llmd,leases", "-A", "-o", "wide", check=False).stdout)
    for pod in pods(cluster, SYSTEM, "app.kubernetes.io/name in (llmops-operator,llmops-router)"):
        print(f"--- kubectl logs {pod['metadata']['name']} (tail)")
        print(logs(cluster, SYSTEM, pod["metadata"]["name"])[-3000:])
    for name in ("kubelet", "kube-controller-manager"):
        path = os.path.join(cluster.dir, "logs", f"{name}.log")
        if os.path.exists(path):
            print(f"--- {name}.log (tail)\n" + open(path, errors="replace").read()[-4000:])


def main():
    work = tempfile.mkdtemp(prefix="real-cluster-install.")
    home = os.path.join(work, "home")
    os.makedirs(home)
    cluster = RealCluster(home=home)
    ok = False
    try:
        check_cluster(cluster)
        install(cluster)
        rollout(cluster, work)
        failover(cluster)
        garbage_collection(cluster)
        no_forbidden_requests(cluster)
        ok = True
    finally:
        if not ok:
            dump(cluster)
        cluster.delete_and_wait("namespace", NAMESPACE)
        cluster.kubectl("delete", "-k", OVERLAY, "--ignore-not-found", "--wait=true",
                        "--timeout=180s", check=False, timeout=240)
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
