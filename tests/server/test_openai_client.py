"""The official openai npm client (tests/server/openai-client, version pinned by its lock
file) against a server with --api-key: models.list(), a non-streamed and a streamed chat
completion that agree at temperature 0, and a wrong key refused (chat_check.mjs).

Extra argument: the node binary. The packages come from
`npm ci --prefix tests/server/openai-client` (scripts/test.sh runs it).
"""

import subprocess
from pathlib import Path

from runtime_server import RuntimeServer, TestFailure, check, main

CLIENT_DIR = Path(__file__).resolve().parent / "openai-client"
API_KEY = "sk-llmops-test-key"


def test(env):
    check(env.extra and not env.extra[0].endswith("NOTFOUND"),
          "no node binary: CMake did not find node (install it and re-run cmake)")
    node = env.extra[0]
    if not (CLIENT_DIR / "node_modules" / "openai").is_dir():
        raise TestFailure(f"{CLIENT_DIR}/node_modules/openai is missing: run "
                          f"`npm ci --prefix tests/server/openai-client` first")
    with RuntimeServer(env, [*env.test_model_args(), "--model-name", "aidreams",
                             "--api-key", API_KEY]) as server:
        result = subprocess.run([node, str(CLIENT_DIR / "chat_check.mjs"), str(server.port),
                                 API_KEY, "aidreams"], cwd=CLIENT_DIR, timeout=90)
        check(result.returncode == 0, f"chat_check.mjs exited {result.returncode}")


if __name__ == "__main__":
    main(test)
