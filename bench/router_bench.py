#!/usr/bin/python3
"""Router benchmark: llmops-router against nginx `proxy_pass` (Debian's nginx, configured
here on loopback with upstream keep-alive and buffering off, as one would for SSE), both in
front of the same llmops-runtime, measured in the same run. Prints requests/s and the
latency each proxy adds (p50/p99 over the direct path) for small non-streamed requests and
for streams, with the router's figures as ratios of nginx's.

usage: bench/router_bench.py [--build build] [--requests 3000] [--streams 300]
                             [--concurrency 8] [--workers 2]
Standard library only; run with Debian's /usr/bin/python3. Machines are shared and noisy:
compare the ratios, and rerun before trusting a difference under ~10%.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness import free_port, wait_for  # noqa: E402


def wait_ready(port, path="/readyz", timeout=30):
    def ready():
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            return conn.getresponse().status == 200
        except OSError:
            return False
    wait_for(f"port {port} ready", ready, timeout, 0.1)


def run_load(port, total, concurrency, body):
    """Latencies (s) of `total` requests over `concurrency` keep-alive connections, and
    the wall time."""
    latencies = []
    lock = threading.Lock()
    counter = [0]
    payload = json.dumps(body)
    errors = [0]

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while True:
            with lock:
                if counter[0] >= total:
                    break
                counter[0] += 1
            start = time.perf_counter()
            try:
                conn.request("POST", "/v1/completions", payload, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
                if body.get("stream") or response.getheader("connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
            if ok:
                mine.append(time.perf_counter() - start)
            else:
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return latencies, wall, errors[0]


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


NGINX_CONF = """
worker_processes {workers};
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  upstream runtime {{ server 127.0.0.1:{backend}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://runtime;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 300s;
    }}
  }}
}}
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="nginx worker processes")
    args = parser.parse_args()
    runtime = os.path.join(args.build, "node-runtime", "llmops-runtime")
    router = os.path.join(args.build, "router", "llmops-router")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        sys.exit("nginx not found: apt-get install -y nginx (scripts/install-deps.sh does)")

    work = tempfile.mkdtemp(prefix="router-bench.")
    procs = []
    try:
        model = os.path.join(work, "model.gguf")
        subprocess.run([runtime, "make-model", "--dim", "64", "--hidden", "128", "--layers", "2",
                        "--heads", "4", "--context", "256", "--out", model], check=True,
                       capture_output=True)
        backend = free_port()
        procs.append(subprocess.Popen(
            [runtime, "serve", "--model", model, "--model-name", "bench", "--port", str(backend),
             "--max-queue", "1024", "--threads", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_ready(backend)

        nginx_port = free_port()
        with open(os.path.join(work, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(workers=args.workers, work=work, backend=backend, port=nginx_port))
        procs.append(subprocess.Popen([nginx, "-p", work, "-c", os.path.join(work, "nginx.conf")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        routes = os.path.join(work, "routes.yaml")
        with open(routes, "w") as f:
            f.write(f"deployments:\n  - name: bench\n    revisions:\n"
                    f"      - {{revision: 1, weight: 100, endpoints: [\"127.0.0.1:{backend}\"]}}\n")
        proc = subprocess.Popen([router, "--listen", "127.0.0.1:0", "--static-config", routes],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        procs.append(proc)
        router_port = int(re.search(r":(\d+)$", proc.stdout.readline().decode().strip()).group(1))
        wait_ready(router_port)
        wait_ready(nginx_port, path="/readyz")

        scenarios = [
            ("small", args.requests, {"model": "bench", "prompt": "Hi", "max_tokens": 1}),
            ("stream", args.streams, {"model": "bench", "prompt": "Once upon a time",
                                      "max_tokens": 32, "stream": True}),
        ]
        print(f"backend: llmops-runtime (tiny model, 1 thread); client: {args.concurrency} "
              f"keep-alive connections; nginx {args.workers} workers; router "
              f"{max(2, os.cpu_count() or 2)} threads; {os.cpu_count()} CPUs")
        print(f"{'scenario':8} {'path':7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'+p50 ms':>8} {'+p99 ms':>8} {'errors':>6}")
        for name, total, body in scenarios:
            run_load(backend, min(200, total), args.concurrency, body)  # warm up
            results = {}
            # Interleave the paths over rounds so that drift in machine load hits all three.
            for _round in range(2):
                for path, port in (("direct", backend), ("nginx", nginx_port), ("router", router_port)):
                    lat, wall, errors = run_load(port, total // 2, args.concurrency, body)
                    acc = results.setdefault(path, {"lat": [], "wall": 0.0, "n": 0, "errors": 0})
                    acc["lat"] += lat
                    acc["wall"] += wall
                    acc["n"] += len(lat)
                    acc["errors"] += errors
            direct = results["direct"]["lat"]
            summary = {}
            for path in ("direct", "nginx", "router"):
                r = results[path]
                rps = r["n"] / r["wall"]
                p50, p99 = percentile(r["lat"], 0.5), percentile(r["lat"], 0.99)
                add50 = p50 - percentile(direct, 0.5)
                add99 = p99 - percentile(direct, 0.99)
                summary[path] = (rps, add50, add99)
                print(f"{name:8} {path:7} {rps:9.0f} {p50 * 1e3:8.2f} {p99 * 1e3:8.2f} "
                      f"{add50 * 1e3:8.2f} {add99 * 1e3:8.2f} {r['errors']:6d}")
            rps_ratio = summary["router"][0] / summary["nginx"][0]
            print(f"{name:8} router/nginx: requests/s x{rps_ratio:.2f}; added p50 "
                  f"{summary['router'][1] * 1e3:.2f} vs {summary['nginx'][1] * 1e3:.2f} ms; added p99 "
                  f"{summary['router'][2] * 1e3:.2f} vs {summary['nginx'][2] * 1e3:.2f} ms")
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=35)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
