#!/usr/bin/python3
"""llama.cpp, built natively, as the baseline of bench/runtime_bench.py (never CI).

npm's node-llama-cpp ships the llama.cpp release it binds as a git bundle
(node_modules/node-llama-cpp/llama/gitRelease.bundle); tests/checkers/package.json pins the
version (`npm ci --prefix tests/checkers`, as for the checkers). This module unpacks that bundle, applies the
patches node-llama-cpp applies, builds it for this CPU with cmake (GGML_NATIVE, shared
libraries, no tests) under ~/.cache/llmops/llama.cpp-<release>/ (built once per release),
compiles bench/llama_cpp_harness.cpp against its libllama, and runs:

  llama-bench -m M -t T -p 128 -n 64 -r 2 -o json                    (prefill, decode 1 stream)
  llama-batched-bench -m M -c 2048 -b 512 -ub 512 -npp 16 -ntg 64 -npl 8 -t T --output-format jsonl
  llama-cpp-harness  (our protocol, for what the tools do not print)

usage: bench/llama_cpp.py [--build-only] [--model M --threads T]
Standard library only.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "tests", "checkers", "node_modules", "node-llama-cpp", "llama")
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "llmops")


class Build:
    """Where one llama.cpp release is built: its tools, libllama and our harness."""

    def __init__(self, release, commit, root):
        self.release = release
        self.commit = commit
        self.root = root
        self.src = os.path.join(root, "src")
        self.bin = os.path.join(root, "build", "bin")
        self.harness = os.path.join(root, "llama-cpp-harness")

    def tool(self, name):
        return os.path.join(self.bin, name)

    def describe(self):
        return f"llama.cpp {self.release} ({self.commit[:10]}, node-llama-cpp bundle, native)"


def bundle_info():
    info_path = os.path.join(PACKAGE, "llama.cpp.info.json")
    bundle = os.path.join(PACKAGE, "gitRelease.bundle")
    if not os.path.exists(bundle):
        sys.exit(f"llama_cpp: {bundle} is missing; run `npm ci --prefix tests/checkers` "
                 "first (tests/checkers/package.json pins node-llama-cpp)")
    with open(info_path) as f:
        release = json.load(f)["tag"]
    heads = subprocess.run(["git", "bundle", "list-heads", bundle], check=True,
                           capture_output=True, text=True).stdout.split()
    return release, heads[0], bundle


def run_logged(cmd, log, **kw):
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, **kw)
    if r.returncode != 0:
        sys.exit(f"llama_cpp: `{' '.join(cmd)}` failed (exit {r.returncode}); see {log}")


def ensure_build(jobs=None):
    """Builds (once per release) and returns the Build."""
    release, commit, bundle = bundle_info()
    build = Build(release, commit, os.path.join(CACHE, f"llama.cpp-{release}"))
    harness_src = os.path.join(ROOT, "bench", "llama_cpp_harness.cpp")
    stamp = os.path.join(build.root, "built-" + commit)
    log = os.path.join(build.root, "build.log")
    jobs = str(jobs or os.cpu_count() or 2)
    if not os.path.exists(stamp):
        shutil.rmtree(build.root, ignore_errors=True)
        os.makedirs(build.root)
        print(f"building {build.describe()} in {build.root} (once; log {log})", file=sys.stderr)
        run_logged(["git", "clone", "--quiet", bundle, build.src], log)
        for patch in sorted(glob.glob(os.path.join(PACKAGE, "patches", "*.diff"))):
            run_logged(["git", "-C", build.src, "apply", patch], log)
        run_logged(["cmake", "-S", build.src, "-B", os.path.join(build.root, "build"),
                    "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON", "-DBUILD_SHARED_LIBS=ON",
                    "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
                    "-DLLAMA_BUILD_SERVER=OFF", "-DLLAMA_BUILD_APP=OFF", "-DLLAMA_OPENSSL=OFF"]
                   + (["-G", "Ninja"] if shutil.which("ninja") else []), log)
        run_logged(["cmake", "--build", os.path.join(build.root, "build"), "-j", jobs,
                    "--target", "llama-bench", "llama-batched-bench", "llama"], log)
        open(stamp, "w").close()
    if (not os.path.exists(build.harness) or
            os.path.getmtime(build.harness) < os.path.getmtime(harness_src)):
        cxx = os.environ.get("CXX", "c++")
        run_logged([cxx, "-std=c++17", "-O2", "-o", build.harness, harness_src,
                    "-I", os.path.join(build.src, "include"),
                    "-I", os.path.join(build.src, "ggml", "include"),
                    "-L", build.bin, "-lllama", "-lggml", "-lggml-base",
                    f"-Wl,-rpath,{build.bin}"], log)
    return build


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") or line.startswith("["):
            out.append(json.loads(line))
    return out


def llama_bench(build, model, threads):
    """Prefill of 128 tokens and decode of 64 at 1 stream, two repetitions each."""
    r = subprocess.run([build.tool("llama-bench"), "-m", model, "-t", str(threads), "-p", "128",
                        "-n", "64", "-r", "2", "-o", "json"], check=True, capture_output=True,
                       text=True)
    tests = json.loads(r.stdout)
    result = {}
    for t in tests:
        key = "prefill" if t["n_prompt"] > 0 else "decode"
        result[key] = {"mean": t["avg_ts"], "runs": t.get("samples_ts", [])}
    return result


def batched_bench(build, model, threads):
    """Aggregate decode of 8 streams after 16-token prompts."""
    r = subprocess.run([build.tool("llama-batched-bench"), "-m", model, "-c", "2048", "-b", "512",
                        "-ub", "512", "-npp", "16", "-ntg", "64", "-npl", "8", "-t", str(threads),
                        "--output-format", "jsonl"], check=True, capture_output=True, text=True)
    rows = [row for row in json_lines(r.stdout) if row.get("pl") == 8]
    if not rows:
        sys.exit(f"llama_cpp: llama-batched-bench printed no row for 8 streams:\n{r.stdout}")
    return rows[-1]["speed_tg"]


def harness(build, model, threads, prompt=128, gen=64, batch=1):
    """Our bench's protocol through libllama: one JSON object."""
    r = subprocess.run([build.harness, "--model", model, "--threads", str(threads),
                        "--prompt-tokens", str(prompt), "--gen-tokens", str(gen),
                        "--batch", str(batch)], check=True, capture_output=True, text=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--jobs", type=int)
    args = ap.parse_args()
    build = ensure_build(args.jobs)
    print(build.describe())
    if args.build_only or not args.model:
        return 0
    print(json.dumps({"llama_bench": llama_bench(build, args.model, args.threads),
                      "batched_bench_aggregate": batched_bench(build, args.model, args.threads),
                      "harness_b1": harness(build, args.model, args.threads),
                      "harness_b8": harness(build, args.model, args.threads, batch=8)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
