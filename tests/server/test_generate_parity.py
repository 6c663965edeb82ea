"""Greedy /v1/completions (driven by curl) returns what `llmops-runtime generate` prints.

generate prints the tokenized prompt, then the completion, then "\\n"; the API returns
the completion only. max_tokens 200 exceeds the context (128): generation ends at the
context or at EOS, the same way in both.
"""

import json
import re
import subprocess

from runtime_server import RuntimeServer, check, main

PROMPTS = ["The robot", "Whispers of"]
MAX_TOKENS = 200


def generate(env, prompt):
    """(completion text, generated token count) of the CLI's greedy generation."""
    result = subprocess.run(
        [env.runtime, "generate", *env.test_model_args(), "--prompt", prompt,
         "--max-tokens", str(MAX_TOKENS), "--temperature", "0"],
        check=True, capture_output=True)
    stdout = result.stdout.decode()
    check(stdout.endswith("\n"), f"generate output does not end with a newline: {stdout!r}")
    check(stdout.startswith(prompt), f"generate output does not start with the prompt: {stdout!r}")
    tokens = re.search(r"generated (\d+) tokens", result.stderr.decode())
    check(tokens, f"no 'generated N tokens' on generate's stderr: {result.stderr!r}")
    return stdout[len(prompt):-1], int(tokens.group(1))


def curl_completion(port, prompt):
    body = json.dumps({"model": "aidreams260K", "prompt": prompt, "max_tokens": MAX_TOKENS,
                       "temperature": 0})
    result = subprocess.run(
        ["curl", "-sS", "--fail-with-body", "-H", "Content-Type: application/json",
         "--data-binary", body, f"http://127.0.0.1:{port}/v1/completions"],
        capture_output=True)
    check(result.returncode == 0,
          f"curl exited {result.returncode}: {result.stdout!r} {result.stderr!r}")
    return json.loads(result.stdout)


def test(env):
    with RuntimeServer(env, env.test_model_args()) as server:
        for prompt in PROMPTS:
            expected, expected_tokens = generate(env, prompt)
            response = curl_completion(server.port, prompt)
            check(response["object"] == "text_completion", f"object: {response!r}")
            choice = response["choices"][0]
            print(f"{prompt!r}: {response['usage']} finish={choice['finish_reason']}")
            check(choice["text"] == expected,
                  f"prompt {prompt!r}:\n API:      {choice['text']!r}\n generate: {expected!r}")
            check(response["usage"]["completion_tokens"] == expected_tokens,
                  f"prompt {prompt!r}: usage {response['usage']} vs generate's "
                  f"{expected_tokens} tokens")
            check(choice["finish_reason"] in ("stop", "length"),
                  f"finish_reason {choice['finish_reason']!r}")


if __name__ == "__main__":
    main(test)
