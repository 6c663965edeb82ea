"""Starts llmops-devcluster for a Python test and talks to it: through the official
Kubernetes client (python3-kubernetes) and raw HTTPS for what a client would not send."""
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import http.client

import yaml
from kubernetes import client, config


class Devcluster:
    def __init__(self, *flags, data_dir=None):
        self.binary = os.environ["DEVCLUSTER_BIN"]
        self.testdata = os.environ["TESTDATA"]
        self.work = tempfile.mkdtemp(prefix="devcluster-py.")
        self.data = data_dir or os.path.join(self.work, "data")
        self.flags = flags
        self.process = None

    def start(self):
        port_file = os.path.join(self.data, "port")
        # The server rewrites DIR/port (a new inode) once it listens; an old one stays
        # to hand the port to the next start.
        old_inode = os.stat(port_file).st_ino if os.path.exists(port_file) else None
        self.log = open(os.path.join(self.work, "server.log"), "ab")
        self.process = subprocess.Popen(
            [self.binary, "--listen", "127.0.0.1:0", "--data-dir", self.data, *self.flags],
            stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            if os.path.exists(port_file) and os.stat(port_file).st_ino != old_inode:
                break
            if self.process.poll() is not None:
                raise RuntimeError("devcluster exited at start")
            time.sleep(0.1)
        self.port = int(open(port_file).read())
        self.kubeconfig = os.path.join(self.data, "kubeconfig")
        self.token = open(os.path.join(self.data, "token")).read().strip()
        self.api_client = config.new_client_from_config(config_file=self.kubeconfig)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def close(self):
        self.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # Raw HTTPS: returns (status, headers, body as JSON or text).
    def request(self, method, path, body=None, content_type="application/json", token=True,
                headers=None):
        context = ssl.create_default_context(cafile=os.path.join(self.data, "ca.crt"))
        connection = http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=30)
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = "Bearer " + self.token
        if body is not None:
            sent["Content-Type"] = content_type
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read().decode("utf-8", "replace")
        connection.close()
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = data
        return response.status, dict(response.getheaders()), parsed

    def install_test_crd(self):
        with open(os.path.join(self.testdata, "crd.yaml")) as f:
            crd = yaml.safe_load(f)
        status, _, body = self.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        assert status == 201, body
        return crd


GROUP, VERSION, PLURAL = "tests.llmops.dev", "v1alpha1", "llmdeployments"
BASE = f"/apis/{GROUP}/{VERSION}/namespaces/default/{PLURAL}"


def deployment(name, **spec):
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "LLMDeployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"model": {"name": "story", "uri": "file:///m.gguf"}}}
    body["spec"].update(spec)
    return body
