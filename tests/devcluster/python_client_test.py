#!/usr/bin/python3
"""The official Python client (and raw HTTPS) against the devcluster: list and watch of a
custom resource, 410 for an expired watch, 409 on a stale update, 422 per schema
keyword, 400 for unknown fields under fieldValidation=Strict, selectors, pagination,
generateName, dryRun, core types, authentication, malformed requests and the access log."""
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devcluster_harness import BASE, GROUP, PLURAL, VERSION, Devcluster, deployment  # noqa: E402
from kubernetes import client, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print("FAIL:", message)


def expect_status(result, code, what):
    status, _, body = result
    check(status == code, f"{what}: expected {code}, got {status}: {body}")
    if isinstance(body, dict) and status >= 400:
        check(body.get("kind") == "Status" and body.get("code") == status,
              f"{what}: error is not a Status object: {body}")
    return body


def test_list_and_watch(dc, api):
    api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, deployment("w1"))
    listed = api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    check([i["metadata"]["name"] for i in listed["items"]] == ["w1"], f"list: {listed}")
    version = listed["metadata"]["resourceVersion"]
    events = []
    ready = threading.Event()

    def watch_events():
        w = watch.Watch()
        ready.set()
        for event in w.stream(api.list_namespaced_custom_object, GROUP, VERSION, "default", PLURAL,
                              resource_version=version, timeout_seconds=5,
                              allow_watch_bookmarks=True):
            if event["type"] != "BOOKMARK":
                events.append((event["type"], event["object"]["metadata"]["name"]))
            if event["type"] == "DELETED":
                w.stop()

    thread = threading.Thread(target=watch_events)
    thread.start()
    ready.wait()
    api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, deployment("w2"))
    api.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "w2", {"spec": {"replicas": 3}})
    api.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "w2")
    thread.join(timeout=30)
    check(events == [("ADDED", "w2"), ("MODIFIED", "w2"), ("DELETED", "w2")], f"watch events: {events}")

    # A watch without resourceVersion starts with the current state.
    initial = []
    for event in watch.Watch().stream(api.list_namespaced_custom_object, GROUP, VERSION, "default",
                                      PLURAL, timeout_seconds=1):
        initial.append((event["type"], event["object"]["metadata"]["name"]))
    check(initial == [("ADDED", "w1")], f"initial events: {initial}")


def test_watch_protocol(dc, api):
    # sendInitialEvents: ADDED for the current state, then a BOOKMARK marking its end;
    # timeoutSeconds ends the stream cleanly (the read below returns).
    status, _, body = dc.request(
        "GET", f"{BASE}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
               "&allowWatchBookmarks=true&timeoutSeconds=2")
    check(status == 200, f"initial-events watch status {status}")
    text = body if isinstance(body, str) else json.dumps(body)
    events = [json.loads(line) for line in text.strip().splitlines()]
    types = [e["type"] for e in events]
    check(types and types[0] == "ADDED" and "BOOKMARK" in types, f"initial events: {types}")
    marks = [e for e in events if e["type"] == "BOOKMARK" and
             e["object"]["metadata"].get("annotations", {}).get("k8s.io/initial-events-end") == "true"]
    check(len(marks) == 1, f"initial-events-end bookmark: {events}")
    check(all(e["type"] != "BOOKMARK" or e["object"]["kind"] == "LLMDeployment" for e in events),
          "bookmark kind")
    # A Table watch (kubectl get -w) carries one-row Tables.
    status, _, body = dc.request("GET", f"{BASE}?watch=true&timeoutSeconds=1", headers={
        "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
    event = body if isinstance(body, dict) else json.loads(body.strip().splitlines()[0])
    check(event["object"]["kind"] == "Table" and len(event["object"]["rows"]) == 1,
          f"table watch event: {event}")


def test_expired_watch(dc, api):
    # The server keeps 50 events (--watch-history 50): make more, then resume from the first.
    first = api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, deployment("churn"))
    old_version = first["metadata"]["resourceVersion"]
    for replicas in range(60):
        api.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "churn",
                                           {"spec": {"replicas": replicas % 100}})
    got_410 = False
    try:
        for event in watch.Watch().stream(api.list_namespaced_custom_object, GROUP, VERSION,
                                          "default", PLURAL, resource_version=old_version,
                                          timeout_seconds=5):
            if event["type"] == "ERROR" and event["raw_object"].get("code") == 410:
                got_410 = True
                break
    except ApiException as error:
        got_410 = error.status == 410
    check(got_410, "watch from an expired resourceVersion did not get 410")
    # Raw: still 200, then the ERROR event carrying an Expired Status.
    status, _, body = dc.request("GET", f"{BASE}?watch=true&resourceVersion={old_version}")
    check(status == 200, f"expired watch status {status}")
    event = body if isinstance(body, dict) else json.loads(body.strip().splitlines()[0])
    check(event["type"] == "ERROR" and event["object"]["reason"] == "Expired" and
          event["object"]["code"] == 410, f"expired watch event: {event}")
    api.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "churn")


def test_conflicts(dc, api):
    created = api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, deployment("c1"))
    api.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "c1", {"spec": {"replicas": 2}})
    try:
        api.replace_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "c1", created)
        check(False, "stale update succeeded")
    except ApiException as error:
        body = json.loads(error.body)
        check(error.status == 409 and body["reason"] == "Conflict", f"stale update: {error.status} {body}")
        check(body["details"]["name"] == "c1" and body["details"]["group"] == GROUP, f"409 details {body}")
    missing_version = dict(created)
    missing_version["metadata"] = {"name": "c1", "namespace": "default"}
    expect_status(dc.request("PUT", f"{BASE}/c1", missing_version), 422, "PUT without resourceVersion")
    expect_status(dc.request("PUT", f"{BASE}/nothere", deployment("nothere")), 404, "PUT of a missing object")
    expect_status(dc.request("POST", BASE, deployment("c1")), 409, "create of an existing name")


SCHEMA_CASES = [
    # (keyword, spec change, field named in the 422)
    ("type", {"replicas": "three"}, "spec.replicas"),
    ("required", {"model": {"name": "story"}}, "spec.model.uri"),
    ("enum", {"runtime": {"numa": "fast"}}, "spec.runtime.numa"),
    ("minimum", {"replicas": -1}, "spec.replicas"),
    ("maximum", {"replicas": 101}, "spec.replicas"),
    ("exclusiveMinimum", {"runtime": {"maxBatch": 0}}, "spec.runtime.maxBatch"),
    ("exclusiveMaximum", {"runtime": {"temperature": 2}}, "spec.runtime.temperature"),
    ("minLength", {"model": {"name": "", "uri": "u"}}, "spec.model.name"),
    ("maxLength", {"model": {"name": "a" * 64, "uri": "u"}}, "spec.model.name"),
    ("pattern", {"model": {"name": "Bad_Name", "uri": "u"}}, "spec.model.name"),
    ("items", {"runtime": {"args": [1]}}, "spec.runtime.args[0]"),
    ("minItems", {"rollout": {"steps": []}}, "spec.rollout.steps"),
    ("maxItems", {"runtime": {"args": ["a", "b", "c", "d"]}}, "spec.runtime.args"),
    ("additionalProperties", {"labels": {"team": 7}}, "spec.labels.team"),
    ("nullable", {"runtime": {"args": [None]}}, "spec.runtime.args[0]"),
    ("format int32", {"runtime": {"threads": 3000000000}}, "spec.runtime.threads"),
    ("format int64", {"runtime": {"maxBatch": 10000000000000000000}}, "spec.runtime.maxBatch"),
    ("format double", {"runtime": {"temperature": "hot"}}, "spec.runtime.temperature"),
    ("format date-time", {"rollout": {"notBefore": "yesterday"}}, "spec.rollout.notBefore"),
    ("format duration", {"rollout": {"steps": [{"pause": {"duration": "2 minutes"}}]}},
     "spec.rollout.steps[0].pause.duration"),
    ("x-kubernetes-int-or-string", {"runtime": {"resources": {"requests": {"cpu": True}}}},
     "spec.runtime.resources.requests.cpu"),
]


def test_schema(dc, api):
    for keyword, change, field in SCHEMA_CASES:
        body = deployment("bad")
        body["spec"].update(change)
        result = dc.request("POST", BASE, body)
        status_body = expect_status(result, 422, f"schema keyword {keyword}")
        if isinstance(status_body, dict):
            fields = [c.get("field") for c in status_body.get("details", {}).get("causes", [])]
            check(field in fields, f"schema keyword {keyword}: causes {fields} lack {field}")
            check(field in status_body.get("message", ""), f"{keyword}: message lacks {field}")
    # What the schema accepts: nullable null kept, int-or-string both ways, preserved
    # unknown fields, defaults, pruning of unknown fields (without Strict).
    body = deployment("good", model={"name": "story", "uri": "u", "sha256": None},
                      runtime={"resources": {"requests": {"cpu": "4", "memory": 4}}, "temperature": 1.5,
                               "unknownRuntimeField": 1},
                      annotations={"free": {"form": [1, 2]}},
                      rollout={"steps": [{"setWeight": 10}, {"pause": {"duration": "1h30m"}}],
                               "notBefore": "2025-01-02T03:04:05Z"})
    status, headers, created = dc.request("POST", BASE, body)
    check(status == 201, f"valid object rejected: {created}")
    if status == 201:
        spec = created["spec"]
        check(spec["replicas"] == 1 and spec["runtime"]["numa"] == "bind", f"defaults: {spec}")
        check("sha256" in spec["model"] and spec["model"]["sha256"] is None, f"nullable: {spec}")
        check(spec["annotations"] == {"free": {"form": [1, 2]}}, f"preserve-unknown: {spec}")
        check("unknownRuntimeField" not in spec["runtime"], f"pruning: {spec}")
        check("unknownRuntimeField" in headers.get("Warning", ""), f"Warn header: {headers}")
    # fieldValidation=Strict: unknown field -> 400 naming it.
    strict = deployment("strict")
    strict["spec"]["surprise"] = 1
    result = dc.request("POST", BASE + "?fieldValidation=Strict", strict)
    body = expect_status(result, 400, "unknown field under Strict")
    check('unknown field "spec.surprise"' in str(body), f"strict message: {body}")


def test_selectors_and_pagination(dc, api):
    for i in range(5):
        body = deployment(f"page{i}")
        body["metadata"]["labels"] = {"tier": "gold" if i % 2 == 0 else "silver", "idx": str(i)}
        api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, body)
    names = lambda items: [i["metadata"]["name"] for i in items]  # noqa: E731
    gold = api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, label_selector="tier=gold")
    check(names(gold["items"]) == ["page0", "page2", "page4"], f"equality selector: {names(gold['items'])}")
    some = api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL,
                                             label_selector="idx in (1,3),tier!=gold")
    check(names(some["items"]) == ["page1", "page3"], f"set selector: {names(some['items'])}")
    one = api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL,
                                            field_selector="metadata.name=page3")
    check(names(one["items"]) == ["page3"], f"field selector: {names(one['items'])}")
    pages, token = [], None
    while True:
        page = api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, label_selector="idx",
                                                 limit=2, _continue=token)
        pages.append(names(page["items"]))
        token = page["metadata"].get("continue")
        if not token:
            break
        check(page["metadata"].get("remainingItemCount", 0) > 0, "remainingItemCount")
    check(pages == [["page0", "page1"], ["page2", "page3"], ["page4"]], f"pages: {pages}")
    expect_status(dc.request("GET", f"{BASE}?labelSelector=a%20in%20(b"), 400, "malformed label selector")
    expect_status(dc.request("GET", f"{BASE}?continue=zz&resourceVersion=5"), 400, "continue with resourceVersion")
    expect_status(dc.request("GET", f"{BASE}?resourceVersionMatch=NotOlderThan"), 422, "resourceVersionMatch alone")


def test_writes(dc, api):
    body = deployment("")
    body["metadata"] = {"generateName": "gen-"}
    created = api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, body)
    check(created["metadata"]["name"].startswith("gen-") and len(created["metadata"]["name"]) == 9,
          f"generateName: {created['metadata']['name']}")
    check(created["metadata"]["generation"] == 1 and "status" not in created, f"create: {created}")
    dry = dc.request("POST", BASE + "?dryRun=All", deployment("dry"))
    check(dry[0] == 201, f"dryRun create: {dry}")
    expect_status(dc.request("GET", f"{BASE}/dry"), 404, "dryRun object not stored")
    # Status subresource: a main update keeps status, a status update takes only status.
    name = created["metadata"]["name"]
    api.patch_namespaced_custom_object_status(GROUP, VERSION, "default", PLURAL, name,
                                              {"status": {"phase": "Healthy"}, "spec": {"replicas": 9}})
    current = api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, name)
    check(current["status"]["phase"] == "Healthy" and current["spec"]["replicas"] == 1,
          f"status subresource: {current}")
    check(current["metadata"]["generation"] == 1, "status write bumped generation")
    # Core types: a Pod with strategic merge (dict) and JSON patch (list) from the client.
    # Its own schedulerName keeps the devcluster's scheduler (and so its kubelet) away.
    core = client.CoreV1Api(dc.api_client)
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="p1", labels={"app": "a"}),
                       spec=client.V1PodSpec(scheduler_name="manual",
                                             containers=[client.V1Container(name="c", image="img:1")]))
    core.create_namespaced_pod("default", pod)
    core.patch_namespaced_pod("p1", "default", {"spec": {"containers": [{"name": "c", "image": "img:2"}]}})
    core.patch_namespaced_pod("p1", "default", [{"op": "add", "path": "/metadata/labels/extra", "value": "x"}])
    read = core.read_namespaced_pod("p1", "default")
    check(read.spec.containers[0].image == "img:2" and len(read.spec.containers) == 1, "pod strategic merge")
    check(read.metadata.labels == {"app": "a", "extra": "x"}, f"pod json patch: {read.metadata.labels}")
    check(read.status.phase == "Pending", "pod status defaulted")
    core.delete_namespaced_pod("p1", "default")
    expect_status(dc.request("GET", "/api/v1/namespaces/default/pods/p1"), 404, "unscheduled pod deleted at once")
    # A pod bound to a node is deleted gracefully: deletionTimestamp until grace 0.
    core.create_namespaced_pod("default", pod)
    status, _, _ = dc.request("POST", "/api/v1/namespaces/default/pods/p1/binding",
                              {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p1"},
                               "target": {"kind": "Node", "name": "node-1"}})
    check(status == 201, f"binding: {status}")
    core.delete_namespaced_pod("p1", "default")
    terminating = core.read_namespaced_pod("p1", "default")
    check(terminating.metadata.deletion_timestamp is not None, "graceful deletion sets deletionTimestamp")
    uid = terminating.metadata.uid
    dc.request("DELETE", "/api/v1/namespaces/default/pods/p1",
               {"gracePeriodSeconds": 0, "preconditions": {"uid": uid}})
    expect_status(dc.request("GET", "/api/v1/namespaces/default/pods/p1"), 404, "pod gone after grace 0")


def test_protocol_errors(dc, api):
    status, _, body = dc.request("GET", "/api/v1/namespaces", token=False)
    check(status == 401 and body.get("reason") == "Unauthorized", f"no token: {status} {body}")
    status, _, _ = dc.request("GET", "/api/v1/namespaces", headers={"Authorization": "Bearer wrong"}, token=False)
    check(status == 401, f"wrong token: {status}")
    expect_status(dc.request("POST", BASE, "{not json", content_type="application/json"), 400, "malformed JSON")
    expect_status(dc.request("POST", BASE, "a: [b\n  c: {", content_type="application/yaml"), 400, "malformed YAML")
    expect_status(dc.request("POST", BASE, "[1,2]"), 400, "array body")
    expect_status(dc.request("POST", BASE, "x" * (4 * 1024 * 1024)), 413, "huge body")
    expect_status(dc.request("GET", "/apis/nothing.example/v1/things"), 404, "unknown group")
    expect_status(dc.request("GET", "/no/such/path"), 404, "unknown path")
    expect_status(dc.request("GET", f"{BASE}/w1/nosub"), 404, "unknown subresource")
    expect_status(dc.request("PATCH", f"{BASE}/w1", "{}", content_type="text/plain"), 415, "unknown patch type")
    expect_status(dc.request("PATCH", f"{BASE}/w1", '[{"op":"test","path":"/spec/replicas","value":42}]',
                             content_type="application/json-patch+json"), 422, "failed json patch test")
    status, headers, body = dc.request("GET", "/apis", headers={
        "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"})
    check(headers.get("Content-Type") == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
          f"aggregated discovery content type: {headers.get('Content-Type')}")
    groups = [item["metadata"]["name"] for item in body["items"]]
    check(GROUP in groups and "apiextensions.k8s.io" in groups, f"aggregated groups: {groups}")
    status, _, body = dc.request("GET", f"/apis/{GROUP}/{VERSION}")
    names = [r["name"] for r in body["resources"]]
    check(names == [PLURAL, f"{PLURAL}/status", f"{PLURAL}/scale"], f"legacy discovery: {names}")
    scale = [r for r in body["resources"] if r["name"].endswith("/scale")][0]
    check(scale["group"] == "autoscaling" and scale["kind"] == "Scale", f"scale discovery: {scale}")


def test_access_log(dc, api):
    with open(os.path.join(dc.data, "access.log")) as f:
        lines = [json.loads(line) for line in f]
    creates = [l for l in lines if l["verb"] == "create" and l["resource"] == PLURAL]
    check(creates and creates[0]["apiGroup"] == GROUP and creates[0]["namespace"] == "default"
          and creates[0]["code"] == 201, f"access log create entries: {creates[:1]}")
    check(any(l["code"] == 401 for l in lines), "access log lacks the 401")
    check(all("userAgent" in l and "subresource" in l and "name" in l for l in lines), "access log fields")
    statuses = [l for l in lines if l["subresource"] == "status" and l["verb"] == "patch"]
    check(statuses, "access log lacks the status subresource patch")


def main():
    with Devcluster("--watch-history", "50", "--bookmark-interval-ms", "500") as dc:
        dc.install_test_crd()
        api = client.CustomObjectsApi(dc.api_client)
        for test in (test_list_and_watch, test_watch_protocol, test_expired_watch, test_conflicts,
                     test_schema, test_selectors_and_pagination, test_writes, test_protocol_errors,
                     test_access_log):
            try:
                test(dc, api)
            except Exception as error:  # report and continue: one failure per line
                FAILURES.append(f"{test.__name__}: {error!r}")
                print("FAIL:", test.__name__, repr(error))
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
