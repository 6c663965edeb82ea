"""Runs manifests/argocd/health.lua on every case of manifests/argocd/health_test.yaml
(Argo CD's resource_customizations test format) with Debian's Lua, and checks that the
cases cover every phase and condition reason the reconcilers produce.

Each input YAML becomes a Lua table literal (numbers as floats, as Argo CD's gopher-lua
sees JSON numbers); argocd_health_runner.lua runs the script in Argo CD's sandbox.
Usage: argocd_health_test.py LUA HEALTH_DIR"""

import os
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "argocd_health_runner.lua")
STATUSES = {"Healthy", "Progressing", "Suspended", "Degraded"}

# (phase, condition type, condition status or None for any, reason): every combination
# the reconcilers write (issue 8 uses exactly these reasons). Adding a reason there means
# adding it here and a test case for it.
REQUIRED_COMBINATIONS = [
    ("Healthy", "Progressing", "True", "RolloutCompleted"),
    ("Healthy", "Progressing", "False", "RolloutCompleted"),
    ("Progressing", "Progressing", None, "NewRevision"),
    ("Progressing", "Progressing", None, "RolloutInProgress"),
    ("Progressing", "Degraded", "True", "ReplicaFailure"),
    ("Paused", "Progressing", None, "RolloutPaused"),
    ("Degraded", "Degraded", "True", "AnalysisFailed"),
    ("Degraded", "Degraded", "True", "Aborted"),
    ("Degraded", "Degraded", "True", "ProgressDeadlineExceeded"),
    ("Degraded", "Degraded", "True", "ReplicaFailure"),
]
# Situations that are not a condition reason but change the answer.
REQUIRED_SITUATIONS = ["no status", "observedGeneration behind", "no phase",
                       "paused: waiting for promote", "paused: analysis inconclusive",
                       "paused: spec.rollout.paused"]


class StringTimestampLoader(yaml.SafeLoader):
    """Keeps timestamps as strings, as they are in JSON."""


StringTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def lua_string(text):
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif code < 32 or code == 127:
            out.append("\\%03d" % code)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def lua_literal(value):
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(float(value))
    if isinstance(value, str):
        return lua_string(value)
    if isinstance(value, list):
        if any(item is None for item in value):
            raise ValueError("null inside a list cannot be a Lua sequence")
        return "{" + ", ".join(lua_literal(item) for item in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua_string(str(k))}] = {lua_literal(v)}"
                               for k, v in value.items() if v is not None) + "}"
    raise ValueError(f"cannot express {type(value).__name__} in Lua")


def run_health(lua, health_lua, obj, work):
    object_path = os.path.join(work, "object.lua")
    with open(object_path, "w") as out:
        out.write("return " + lua_literal(obj) + "\n")
    result = subprocess.run([lua, RUNNER, health_lua, object_path], capture_output=True,
                            text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"lua exited {result.returncode}: {result.stderr.strip()}")
    lines = result.stdout.split("\n")
    if len(lines) != 3 or lines[2] != "":
        raise RuntimeError(f"expected a status line and a one-line message, got {result.stdout!r}")
    return lines[0], lines[1]


def situations(obj):
    found = set()
    status = obj.get("status")
    if not isinstance(status, dict):
        return {"no status"}
    generation = obj.get("metadata", {}).get("generation")
    if generation is not None and status.get("observedGeneration", 0) < generation:
        return {"observedGeneration behind"}
    phase = status.get("phase")
    if phase is None:
        found.add("no phase")
    for condition in status.get("conditions", []):
        found.add((phase, condition.get("type"), condition.get("status"), condition.get("reason")))
        found.add((phase, condition.get("type"), None, condition.get("reason")))
    if phase == "Paused":
        rollout = obj.get("spec", {}).get("rollout", {})
        steps = rollout.get("steps", [])
        step = status.get("currentStep")
        current = steps[step] if step is not None and step < len(steps) else {}
        if rollout.get("paused"):
            found.add("paused: spec.rollout.paused")
        elif "pause" in current and "duration" not in (current["pause"] or {}):
            found.add("paused: waiting for promote")
        elif "analysis" in current:
            found.add("paused: analysis inconclusive")
    return found


def main():
    lua, health_dir = sys.argv[1], sys.argv[2]
    health_lua = os.path.join(health_dir, "health.lua")
    with open(os.path.join(health_dir, "health_test.yaml")) as f:
        tests = yaml.safe_load(f)["tests"]
    failures = []
    covered = set()
    with tempfile.TemporaryDirectory(prefix="argocd-health.") as work:
        for test in tests:
            path = test["inputPath"]
            want = test["healthStatus"]
            with open(os.path.join(health_dir, path)) as f:
                obj = yaml.load(f, Loader=StringTimestampLoader)
            covered |= situations(obj)
            try:
                status, message = run_health(lua, health_lua, obj, work)
            except RuntimeError as error:
                failures.append(f"{path}: {error}")
                continue
            if status not in STATUSES:
                failures.append(f"{path}: status {status!r} is not one of {sorted(STATUSES)}")
            if (status, message) != (want["status"], want["message"]):
                failures.append(f"{path}: got {status} {message!r}, "
                                f"want {want['status']} {want['message']!r}")
            else:
                print(f"ok   {path}: {status} {message!r}")
    for needed in REQUIRED_COMBINATIONS + REQUIRED_SITUATIONS:
        if needed not in covered:
            failures.append(f"no test case covers {needed}")
    listed = {test["inputPath"] for test in tests}
    for name in sorted(os.listdir(os.path.join(health_dir, "testdata"))):
        if f"testdata/{name}" not in listed:
            failures.append(f"testdata/{name} is not listed in health_test.yaml")
    for failure in failures:
        print("FAIL " + failure)
    print(f"{len(tests)} cases, {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
