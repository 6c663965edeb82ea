#!/usr/bin/python3
"""Load benchmark of `llmops-runtime serve`: throughput and time to first token at 1, 4, 8
and 16 concurrent streams on a make-model model, printed as a table with the ratio of
batched to single-stream throughput (measured in the same run).

usage: bench/serve_load.py [--runtime build/node-runtime/llmops-runtime] [--tokens 64]
                           [--model X.gguf] [--levels 1,4,8,16] [--rounds 2]
Standard library only; run with Debian's /usr/bin/python3.
"""
import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness.runtime import serve  # noqa: E402


def start_server(runtime, model, max_batch):
    return serve(runtime, "--model", model, "--max-batch", str(max_batch), "--max-queue", "256",
                 "--lame-duck-seconds", "0", "--drain-seconds", "5", timeout=60)


def stream_once(port, prompt, max_tokens, results):
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = json.dumps({"prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
                       "stream": True, "stream_options": {"include_usage": True}})
    conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}: {resp.read()[:200]!r}")
    ttft = None
    tokens = 0
    for raw in resp:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        event = json.loads(line[6:])
        if ttft is None and event.get("choices") and event["choices"][0].get("text"):
            ttft = time.perf_counter() - start
        if event.get("usage"):
            tokens = event["usage"]["completion_tokens"]
    conn.close()
    results.append((ttft if ttft is not None else time.perf_counter() - start, tokens))


def run_level(port, concurrency, max_tokens):
    results = []
    threads = [threading.Thread(target=stream_once,
                                args=(port, f"stream {i} says", max_tokens, results))
               for i in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    tokens = sum(n for _, n in results)
    ttfts = sorted(t for t, _ in results)
    return tokens / elapsed, ttfts


def percentile(values, p):
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runtime", default=os.path.join(ROOT, "build/node-runtime/llmops-runtime"))
    ap.add_argument("--model")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--levels", default="1,4,8,16")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if not model:
            model = os.path.join(tmp, "bench-q8_0.gguf")
            subprocess.run([args.runtime, "make-model", "--dim", "512", "--hidden", "1408",
                            "--layers", "8", "--heads", "8", "--kv-heads", "4", "--context", "512",
                            "--type", "q8_0", "--out", model, "--seed", "3"],
                           check=True, stderr=subprocess.DEVNULL)
        proc, port = start_server(args.runtime, model, max(levels))
        try:
            run_level(port, 1, 4)  # warm-up
            rows = []
            for level in levels:
                best_tps, all_ttft = 0.0, []
                for _ in range(args.rounds):
                    tps, ttfts = run_level(port, level, args.tokens)
                    best_tps = max(best_tps, tps)
                    all_ttft += ttfts
                all_ttft.sort()
                rows.append((level, best_tps, percentile(all_ttft, 50), percentile(all_ttft, 99)))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    single = rows[0][1] if rows and rows[0][0] == 1 else None
    print(f"model: {os.path.basename(model)}; {args.tokens} tokens per stream; best of "
          f"{args.rounds} rounds")
    print(f"{'streams':>8} {'tokens/s':>10} {'ttft p50 ms':>12} {'ttft p99 ms':>12} "
          f"{'vs 1 stream':>12}")
    for level, tps, p50, p99 in rows:
        ratio = f"{tps / single:.2f}x" if single else "-"
        print(f"{level:>8} {tps:>10.1f} {p50 * 1000:>12.1f} {p99 * 1000:>12.1f} {ratio:>12}")


if __name__ == "__main__":
    sys.exit(main())
