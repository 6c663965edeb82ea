#!/usr/bin/python3
"""Runtime benchmark: llmops-runtime against llama.cpp on the same GGUF files, threads and
machine, in one run. For each model it prints prefill tokens/s (128-token prompt), decode
tokens/s at batch 1, aggregate decode tokens/s at batch 8, each as a ratio of llama.cpp's
(npm node-llama-cpp, prebuilt binary) and of our scalar kernels; and decode's share of
the memory bandwidth measured in the same run (weights read once per token).

usage: bench/runtime_bench.py [--build build] [--threads 2] [--types f32,q8_0,q4_0]
                              [--large] [--gen-tokens 64] [--model X.gguf ...]
Default models: make-model, dim 768, 12 layers, 32k vocabulary (about 130M parameters);
--large adds a Q8_0 model about four times this machine's 260 MiB L3 cache.
Needs `npm ci --prefix tests/checkers` for llama.cpp. Standard library only.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = os.path.join(ROOT, "..", "shared", "models", "tokenizer-llama2-32k.bin")


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_model(runtime, out, dtype, large):
    shape = (["--dim", "2048", "--hidden", "5632", "--layers", "16", "--heads", "16",
              "--kv-heads", "16"] if large else
             ["--dim", "768", "--hidden", "2048", "--layers", "12", "--heads", "12",
              "--kv-heads", "12"])
    vocab = ["--vocab-from", VOCAB] if os.path.exists(VOCAB) else []
    subprocess.run([runtime, "make-model", *shape, "--context", "512", *vocab, "--type", dtype,
                    "--out", out, "--seed", "1"], check=True, capture_output=True)


def ours(runtime, model, threads, batch, gen, kernels=None):
    env = {"LLMOPS_KERNELS": kernels} if kernels else None
    return run_json([runtime, "bench", "--model", model, "--prompt-tokens", "128",
                     "--gen-tokens", str(gen), "--batch", str(batch), "--threads",
                     str(threads)], env)


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--types", default="f32,q8_0,q4_0")
    ap.add_argument("--large", action="store_true")
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--model", action="append", default=[])
    args = ap.parse_args()
    runtime = os.path.join(args.build, "node-runtime", "llmops-runtime")
    membw = os.path.join(args.build, "bench", "llmops-membw")
    bandwidth = run_json([membw, "--threads", str(args.threads)])["read_bytes_per_second"]
    print(f"memory read bandwidth, {args.threads} threads: {bandwidth / 1e9:.1f} GB/s")

    with tempfile.TemporaryDirectory() as tmp:
        models = list(args.model)
        if not models:
            for dtype in args.types.split(","):
                path = os.path.join(tmp, f"m130-{dtype}.gguf")
                make_model(runtime, path, dtype, False)
                models.append(path)
            if args.large:
                path = os.path.join(tmp, "large-q8_0.gguf")
                make_model(runtime, path, "q8_0", True)
                models.append(path)
        header = (f"{'model':<18} {'what':<10} {'llmops':>9} {'llama.cpp':>10} {'vs llama':>9} "
                  f"{'scalar':>8} {'vs scalar':>9}")
        print(header)
        for model in models:
            name = os.path.basename(model)
            b1 = ours(runtime, model, args.threads, 1, args.gen_tokens)
            b8 = ours(runtime, model, args.threads, 8, args.gen_tokens)
            s1 = ours(runtime, model, args.threads, 1, min(16, args.gen_tokens), "scalar")
            s8 = ours(runtime, model, args.threads, 8, min(16, args.gen_tokens), "scalar")
            ll = run_json(["node", os.path.join(ROOT, "bench", "llama_cpp_bench.mjs"), "--model",
                           model, "--threads", str(args.threads), "--gen-tokens",
                           str(args.gen_tokens), "--batch", "8"])
            rows = [("prefill", b1["prefill_tokens_per_second"], ll["prefill_tokens_per_second"],
                     s1["prefill_tokens_per_second"]),
                    ("decode b1", b1["decode_tokens_per_second"], ll["decode_tokens_per_second"],
                     s1["decode_tokens_per_second"]),
                    ("decode b8", b8["decode_tokens_per_second"],
                     ll["aggregate_decode_tokens_per_second"], s8["decode_tokens_per_second"])]
            for what, a, l, s in rows:
                print(f"{name:<18} {what:<10} {a:>9.1f} {l:>10.1f} {ratio(a, l):>9} {s:>8.1f} "
                      f"{ratio(a, s):>9}")
            weight_bytes = os.path.getsize(model)
            share = b1["decode_tokens_per_second"] * weight_bytes / bandwidth
            print(f"{name:<18} decode b1 reads {weight_bytes / 1e6:.0f} MB/token: "
                  f"{share * 100:.0f}% of the measured bandwidth; threads {b1['threads']}, "
                  f"kernels {b1.get('kernels')}, placement {json.dumps(b1.get('placement'))}")


if __name__ == "__main__":
    sys.exit(main())
