#!/usr/bin/python3
"""Restart on the same --data-dir: every object is still there, the old kubeconfig
(CA, token, port) still works, resourceVersions keep increasing, and a watcher that
resumes from its last resourceVersion receives exactly the events it missed."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devcluster_harness import GROUP, PLURAL, VERSION, Devcluster, deployment  # noqa: E402
from kubernetes import client, watch  # noqa: E402


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def main():
    dc = Devcluster()
    try:
        dc.start()
        dc.install_test_crd()
        api = client.CustomObjectsApi(dc.api_client)
        api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, deployment("keep"))
        client.CoreV1Api(dc.api_client).create_namespaced_config_map(
            "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm"), data={"k": "v"}))
        listed = api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
        last_seen = listed["metadata"]["resourceVersion"]
        # Changes the watcher does not see: made while "it is away", then the restart.
        api.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "keep", {"spec": {"replicas": 4}})
        api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, deployment("late"))
        before = api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)["metadata"]["resourceVersion"]
        old_kubeconfig = open(dc.kubeconfig).read()
        old_port = dc.port
        dc.stop()

        dc.start()
        if dc.port != old_port:
            fail(f"port changed across restart: {old_port} -> {dc.port}")
        if open(dc.kubeconfig).read() != old_kubeconfig:
            fail("kubeconfig changed across restart")
        out = dc.kubectl("get", "llmdeployments", "-o", "name", check=False)
        if out.returncode != 0 or out.stdout.split() != [f"llmdeployment.{GROUP}/keep", f"llmdeployment.{GROUP}/late"]:
            fail(f"kubectl after restart: {out.returncode} {out.stdout} {out.stderr}")
        api = client.CustomObjectsApi(dc.api_client)
        core = client.CoreV1Api(dc.api_client)
        if core.read_namespaced_config_map("cm", "default").data != {"k": "v"}:
            fail("configmap lost")
        if api.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "keep")["spec"]["replicas"] != 4:
            fail("update lost")
        api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, deployment("after"))
        after = api.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)["metadata"]["resourceVersion"]
        if int(after) <= int(before):
            fail(f"resourceVersion went backwards: {before} -> {after}")
        events = []
        for event in watch.Watch().stream(api.list_namespaced_custom_object, GROUP, VERSION, "default", PLURAL,
                                          resource_version=last_seen, timeout_seconds=2):
            events.append((event["type"], event["object"]["metadata"]["name"]))
        expected = [("MODIFIED", "keep"), ("ADDED", "late"), ("ADDED", "after")]
        if events != expected:
            fail(f"resumed watch: {events}, expected {expected}")
    finally:
        dc.close()
    print("PASS")


if __name__ == "__main__":
    main()
