"""Runs manifests/argocd/health.lua on every case of manifests/argocd/health_test.yaml
(Argo CD's resource_customizations test format) with Debian's Lua, and checks that the
cases cover every (phase, condition type, condition status, reason) combination the
reconcilers produce.

Against drift, the phases, condition types and condition reasons are also read from the
LLMDeployment contract (api/include/llmops/api/llmdeployment.h, printed as JSON by
llmops-api-contract): a value the contract has that REQUIRED_COMBINATIONS lacks, or one
listed there that the contract no longer has, fails the test, as does a required
combination no case shows.

Cases named testdata/fallback-*.yaml hold statuses the reconcilers never write (no phase,
an unknown reason...); every other case must show only combinations of the table, so the
operator-written cases stay realistic.

Each input YAML becomes a Lua table literal (numbers as floats, as Argo CD's gopher-lua
sees JSON numbers); argocd_health_runner.lua runs the script in Argo CD's sandbox.
Usage: argocd_health_test.py LUA HEALTH_DIR API_CONTRACT_BIN"""

import json
import os
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "argocd_health_runner.lua")
STATUSES = {"Healthy", "Progressing", "Suspended", "Degraded"}
FALLBACK_PREFIX = "testdata/fallback-"

# Why the operator degrades (the contract's kDegradedReasons); in phase Degraded
# the Degraded condition is True and Progressing False, both with this reason.
DEGRADED_REASONS = ["AnalysisFailed", "Aborted", "ProgressDeadlineExceeded",
                    "RollbackTargetNotFound", "RolledBack", "InvalidSpec"]
# (phase, condition type, condition status, reason): every combination finish_status() in
# reconcilers/src/rollout.cpp writes. Each needs a case.
REQUIRED_COMBINATIONS = [
    ("Healthy", "Available", "True", "MinimumReplicasAvailable"),
    ("Healthy", "Progressing", "False", "RolloutCompleted"),
    ("Healthy", "Degraded", "False", "AsExpected"),
    ("Progressing", "Available", "True", "MinimumReplicasAvailable"),
    ("Progressing", "Available", "False", "ReplicasNotReady"),
    ("Progressing", "Progressing", "True", "RolloutInProgress"),
    ("Progressing", "Progressing", "True", "Scaling"),
    ("Progressing", "Progressing", "True", "PodsFailing"),
    ("Progressing", "Degraded", "False", "AsExpected"),
    ("Paused", "Available", "True", "MinimumReplicasAvailable"),
    ("Paused", "Available", "False", "ReplicasNotReady"),
    ("Paused", "Progressing", "Unknown", "RolloutPaused"),
    ("Paused", "Progressing", "Unknown", "PausedAtStep"),
    ("Paused", "Progressing", "Unknown", "AnalysisInconclusive"),
    ("Paused", "Degraded", "False", "AsExpected"),
    ("Degraded", "Available", "True", "MinimumReplicasAvailable"),
    ("Degraded", "Available", "False", "ReplicasNotReady"),
] + [("Degraded", condition_type, status, reason)
     for reason in DEGRADED_REASONS
     for condition_type, status in (("Progressing", "False"), ("Degraded", "True"))]
# Situations that are not a condition reason but change the answer.
REQUIRED_SITUATIONS = ["no status", "observedGeneration behind", "no phase",
                       "unknown reason"]


def contract_values(contract_bin):
    """(phases, condition types, condition reasons) of the LLMDeployment contract, as
    llmops-api-contract prints them from api/include/llmops/api/llmdeployment.h."""
    result = subprocess.run([contract_bin], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"{contract_bin} exited {result.returncode}: {result.stderr.strip()}")
    contract = json.loads(result.stdout)
    degraded = set(contract["degradedReasons"])
    if degraded != set(DEGRADED_REASONS):
        raise RuntimeError(f"the contract's degraded reasons {sorted(degraded)} differ from "
                           f"DEGRADED_REASONS {sorted(DEGRADED_REASONS)}")
    return set(contract["phases"]), set(contract["conditionTypes"]), set(contract["conditionReasons"])


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
    """What a case shows: its (phase, type, status, reason) combinations, or the situation
    ("no status", ...) health.lua answers before reading any condition."""
    status = obj.get("status")
    if not isinstance(status, dict):
        return {"no status"}
    generation = obj.get("metadata", {}).get("generation")
    if generation is not None and status.get("observedGeneration", 0) < generation:
        return {"observedGeneration behind"}
    phase = status.get("phase")
    found = set() if phase is not None else {"no phase"}
    known = {combination[3] for combination in REQUIRED_COMBINATIONS}
    for condition in status.get("conditions", []):
        found.add((phase, condition.get("type"), condition.get("status"), condition.get("reason")))
        if condition.get("reason") not in known:
            found.add("unknown reason")
    return found


def drift(covered_by_operator_cases, contract_bin):
    """Failures where the contract and REQUIRED_COMBINATIONS disagree, or a reason of the
    contract shows in no operator-written case."""
    failures = []
    try:
        phases, types, reasons = contract_values(contract_bin)
    except (RuntimeError, OSError, ValueError, KeyError) as error:
        return [f"cannot read the contract: {error}"]
    print(f"the contract has phases {sorted(phases)}, condition types {sorted(types)}, "
          f"reasons {sorted(reasons)}")
    for what, in_code, column in (("phase", phases, 0), ("condition type", types, 1),
                                  ("reason", reasons, 3)):
        in_table = {combination[column] for combination in REQUIRED_COMBINATIONS}
        for name in sorted(in_code - in_table):
            failures.append(f"the contract has {what} {name!r}, which REQUIRED_COMBINATIONS "
                            f"lacks: add its combinations there and test cases for them")
        for name in sorted(in_table - in_code):
            failures.append(f"REQUIRED_COMBINATIONS lists {what} {name!r}, which the contract "
                            f"no longer has: drop it and its cases")
    shown = {c[3] for c in covered_by_operator_cases if isinstance(c, tuple)}
    for reason in sorted(reasons - shown):
        failures.append(f"no test case shows reason {reason!r}, which the contract has")
    return failures


def main():
    lua, health_dir, contract_bin = sys.argv[1], sys.argv[2], sys.argv[3]
    health_lua = os.path.join(health_dir, "health.lua")
    with open(os.path.join(health_dir, "health_test.yaml")) as f:
        tests = yaml.safe_load(f)["tests"]
    failures = []
    covered = set()
    covered_by_operator_cases = set()
    table = set(REQUIRED_COMBINATIONS)
    with tempfile.TemporaryDirectory(prefix="argocd-health.") as work:
        for test in tests:
            path = test["inputPath"]
            want = test["healthStatus"]
            with open(os.path.join(health_dir, path)) as f:
                obj = yaml.load(f, Loader=StringTimestampLoader)
            shown = situations(obj)
            covered |= shown
            if not path.startswith(FALLBACK_PREFIX):
                covered_by_operator_cases |= shown
                for odd in sorted(c for c in shown if isinstance(c, tuple) and c not in table):
                    failures.append(f"{path}: {odd} is not a combination the reconcilers write "
                                    f"(fix the case, or name it {FALLBACK_PREFIX}*.yaml)")
                if "unknown reason" in shown or "no phase" in shown:
                    failures.append(f"{path}: shows a status the reconcilers never write; "
                                    f"name it {FALLBACK_PREFIX}*.yaml")
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
    for needed in REQUIRED_COMBINATIONS:
        if needed not in covered_by_operator_cases:
            failures.append(f"no operator-written test case covers {needed}")
    for needed in REQUIRED_SITUATIONS:
        if needed not in covered:
            failures.append(f"no test case covers {needed}")
    failures += drift(covered_by_operator_cases, contract_bin)
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
