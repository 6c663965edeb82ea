"""The one kubectl wrapper: a kubeconfig, the binary, and HOME for kubectl's discovery
cache (one per cluster, so that tests side by side never share one). KUBECONFIG from the
environment is never used."""
import json
import os
import subprocess

from .wait import Failure


class Kubectl:
    def __init__(self, kubeconfig, binary="kubectl", home=None, timeout=60):
        self.kubeconfig = kubeconfig
        self.binary = binary
        self.home = home
        self.timeout = timeout

    def __call__(self, *args, check=True, input=None, timeout=None):
        """Runs kubectl with args; the CompletedProcess (text). check: raise Failure with
        kubectl's error when it exits non-zero."""
        env = dict(os.environ)
        env.pop("KUBECONFIG", None)
        if self.home:
            env["HOME"] = self.home
        result = subprocess.run([self.binary, "--kubeconfig", self.kubeconfig, *args],
                                input=input, capture_output=True, text=True, env=env,
                                timeout=timeout or self.timeout)
        if check and result.returncode != 0:
            raise Failure(f"kubectl {' '.join(args)[:200]} exited {result.returncode}: "
                          f"{result.stderr.strip()[:2000]}")
        return result

    def out(self, *args, check=True, input=None, timeout=None):
        """kubectl's standard output."""
        return self(*args, check=check, input=input, timeout=timeout).stdout

    def get_json(self, *args, timeout=None):
        """`kubectl get ARGS -o json` parsed; None when kubectl fails (not found)."""
        result = self("get", *args, "-o", "json", check=False, timeout=timeout)
        return json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else None
