"""`serve --model https://…`: the model is downloaded over verified TLS from a local HTTPS
server (tests/server/https_test_server.py, a CA made here with the openssl CLI) into
--model-cache, verified against --model-sha256, and served; a wrong sha256 makes the
server exit 1 with a message naming both hashes, before listening."""

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from runtime_server import RuntimeServer, TEST_MODEL, TEST_TOKENIZER, check, main

HERE = Path(__file__).resolve().parent


def make_ca(work):
    def run(*args):
        subprocess.run(args, check=True, cwd=work, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
        "-out", "ca.pem", "-days", "2", "-subj", "/CN=llmops test CA")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
        "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (work / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")


def test(env):
    work = env.work
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    make_ca(work)
    root = work / "www"
    root.mkdir()
    model = env.shared / TEST_MODEL
    shutil.copy(model, root / "aidreams.bin")
    digest = hashlib.sha256(model.read_bytes()).hexdigest()

    port_file = work / "port"
    https = subprocess.Popen(
        [sys.executable, str(HERE / "https_test_server.py"), "--root", str(root),
         "--cert", str(work / "server.pem"), "--key", str(work / "server.key"),
         "--port-file", str(port_file), "--log", str(work / "https.log")])
    try:
        for _ in range(200):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.05)
        url = f"https://127.0.0.1:{port_file.read_text().strip()}/aidreams.bin?token=secret"
        common = ["--model", url, "--tokenizer", str(env.shared / TEST_TOKENIZER),
                  "--model-cache", str(work / "cache"), "--model-ca-file", str(work / "ca.pem"),
                  "--model-name", "dreams"]

        with RuntimeServer(env, common + ["--model-sha256", digest], name="good") as server:
            status, _, body = server.post_json(
                "/v1/completions", {"model": "dreams", "prompt": "The robot", "max_tokens": 5,
                                    "temperature": 0})
            check(status == 200, f"completion after download: {status} {body}")
            check("secret" not in server.log(), "the URL's query string was logged")
        cached = list((work / "cache").iterdir())
        check(any(p.stat().st_size == model.stat().st_size for p in cached),
              f"no complete model in the cache: {cached}")

        wrong = "0" * 64
        bad = subprocess.run([env.runtime, "serve", "--port", "0", *common,
                              "--model-sha256", wrong], capture_output=True, text=True,
                             timeout=60)
        output = bad.stdout + bad.stderr
        check(bad.returncode == 1, f"wrong sha256: exit {bad.returncode}\n{output}")
        check("sha256 mismatch" in output and digest in output and wrong in output,
              f"the error must name both hashes:\n{output}")
        check("address=" not in output, "the server listened despite the mismatch")
    finally:
        https.kill()
        https.wait()


if __name__ == "__main__":
    main(test)
