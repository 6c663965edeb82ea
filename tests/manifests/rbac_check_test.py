"""rbac_check.py judges correctly: synthetic access logs against the real manifests/base
render. A log that uses exactly the grants passes; an ungranted verb, a Lease of another
name or namespace, and a grant nobody used each fail. Needs kubectl (for the render)."""

import json
import os
import sys
import tempfile

import rbac_check

failures = []


def entry(user_agent, verb, group, resource, namespace="", name="", subresource=""):
    return {"userAgent": user_agent, "verb": verb, "apiGroup": group, "resource": resource,
            "subresource": subresource, "namespace": namespace, "name": name, "code": 200}


OPERATOR = "llmops-operator/0.1.0"
ROUTER = "llmops-router/0.1.0"
# Everything the shipped roles grant, each used once (leases by name, in llmops-system).
FULL_USE = [
    entry(OPERATOR, "list", "llmops.dev", "llmdeployments"),
    entry(OPERATOR, "watch", "llmops.dev", "llmdeployments"),
    entry(OPERATOR, "update", "llmops.dev", "llmdeployments", "default", "a", "status"),
    entry(OPERATOR, "list", "", "pods"),
    entry(OPERATOR, "watch", "", "pods"),
    entry(OPERATOR, "create", "", "pods", "default"),
    entry(OPERATOR, "delete", "", "pods", "default", "a-1"),
    entry(OPERATOR, "patch", "", "pods", "default", "a-1"),
    entry(OPERATOR, "list", "", "services"),
    entry(OPERATOR, "watch", "", "services"),
    entry(OPERATOR, "create", "", "services", "default"),
    entry(OPERATOR, "patch", "", "services", "default", "a"),
    entry(OPERATOR, "create", "", "events", "default"),
    entry(OPERATOR, "create", "coordination.k8s.io", "leases", "llmops-system"),
    entry(OPERATOR, "get", "coordination.k8s.io", "leases", "llmops-system", "llmops-operator"),
    entry(OPERATOR, "update", "coordination.k8s.io", "leases", "llmops-system", "llmops-operator"),
    entry(ROUTER, "list", "llmops.dev", "llmdeployments"),
    entry(ROUTER, "watch", "llmops.dev", "llmdeployments"),
    entry(ROUTER, "list", "", "pods"),
    entry(ROUTER, "watch", "", "pods"),
    entry("kubectl/v1.32.4", "delete", "", "namespaces", "", "x"),  # not ours: ignored
    {"userAgent": OPERATOR, "verb": "get", "apiGroup": "", "resource": "", "subresource": "",
     "namespace": "", "name": "", "code": 200},  # discovery: ignored
]


def judge(objects, entries, work):
    path = os.path.join(work, "access.log")
    with open(path, "w") as log:
        for item in entries:
            log.write(json.dumps(item) + "\n")
    reports = [rbac_check.check_component(c, objects, path) for c in ("operator", "router")]
    return reports


def expect(name, reports, missing=(), unused=()):
    got_missing = sorted((r.verb, r.group, r.resource, r.namespace, r.name)
                         for report in reports for r in report.missing)
    got_unused = sorted(key for report in reports for key in report.unused)
    if got_missing != sorted(missing) or got_unused != sorted(unused):
        failures.append(f"{name}: missing {got_missing} (want {sorted(missing)}), "
                        f"unused {got_unused} (want {sorted(unused)})")
    else:
        print(f"ok   {name}")


def main():
    objects = rbac_check.render(rbac_check.DEFAULT_KUSTOMIZATION)
    with tempfile.TemporaryDirectory(prefix="rbac-check.") as work:
        expect("every grant used once", judge(objects, FULL_USE, work))
        expect("an ungranted verb",
               judge(objects, FULL_USE + [entry(OPERATOR, "update", "", "pods", "default", "a-1")],
                     work),
               missing=[("update", "", "pods", "default", "a-1")])
        expect("the router writing",
               judge(objects, FULL_USE + [entry(ROUTER, "create", "", "pods", "default")], work),
               missing=[("create", "", "pods", "default", "")])
        expect("a Lease of another name",
               judge(objects, FULL_USE + [entry(OPERATOR, "get", "coordination.k8s.io", "leases",
                                                "llmops-system", "other")], work),
               missing=[("get", "coordination.k8s.io", "leases", "llmops-system", "other")])
        expect("a Lease in another namespace",
               judge(objects, FULL_USE + [entry(OPERATOR, "update", "coordination.k8s.io",
                                                "leases", "default", "llmops-operator")], work),
               missing=[("update", "coordination.k8s.io", "leases", "default",
                         "llmops-operator")])
        expect("a subresource is not its resource",
               judge(objects, FULL_USE + [entry(OPERATOR, "update", "llmops.dev",
                                                "llmdeployments", "default", "a")], work),
               missing=[("update", "llmops.dev", "llmdeployments", "default", "a")])
        without_delete = [e for e in FULL_USE
                          if not (e["userAgent"] == OPERATOR and e["verb"] == "delete")]
        expect("a grant nobody used", judge(objects, without_delete, work),
               unused=[("operator", "delete", "", "pods")])
        without_router_watch = [e for e in FULL_USE
                                if not (e["userAgent"] == ROUTER and e["verb"] == "watch"
                                        and e["resource"] == "pods")]
        expect("a router grant nobody used", judge(objects, without_router_watch, work),
               unused=[("router", "watch", "", "pods")])
        machinery = [e for e in FULL_USE if e["userAgent"] == OPERATOR and (
            e["resource"] == "leases" or e["verb"] in ("list", "watch")
            and e["resource"] == "llmdeployments")]
        judge(objects, machinery, work)
        log = os.path.join(work, "access.log")
        expect("the machinery alone, reconcilers excused",
               [rbac_check.check_component("operator", objects, log,
                                           rbac_check.PENDING_RECONCILERS)])
        expect("the machinery alone, nothing excused",
               [rbac_check.check_component("operator", objects, log)],
               unused=sorted(rbac_check.PENDING_RECONCILERS))
    for failure in failures:
        print("FAIL " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
