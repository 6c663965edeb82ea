"""llmops-runtime serve as a child process on a free port (--port 0), for the benchmarks."""
import re
import subprocess
import threading
import time

from .wait import Failure


def serve(runtime, *flags, timeout=60.0):
    """Starts `runtime serve --port 0 FLAGS...`; (Popen, port) once it logs the address it
    listens on. Its stderr is read (and dropped) for as long as it runs."""
    process = subprocess.Popen([runtime, "serve", "--port", "0", *flags], stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        match = re.search(r"address=[0-9.]+:(\d+)", line)
        if match:
            threading.Thread(target=process.stderr.read, daemon=True).start()  # keep draining
            return process, int(match.group(1))
    process.kill()
    process.wait()
    raise Failure(f"llmops-runtime serve did not start within {timeout:g}s")
