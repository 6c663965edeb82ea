"""Checks the shipped RBAC against what llmops actually does.

Reads the requests a component made from llmops-devcluster's access.log (one JSON object
per line: userAgent, verb, apiGroup, resource, subresource, namespace, name, code), finds
the component by its User-Agent, and compares them with the rules that the kustomize
render grants to the component's ServiceAccount (through ClusterRoleBindings and
RoleBindings). Two findings fail the check:
  missing  a request no rule grants (the component would get 403 on a real cluster);
  unused   a granted (verb, group, resource[/subresource]) no request used, unless it is
           listed in NEEDED_WITHOUT_USE (or the caller's `allowed_unused`) with a reason.

As a library (the end-to-end rollout test):
    import rbac_check
    report = rbac_check.check("DATA/access.log", kustomization="manifests/base")
    assert report.ok, report.text()
As a program:
    rbac_check.py ACCESS_LOG [--kustomization DIR] [--component operator|router ...]
"""

import argparse
import collections
import json
import os
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_KUSTOMIZATION = os.path.join(REPO, "manifests", "base")

# A component: the User-Agent prefix its requests carry, and its ServiceAccount.
COMPONENTS = {
    "operator": {"user_agent": "llmops-operator/", "namespace": "llmops-system",
                 "service_account": "llmops-operator"},
    "router": {"user_agent": "llmops-router/", "namespace": "llmops-system",
               "service_account": "llmops-router"},
}

# Granted without showing up in an access log, and why. Keys: (component, verb, group,
# resource[/subresource]).
NEEDED_WITHOUT_USE = {
    ("operator", "update", "llmops.dev", "llmdeployments/finalizers"):
        "the OwnerReferencesPermissionEnforcement admission plugin checks it when the operator "
        "sets blockOwnerDeletion on the Pods and Services it owns; it is an authorization "
        "check, never a request",
    ("operator", "patch", "", "events"):
        "EventRecorder patches an Event's count only when the same event repeats, which a "
        "given run may not do",
}

# What the LLMDeployment reconcilers use beyond the operator's machinery; the machinery
# alone (the test operator: informer and leader election) uses only list/watch of
# LLMDeployments and the Lease. Tests of the machinery pass this as allowed_unused; the
# rollout test must not.
PENDING_RECONCILERS = {
    ("operator", verb, group, resource): "used by the LLMDeployment reconcilers only"
    for verb, group, resource in [
        ("update", "llmops.dev", "llmdeployments/status"),
        ("list", "", "pods"), ("watch", "", "pods"),
        ("create", "", "pods"), ("delete", "", "pods"), ("patch", "", "pods"),
        ("list", "", "services"), ("watch", "", "services"),
        ("create", "", "services"), ("patch", "", "services"),
        ("create", "", "events"),
    ]
}

Rule = collections.namedtuple("Rule", "role namespace groups resources verbs names")
Request = collections.namedtuple("Request", "verb group resource namespace name")


def render(kustomization):
    """The objects `kubectl kustomize DIR` renders."""
    result = subprocess.run(["kubectl", "kustomize", kustomization], capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {kustomization}: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def rules_for(objects, namespace, service_account):
    """Every rule bound to system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT. A RoleBinding's
    rules hold only in its namespace (Rule.namespace); a ClusterRoleBinding's everywhere
    (None)."""
    roles = {}
    for obj in objects:
        if obj.get("apiVersion") != "rbac.authorization.k8s.io/v1":
            continue
        meta = obj["metadata"]
        if obj["kind"] == "ClusterRole":
            roles[("ClusterRole", None, meta["name"])] = obj
        elif obj["kind"] == "Role":
            roles[("Role", meta.get("namespace"), meta["name"])] = obj
    rules = []
    for obj in objects:
        if obj.get("kind") not in ("ClusterRoleBinding", "RoleBinding"):
            continue
        bound = any(s.get("kind") == "ServiceAccount" and s.get("name") == service_account
                    and s.get("namespace") == namespace for s in obj.get("subjects") or [])
        if not bound:
            continue
        ref = obj["roleRef"]
        scope = obj["metadata"].get("namespace") if obj["kind"] == "RoleBinding" else None
        key = (ref["kind"], scope if ref["kind"] == "Role" else None, ref["name"])
        role = roles.get(key)
        if role is None:
            raise RuntimeError(f"{obj['kind']} {obj['metadata']['name']} refers to "
                               f"{ref['kind']} {ref['name']}, which the render does not hold")
        if role.get("aggregationRule"):
            raise RuntimeError(f"{ref['name']}: aggregated roles are not supported here")
        for rule in role.get("rules") or []:
            if rule.get("nonResourceURLs"):
                continue
            rules.append(Rule(role=f"{ref['kind']}/{ref['name']}", namespace=scope,
                              groups=tuple(rule.get("apiGroups") or ()),
                              resources=tuple(rule.get("resources") or ()),
                              verbs=tuple(rule.get("verbs") or ()),
                              names=tuple(rule.get("resourceNames") or ())))
    return rules


def requests_by(access_log, user_agent):
    """Counts of the resource requests whose User-Agent starts with user_agent. Discovery
    and /version (no resource) are left out: every authenticated user may read them."""
    counts = collections.Counter()
    with open(access_log) as log:
        for line in log:
            if not line.strip():
                continue
            entry = json.loads(line)
            if not entry.get("userAgent", "").startswith(user_agent):
                continue
            if not entry.get("resource"):
                continue
            resource = entry["resource"]
            if entry.get("subresource"):
                resource += "/" + entry["subresource"]
            counts[Request(entry["verb"], entry.get("apiGroup", ""), resource,
                           entry.get("namespace", ""), entry.get("name", ""))] += 1
    return counts


def _covers(values, value):
    return "*" in values or value in values


def grants(rule, request):
    if rule.namespace is not None and request.namespace != rule.namespace:
        return False
    if rule.names and request.name not in rule.names:
        return False  # list/watch/create name no object: resourceNames cannot match them
    return (_covers(rule.verbs, request.verb) and _covers(rule.groups, request.group)
            and _covers(rule.resources, request.resource))


class Report:
    def __init__(self, component):
        self.component = component
        self.used = collections.Counter()
        self.missing = []
        self.unused = []
        self.excused = []
        self.parts = []  # the per-component reports a combined one is made of

    @property
    def ok(self):
        return not self.missing and not self.unused

    def text(self):
        if self.parts:
            return "\n".join(part.text() for part in self.parts)
        lines = [f"== {self.component}: {sum(self.used.values())} requests, "
                 f"{len(self.used)} distinct"]
        for request, count in sorted(self.used.items()):
            scope = request.namespace or "*"
            name = f" name={request.name}" if request.name else ""
            lines.append(f"   used   {request.verb:7} {request.group or 'core'}/{request.resource}"
                         f" ns={scope}{name} x{count}")
        for request in self.missing:
            lines.append(f"   MISSING grant for {request.verb} {request.group or 'core'}/"
                         f"{request.resource} ns={request.namespace or '*'} name={request.name}")
        for key in self.unused:
            lines.append(f"   UNUSED {key[1]} {key[2] or 'core'}/{key[3]} (remove it, or list it "
                         f"with its reason in rbac_check.NEEDED_WITHOUT_USE)")
        for key, reason in self.excused:
            lines.append(f"   unused {key[1]} {key[2] or 'core'}/{key[3]}: {reason}")
        return "\n".join(lines)


def check_component(component, objects, access_log, allowed_unused=None):
    spec = COMPONENTS[component]
    rules = rules_for(objects, spec["namespace"], spec["service_account"])
    if not rules:
        raise RuntimeError(f"no rules are bound to ServiceAccount {spec['namespace']}/"
                           f"{spec['service_account']}")
    report = Report(component)
    report.used = requests_by(access_log, spec["user_agent"])
    report.missing = [request for request in report.used
                      if not any(grants(rule, request) for rule in rules)]
    excuses = dict(NEEDED_WITHOUT_USE)
    excuses.update(allowed_unused or {})
    seen = set()
    for rule in rules:
        for verb in rule.verbs:
            for group in rule.groups:
                for resource in rule.resources:
                    key = (component, verb, group, resource)
                    if key in seen:
                        continue
                    used = any(r.verb == verb and r.group == group and r.resource == resource
                               and grants(rule, r) for r in report.used)
                    if used:
                        continue
                    seen.add(key)
                    if key in excuses:
                        report.excused.append((key, excuses[key]))
                    else:
                        report.unused.append(key)
    return report


def check(access_log, kustomization=DEFAULT_KUSTOMIZATION, components=("operator", "router"),
          allowed_unused=None):
    """Checks each component; returns one Report whose text() holds all of them."""
    objects = render(kustomization)
    combined = Report("+".join(components))
    for component in components:
        report = check_component(component, objects, access_log, allowed_unused)
        if not report.used:
            report.missing.append(Request("(none)", "", f"no request with User-Agent "
                                          f"{COMPONENTS[component]['user_agent']}*", "", ""))
        combined.used.update(report.used)
        combined.missing += report.missing
        combined.unused += report.unused
        combined.excused += report.excused
        combined.parts.append(report)
    return combined


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("access_log")
    parser.add_argument("--kustomization", default=DEFAULT_KUSTOMIZATION)
    parser.add_argument("--component", action="append", choices=sorted(COMPONENTS))
    parser.add_argument("--pending-reconcilers", action="store_true",
                        help="excuse what only the LLMDeployment reconcilers use (for the test operator)")
    args = parser.parse_args()
    report = check(args.access_log, args.kustomization,
                   tuple(args.component or ("operator", "router")),
                   PENDING_RECONCILERS if args.pending_reconcilers else None)
    print(report.text())
    print("RBAC check " + ("passed" if report.ok else "FAILED"))
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
