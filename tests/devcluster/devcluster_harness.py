"""Starts llmops-devcluster for a Python test and talks to it: through the official
Kubernetes client (python3-kubernetes) and raw HTTPS for what a client would not send."""
import os
import shutil
import sys
import tempfile

import yaml
from kubernetes import config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import harness  # noqa: E402


class Devcluster(harness.Devcluster):
    """A devcluster in a fresh temporary folder (work) with the official client on its
    kubeconfig (api_client) once started; request() is the harness's raw HTTPS."""

    def __init__(self, *flags, data_dir=None):
        self.testdata = os.environ["TESTDATA"]
        self.work = tempfile.mkdtemp(prefix="devcluster-py.")
        super().__init__(data_dir or os.path.join(self.work, "data"), flags,
                         log=os.path.join(self.work, "server.log"), home=self.work)

    def start(self):
        super().start(timeout=10)
        self.api_client = config.new_client_from_config(config_file=self.kubeconfig)
        return self

    def stop(self):
        super().stop(timeout=20)

    def close(self):
        self.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

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
