"""llmops-devcluster as a child process: started on 127.0.0.1:0 with a data directory,
its port, kubeconfig, token and CA once it listens, kubectl against it, raw HTTPS for
what a client would not send, and stop. The real control plane of scripts/real_cluster.py
is importable from here as `real_cluster` (LLMOPS_TEST_BACKEND=real)."""
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys

from .kubectl import Kubectl
from .wait import Failure, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("LLMOPS_BUILD", os.path.join(ROOT, "build"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import real_cluster  # noqa: E402,F401


def tail(path, lines=40):
    """The last lines of a log file; "" when it cannot be read."""
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


class Devcluster:
    """One llmops-devcluster. data: its --data-dir (kept between stop() and start(), so a
    restart keeps the objects and the port); flags: more of its flags; host: the address
    it listens on, port 0 (a free one, the same again on a restart, or another if that one
    is taken; keep_port: that port or fail); binary: $DEVCLUSTER_BIN, else
    the build's; log: the file its output goes to (data + ".log"); spawn(argv): starts the
    process and returns its Popen, for callers that keep their processes themselves;
    home: HOME for kubectl (data + "-home")."""

    def __init__(self, data, flags=(), binary=None, log=None, spawn=None, home=None,
                 host="127.0.0.1", keep_port=False):
        self.data = data
        self.host = host
        self.keep_port = keep_port
        self.flags = list(flags)
        self.binary = binary or os.environ.get("DEVCLUSTER_BIN") or os.path.join(
            BUILD, "devcluster", "llmops-devcluster")
        self.log_path = log or data.rstrip("/") + ".log"
        self.spawn = spawn or self._spawn
        self.home = home or data.rstrip("/") + "-home"
        self.kubeconfig = os.path.join(data, "kubeconfig")
        self.ca = os.path.join(data, "ca.crt")
        self.access_log_path = os.path.join(data, "access.log")
        self.kubectl = Kubectl(self.kubeconfig, home=self.home)
        self.process = None
        self.port = None

    def _spawn(self, argv):
        with open(self.log_path, "ab") as log:
            return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def start(self, timeout=30):
        """Starts it and waits until it listens: it rewrites DATA/port (a new inode) then;
        an old one stays from the previous start."""
        os.makedirs(self.home, exist_ok=True)
        port_file = os.path.join(self.data, "port")
        old = os.stat(port_file).st_ino if os.path.exists(port_file) else None
        port = self.port if self.keep_port and self.port else 0
        self.process = self.spawn([self.binary, "--listen", f"{self.host}:{port}", "--data-dir",
                                   self.data, *self.flags])

        def listening():
            if self.process.poll() is not None:
                raise Failure(f"llmops-devcluster exited {self.process.returncode}: "
                              f"{tail(self.log_path)}")
            return (os.path.exists(port_file) and os.stat(port_file).st_ino != old
                    and os.path.exists(self.kubeconfig))
        wait_for("llmops-devcluster to listen", listening, timeout, 0.1)
        with open(port_file) as f:
            self.port = int(f.read().strip())
        with open(os.path.join(self.data, "token")) as f:
            self.token = f.read().strip()
        return self

    def stop(self, timeout=30, must_exit=True):
        """SIGTERM; SIGKILL if it has not exited after timeout seconds, which is a Failure
        unless must_exit is False (a cleanup that only needs it gone)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            if must_exit:
                raise Failure(f"llmops-devcluster did not exit within {timeout}s of SIGTERM")

    def access_log(self):
        """The requests it served, oldest first (DATA/access.log, one JSON a line)."""
        with open(self.access_log_path) as log:
            return [json.loads(line) for line in log if line.strip()]

    def connection(self, timeout=30):
        """An HTTPS connection to it that verifies its CA."""
        context = ssl.create_default_context(cafile=self.ca)
        return http.client.HTTPSConnection(self.host, self.port, context=context,
                                           timeout=timeout)

    def request(self, method, path, body=None, content_type="application/json", token=True,
                headers=None, connection=None):
        """Raw HTTPS: (status, headers, body as JSON or else text). connection: one from
        connection() to reuse (kept open), else a new one for this request."""
        conn = connection or self.connection()
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = "Bearer " + self.token
        if body is not None:
            sent["Content-Type"] = content_type
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        data = response.read().decode("utf-8", "replace")
        if connection is None:
            conn.close()
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = data
        return response.status, dict(response.getheaders()), parsed
