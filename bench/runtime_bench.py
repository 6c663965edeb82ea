#!/usr/bin/python3
"""Runtime benchmark: llmops-runtime against llama.cpp on the same GGUF files, threads and
machine, in one run (never CI; no assertion on time).

For each model and figure it prints ours, llama.cpp's own C++ tools on the same file
(which build: the release npm's node-llama-cpp bundles, built natively by
bench/llama_cpp.py), the ratio, and for decode the share of the memory bandwidth measured
in the same run (every weight is read once per decode step):

  prefill 128 tokens    llmops-runtime bench      vs  llama-bench -p 128 -r 2
  decode, 1 stream      llmops-runtime bench      vs  llama-bench -n 64 -r 2
  decode, 8 streams     llmops-runtime bench -b 8 vs  llama-batched-bench -npl 8 -ntg 64
                        (aggregate tokens/s)

and the same figures from bench/llama_cpp_harness.cpp, our bench's exact protocol through
libllama (decode after the 128-token prompt, argmax of every step's logits). Each side
runs --rounds times (default 2), interleaved, and every round is shown. Last, `serve` with
one client streaming: the mean inter-token latency the client sees against bench's
decode time per token.

usage: bench/runtime_bench.py [--build build] [--threads 2] [--types q8_0,q4_0,f32]
                              [--large [--large-types q8_0,q4_k_m,q6_k]] [--rounds 2] [--keep DIR] [--model X.gguf ...]
                              [--no-serve]
Default models: make-model, dim 768, 12 layers, 32k vocabulary (about 130M parameters);
--large adds the 2048 x 16-layer model (Q8_0: 1.01 GB, 4x a 256 MiB L3, 30x a 32 MiB one)
in each of --large-types (default q8_0; the K-quant mixes q4_k_m, q5_k_m and q6_k too).
Needs `npm ci --prefix tests/checkers` (the pinned node-llama-cpp carries llama.cpp's
source) and cmake + a C++ compiler; the first run builds llama.cpp (cached in
~/.cache/llmops/). Standard library only; run with Debian's /usr/bin/python3.
"""
import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import llama_cpp  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness.runtime import serve  # noqa: E402

VOCAB = os.path.join(ROOT, "..", "shared", "models", "tokenizer-llama2-32k.bin")
SHAPES = {
    "m130": ["--dim", "768", "--hidden", "2048", "--layers", "12", "--heads", "12",
             "--kv-heads", "12"],
    "large": ["--dim", "2048", "--hidden", "5632", "--layers", "16", "--heads", "16",
              "--kv-heads", "16"],
}


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    return json.loads(out.stdout.strip().splitlines()[-1])


def load():
    return os.getloadavg()[0]


def make_model(runtime, out, shape, dtype):
    if os.path.exists(out):
        return
    vocab = ["--vocab-from", VOCAB] if os.path.exists(VOCAB) else []
    subprocess.run([runtime, "make-model", *SHAPES[shape], "--context", "512", *vocab, "--type",
                    dtype, "--out", out + ".part", "--seed", "1"], check=True,
                   capture_output=True)
    os.rename(out + ".part", out)


def ours(runtime, model, threads, batch):
    return run_json([runtime, "bench", "--model", model, "--prompt-tokens", "128",
                     "--gen-tokens", "64", "--batch", str(batch), "--threads", str(threads)])


# --- serve: one streaming client -------------------------------------------------------

def start_server(runtime, model, threads):
    return serve(runtime, "--model", model, "--threads", str(threads), "--max-batch", "8",
                 "--lame-duck-seconds", "0", "--drain-seconds", "5", timeout=120)


def stream_itl(port, prompt_ids, max_tokens):
    """Mean inter-token latency one streaming client sees: from the first token's event to
    the end of the stream, over the tokens generated after the first."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    body = json.dumps({"prompt": prompt_ids, "max_tokens": max_tokens, "temperature": 0,
                       "stream": True, "stream_options": {"include_usage": True}})
    conn.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise SystemExit(f"serve: HTTP {resp.status}: {resp.read()[:200]!r}")
    first = end = None
    tokens = 0
    for raw in resp:
        line = raw.decode().strip()
        if not line.startswith("data: "):
            continue
        now = time.perf_counter()
        if line == "data: [DONE]":
            break
        event = json.loads(line[6:])
        if event.get("choices"):
            first = first or now
            end = now
        if event.get("usage"):
            tokens = event["usage"]["completion_tokens"]
    conn.close()
    if first is None or tokens < 2:
        return None
    return (end - first) / (tokens - 1), tokens


def serve_figures(runtime, model, threads, rounds, vocab):
    proc, port = start_server(runtime, model, threads)
    try:
        rng = random.Random(1)
        prompt = [1] + [rng.randrange(3, vocab) for _ in range(127)]
        stream_itl(port, prompt[:8], 4)  # warm-up
        return [stream_itl(port, prompt, 64) for _ in range(rounds)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- output ----------------------------------------------------------------------------

def runs(values, fmt="{:.1f}"):
    return " / ".join(fmt.format(v) for v in values)


def ratio(a, b):
    return f"{statistics.mean(a) / statistics.mean(b):.2f}x" if a and b else "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--types", default="q8_0,q4_0,f32")
    ap.add_argument("--large", action="store_true")
    ap.add_argument("--large-types", default="q8_0",
                    help="weight types of the --large model, e.g. q8_0,q4_k_m,q6_k")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", help="directory to keep (and reuse) the generated models in")
    ap.add_argument("--model", action="append", default=[])
    ap.add_argument("--no-serve", action="store_true")
    args = ap.parse_args()
    runtime = os.path.join(args.build, "node-runtime", "llmops-runtime")
    membw = os.path.join(args.build, "bench", "llmops-membw")
    build = llama_cpp.ensure_build()
    t = args.threads
    print(f"baseline: {build.describe()}, {build.root}")
    print(f"threads {t}; load average at start {load():.2f}")

    tmp = tempfile.TemporaryDirectory()
    model_dir = args.keep or tmp.name
    os.makedirs(model_dir, exist_ok=True)
    models = list(args.model)
    if not models:
        for dtype in args.types.split(","):
            models.append(os.path.join(model_dir, f"m130-{dtype}.gguf"))
            make_model(runtime, models[-1], "m130", dtype)
        if args.large:
            for dtype in args.large_types.split(","):
                models.append(os.path.join(model_dir, f"large-{dtype}.gguf"))
                make_model(runtime, models[-1], "large", dtype)

    bandwidths = []
    summary = []
    for model in models:
        name = os.path.basename(model)
        r = {k: [] for k in ("o_pp", "o_tg", "o_b8", "l_pp", "l_tg", "l_b8", "h_pp", "h_tg",
                             "h_b8", "load")}
        o1 = None
        for _ in range(args.rounds):
            bandwidths.append(run_json([membw, "--threads", str(t), "--mib", "1024"])
                              ["read_bytes_per_second"])
            r["load"].append(load())
            o1 = ours(runtime, model, t, 1)
            lb = llama_cpp.llama_bench(build, model, t)
            o8 = ours(runtime, model, t, 8)
            l8 = llama_cpp.batched_bench(build, model, t)
            h1 = llama_cpp.harness(build, model, t)
            h8 = llama_cpp.harness(build, model, t, batch=8)
            r["o_pp"].append(o1["prefill_tokens_per_second"])
            r["o_tg"].append(o1["decode_tokens_per_second"])
            r["o_b8"].append(o8["decode_tokens_per_second"])
            r["l_pp"].append(lb["prefill"]["mean"])
            r["l_tg"].append(lb["decode"]["mean"])
            r["l_b8"].append(l8)
            r["h_pp"].append(h1["prefill_tokens_per_second"])
            r["h_tg"].append(h1["decode_tokens_per_second"])
            r["h_b8"].append(h8["decode_tokens_per_second"])
        bw = statistics.mean(bandwidths[-args.rounds:])
        step_bytes = o1["weight_bytes_per_step"]
        print()
        print(f"== {name}: {os.path.getsize(model) / 1e6:.0f} MB file, "
              f"{step_bytes / 1e6:.0f} MB of weights per decode step; ours: kernels "
              f"{o1['kernels']}, {o1['threads']} threads; load average per round "
              f"{runs(r['load'], '{:.2f}')}")
        print(f"{'figure (tokens/s)':<22} {'llmops':>15} {'llama.cpp tools':>17} {'ratio':>6}   "
              f"{'llama.cpp harness':>18} {'ratio':>6}")
        for label, o, l, h in (("prefill 128 tokens", "o_pp", "l_pp", "h_pp"),
                               ("decode, 1 stream", "o_tg", "l_tg", "h_tg"),
                               ("decode, 8 streams", "o_b8", "l_b8", "h_b8")):
            print(f"{label:<22} {runs(r[o]):>15} {runs(r[l]):>17} {ratio(r[o], r[l]):>6}   "
                  f"{runs(r[h]):>18} {ratio(r[o], r[h]):>6}")
        share_o = statistics.mean(r["o_tg"]) * step_bytes / bw
        share_l = statistics.mean(r["l_tg"]) * step_bytes / bw
        print(f"{'bandwidth share, 1 stream':<22} {share_o * 100:>14.0f}% {share_l * 100:>16.0f}%"
              f"          of {bw / 1e9:.1f} GB/s (llmops-membw, {t} threads, this run)")
        summary.append((name, r, share_o, share_l))
        if not args.no_serve:
            itl = serve_figures(runtime, model, t, args.rounds, o1["vocab"])
            bench_ms = 1e3 / statistics.mean(r["o_tg"])
            itl_ms = [1e3 * x[0] for x in itl if x]
            if itl_ms:
                print(f"{'serve, 1 client':<22} mean inter-token latency {runs(itl_ms, '{:.2f}')} ms"
                      f" ({', '.join(str(x[1]) for x in itl if x)} tokens) vs bench "
                      f"{bench_ms:.2f} ms/token: {statistics.mean(itl_ms) / bench_ms:.2f}x")
            else:
                print(f"{'serve, 1 client':<22} no figure (the model stopped after < 2 tokens)")

    print()
    print("summary: ratio to llama.cpp's tools (mean of the rounds)")
    for name, r, share_o, share_l in summary:
        print(f"  {name:<22} prefill {ratio(r['o_pp'], r['l_pp'])}, decode 1 stream "
              f"{ratio(r['o_tg'], r['l_tg'])} ({share_o * 100:.0f}% vs {share_l * 100:.0f}% of "
              f"the bandwidth), 8 streams {ratio(r['o_b8'], r['l_b8'])}")
    print(f"load average at end {load():.2f}")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
