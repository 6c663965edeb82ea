#!/usr/bin/python3
"""Namespace deletion as the real API server does it: DELETE marks the namespace
Terminating and returns at once; the namespace controller empties it in batches while
every other request is served, also for thousands of objects with owner references; and a
namespace left Terminating by a crash is emptied after the restart."""
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devcluster_harness import Devcluster  # noqa: E402
from harness import wait_for  # noqa: E402

COUNT = 2000


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def create_namespace(dc, name, count, owned):
    status, _, body = dc.request("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    assert status == 201, body
    owner = None
    if owned:
        status, _, owner = dc.request("POST", f"/api/v1/namespaces/{name}/configmaps",
                                      {"metadata": {"name": "owner"}, "data": {"k": "v"}})
        assert status == 201, owner

    def make(i):
        metadata = {"name": f"cm-{i}"}
        if owner:
            metadata["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                                            "uid": owner["metadata"]["uid"]}]
        status, _, body = dc.request("POST", f"/api/v1/namespaces/{name}/configmaps",
                                     {"metadata": metadata, "data": {"i": str(i)}})
        assert status == 201, body

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make, range(count)))


def remaining(dc, name):
    status, _, body = dc.request("GET", f"/api/v1/namespaces/{name}/configmaps")
    return len(body["items"]) if status == 200 else 0


def namespace_gone(dc, name):
    return dc.request("GET", f"/api/v1/namespaces/{name}")[0] == 404


def large_namespace(dc):
    create_namespace(dc, "big", COUNT, owned=True)
    reply = {}

    def delete():
        try:
            reply["status"], _, reply["body"] = dc.request("DELETE", "/api/v1/namespaces/big")
        except OSError as e:  # the client's 30 s timeout: the server held the request
            reply["error"] = repr(e)

    deleter = threading.Thread(target=delete)
    started = time.time()
    deleter.start()
    deleter.join(60)
    if "status" not in reply:
        fail(f"DELETE of a namespace with {COUNT} objects did not return: {reply}")
    body = reply["body"]
    if reply["status"] != 200 or body.get("status", {}).get("phase") != "Terminating":
        fail(f"DELETE returned {reply['status']} {json.dumps(body)[:300]}")
    print(f"DELETE returned Terminating after {time.time() - started:.2f} s")
    # Other requests are served while the content goes.
    served = 0
    while not namespace_gone(dc, "big") and time.time() - started < 300:
        status, _, _ = dc.request("GET", "/api/v1/namespaces/default/configmaps")
        if status != 200:
            fail(f"a request during the deletion got {status}")
        served += 1
        status, _, body = dc.request("POST", "/api/v1/namespaces/big/configmaps",
                                     {"metadata": {"name": f"late-{served}"}})
        if status != 403 and status != 404:
            fail(f"created content in a Terminating namespace: {status} {body}")
    wait_for("namespace big to go", lambda: namespace_gone(dc, "big"), 300)
    print(f"namespace of {COUNT + 1} objects gone after {time.time() - started:.1f} s; "
          f"{served} other requests served meanwhile")


def resumed_after_crash(dc):
    create_namespace(dc, "crash", 50, owned=False)
    status, _, space = dc.request("GET", "/api/v1/namespaces/crash")
    assert status == 200, space
    dc.stop()
    # The state a kill -9 right after the namespace was marked leaves behind: Terminating
    # with all its content (the log entry a DELETE writes first).
    log_path = os.path.join(dc.data, "store.log.jsonl")
    snapshot = json.load(open(os.path.join(dc.data, "store.snapshot.json")))
    last = snapshot["resourceVersion"]
    with open(log_path) as f:
        for line in f:
            if line.strip():
                last = max(last, json.loads(line)["rv"])
    marked = json.loads(json.dumps(space))
    marked["metadata"]["resourceVersion"] = str(last + 1)
    marked["metadata"]["deletionTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    marked["metadata"]["deletionGracePeriodSeconds"] = 0
    marked["status"]["phase"] = "Terminating"
    marked.pop("apiVersion", None)
    marked.pop("kind", None)
    marked = {"apiVersion": "v1", "kind": "Namespace", **marked}
    with open(log_path, "a") as f:
        f.write(json.dumps({"rv": last + 1, "type": "MODIFIED", "resource": "/namespaces",
                            "object": marked, "previous": space}) + "\n")
    dc.start()
    wait_for("the interrupted namespace deletion to resume", lambda: namespace_gone(dc, "crash"), 60)
    status, _, body = dc.request("GET", "/api/v1/configmaps")
    left = [i["metadata"]["name"] for i in body["items"] if i["metadata"]["namespace"] == "crash"]
    if left:
        fail(f"the namespace went but its content stayed: {left[:5]}")
    print("interrupted namespace deletion resumed after the restart")


def main():
    parts = sys.argv[1:] or ["large_namespace", "resumed_after_crash"]
    dc = Devcluster()
    try:
        dc.start()
        for part in parts:
            {"large_namespace": large_namespace, "resumed_after_crash": resumed_after_crash}[part](dc)
    finally:
        if dc.process and dc.process.poll() is None:
            dc.process.kill()  # a server stuck under its lock would not stop in time
            dc.process.wait()
        dc.close()
    print("PASS")


if __name__ == "__main__":
    main()
