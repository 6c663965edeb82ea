"""Shared helpers of the server integration tests (tests/server/test_*.py).

Each test runs `llmops-runtime serve --host 127.0.0.1 --port 0 ...` as a child that dies
with the test (SIGKILL on exit, and PR_SET_PDEATHSIG if the test itself is killed), finds
the port in the server's log line `address=127.0.0.1:PORT`, and talks to it with the
standard library only: http.client, plus an SSE reader for streamed completions.

Every test is invoked as: test_<name>.py RUNTIME_BINARY SHARED_DIR WORK_DIR [EXTRA...].
"""

import ctypes
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness  # noqa: E402

TEST_MODEL = "models/aidreams260K.bin"
TEST_TOKENIZER = "models/tok512.bin"
TEST_CONTEXT = 128


TestFailure = harness.Failure


def check(condition, message):
    if not condition:
        raise TestFailure(message)


class TestEnv:
    """The command-line arguments every test gets from CMake."""

    def __init__(self, argv):
        if len(argv) < 4:
            sys.exit(f"usage: {argv[0]} RUNTIME_BINARY SHARED_DIR WORK_DIR [EXTRA...]")
        self.runtime = argv[1]
        self.shared = Path(argv[2])
        self.work = Path(argv[3])
        self.extra = argv[4:]
        self.work.mkdir(parents=True, exist_ok=True)

    def test_model_args(self):
        """--model/--tokenizer of the llama2.c test model (context 128, 512-token vocab)."""
        return ["--model", str(self.shared / TEST_MODEL),
                "--tokenizer", str(self.shared / TEST_TOKENIZER)]

    # make-model shapes (byte vocab, context 512): "small" decodes thousands of tokens/s;
    # "long" (~130M parameters, Q8_0) is slow enough that a few hundred tokens last
    # seconds even with the SIMD kernels, for tests that need a stream still running.
    MODEL_SHAPES = {
        "small": ["--dim", "128", "--hidden", "384", "--layers", "4", "--heads", "4",
                  "--kv-heads", "2"],
        "long": ["--dim", "768", "--hidden", "2048", "--layers", "12", "--heads", "12",
                  "--kv-heads", "4", "--type", "q8_0"],
    }

    def make_model(self, shape="small"):
        """A random-weight GGUF of one of MODEL_SHAPES, shared by the tests (next to their
        work dirs) and written once: tests running in parallel each rename a whole file."""
        models = self.work.parent / "models"
        models.mkdir(exist_ok=True)
        path = models / f"{shape}.gguf"
        if not path.exists():
            partial = models / f"{shape}.{os.getpid()}.partial.gguf"
            subprocess.run([self.runtime, "make-model", *self.MODEL_SHAPES[shape], "--context",
                            "512", "--out", str(partial)], check=True, capture_output=True)
            os.replace(partial, path)
        return path


def _die_with_parent():
    # The server must not outlive a test that ctest kills on timeout.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class RuntimeServer:
    """One `llmops-runtime serve` child. Use as a context manager: killed on exit."""

    def __init__(self, env, args, name="server", extra_env=None):
        self.env = env
        self.args = list(args)
        self.log_path = env.work / f"{name}.log"
        self.extra_env = extra_env or {}
        self.process = None
        self.port = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.kill()

    def start(self, timeout=30):
        command = [self.env.runtime, "serve", "--host", "127.0.0.1", "--port", "0", *self.args]
        print("starting:", " ".join(command), flush=True)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **self.extra_env}, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while self.port is None:
            if self.process.poll() is not None:
                raise TestFailure(f"the server exited with {self.process.returncode} before "
                                  f"listening:\n{self.log()}")
            match = re.search(r"address=127\.0\.0\.1:(\d+)", self.log())
            if match:
                self.port = int(match.group(1))
            elif time.monotonic() > deadline:
                raise TestFailure(f"no 'address=127.0.0.1:PORT' log line in {timeout} s:\n"
                                  f"{self.log()}")
            else:
                time.sleep(0.05)
        while True:
            try:
                status, _, _ = self.request("GET", "/readyz", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            check(time.monotonic() < deadline, f"/readyz not 200 within {timeout} s")
            time.sleep(0.05)

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def wait_exit(self, timeout):
        """The exit code, or a TestFailure if the process is still running after timeout."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"the server did not exit within {timeout} s:\n{self.log()}")

    def log(self):
        return self.log_path.read_bytes().decode(errors="replace")

    # --- HTTP -----------------------------------------------------------------------------

    def connect(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, headers as a lower-cased dict, body text) of one request."""
        connection = self.connect(timeout)
        try:
            data = body if body is None or isinstance(body, (bytes, str)) else json.dumps(body)
            all_headers = {"Content-Type": "application/json"} if data is not None else {}
            all_headers.update(headers or {})
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            text = response.read().decode()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, text
        finally:
            connection.close()

    def post_json(self, path, body, headers=None, timeout=120):
        """(status, headers, parsed JSON body) of a POST; fails if the body is not JSON."""
        status, response_headers, text = self.request("POST", path, body, headers, timeout)
        try:
            return status, response_headers, json.loads(text)
        except json.JSONDecodeError:
            raise TestFailure(f"POST {path} -> {status} with a non-JSON body: {text!r}")

    def open_stream(self, path, body, headers=None, timeout=120):
        """Starts a streamed POST: (connection, response) whose body is read with sse_events."""
        connection = self.connect(timeout)
        connection.request("POST", path, body=json.dumps({**body, "stream": True}),
                           headers={"Content-Type": "application/json", **(headers or {})})
        return connection, connection.getresponse()

    def stream(self, path, body, headers=None, timeout=120):
        """A whole streamed completion: (status, list of events, the [DONE] seen)."""
        connection, response = self.open_stream(path, body, headers, timeout)
        try:
            if response.status != 200:
                return response.status, [json.loads(response.read())], False
            check(response.getheader("Content-Type", "").startswith("text/event-stream"),
                  f"stream Content-Type {response.getheader('Content-Type')!r}")
            events, done = [], False
            for event in sse_events(response):
                check(not done, f"event after [DONE]: {event!r}")
                if event == "[DONE]":
                    done = True
                else:
                    events.append(event)
            return 200, events, done
        finally:
            connection.close()

    def metrics(self):
        status, _, text = self.request("GET", "/metrics")
        check(status == 200, f"/metrics -> {status}")
        return text


def sse_events(response):
    """Yields each `data:` payload of a Server-Sent Events body: parsed JSON, or "[DONE]"."""
    pending = b""
    while True:
        chunk = response.read1(65536)
        if not chunk:
            check(not pending.strip(), f"stream ended inside an event: {pending!r}")
            return
        pending += chunk
        while b"\n\n" in pending:
            raw, pending = pending.split(b"\n\n", 1)
            for line in raw.decode().split("\n"):
                check(line.startswith("data: "), f"unexpected SSE line {line!r}")
                payload = line[len("data: "):]
                yield payload if payload == "[DONE]" else json.loads(payload)


def stream_text(events, chat=False):
    """The generated text of a stream's events and the finish_reason of its last choice."""
    text, finish = "", None
    for event in events:
        for choice in event.get("choices", []):
            text += (choice.get("delta", {}).get("content") or "") if chat else choice["text"]
            finish = choice.get("finish_reason") or finish
    return text, finish


def metric(text, name, **labels):
    """Sum of the samples of `name` (exactly, no suffix) whose labels include `labels`."""
    total, found = 0.0, False
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        match = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)", line)
        if not match or match.group(1) != name:
            continue
        series = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(series.get(k) == v for k, v in labels.items()):
            total += float(match.group(4))
            found = True
    check(found, f"metric {name}{labels or ''} not found in /metrics")
    return total


def wait_for(condition, timeout, message, interval=0.05):
    """Polls condition() until it returns a true value (returned), or fails after timeout
    (the harness's wait_for in this file's argument order)."""
    return harness.wait_for(message, condition, timeout, interval)


def check_error_shape(body, status, context):
    """The OpenAI error shape {"error":{"message","type","param","code"}}; returns error."""
    check(isinstance(body, dict) and isinstance(body.get("error"), dict),
          f"{context}: {status} body is not an OpenAI error: {body!r}")
    error = body["error"]
    check(set(error) >= {"message", "type", "param", "code"},
          f"{context}: error lacks message/type/param/code: {error!r}")
    check(isinstance(error["message"], str) and error["message"],
          f"{context}: empty error message: {error!r}")
    check(isinstance(error["type"], str) and error["type"], f"{context}: no error type")
    return error


def main(test):
    """Runs test(env) with the command-line arguments; exit 0 on success, 1 with a message."""
    # ctest's timeout sends SIGTERM to the test: unwind so that servers get killed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated (timeout?)"))
    env = TestEnv(sys.argv)
    try:
        test(env)
    except TestFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr, flush=True)
        sys.exit(1)
    print("PASSED", flush=True)
