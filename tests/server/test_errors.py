"""Every error case of the API, each answered in OpenAI's shape
{"error":{"message","type","param","code"}} with the status the issue names: invalid JSON
or fields 400 (naming the param), a prompt beyond the context 400 (naming the limit),
unknown model 404, missing or wrong API key 401, unknown path 404, wrong method 405.
"""

import json

from runtime_server import TEST_CONTEXT, RuntimeServer, check, check_error_shape, main

API_KEY = "sk-errors-test"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
LONG_TEXT = "the robot walked to the sea and " * 40  # far beyond 128 tokens

# (name, path, body, status, param, code): JSON bodies with one invalid field each.
FIELD_CASES = [
    ("temperature 3", "/v1/completions", {"prompt": "Hi", "temperature": 3}, 400,
     "temperature", None),
    ("temperature string", "/v1/completions", {"prompt": "Hi", "temperature": "hot"}, 400,
     "temperature", None),
    ("top_p 1.5", "/v1/completions", {"prompt": "Hi", "top_p": 1.5}, 400, "top_p", None),
    ("max_tokens -1", "/v1/completions", {"prompt": "Hi", "max_tokens": -1}, 400,
     "max_tokens", None),
    ("max_tokens 1.5", "/v1/completions", {"prompt": "Hi", "max_tokens": 1.5}, 400,
     "max_tokens", None),
    ("n 2", "/v1/completions", {"prompt": "Hi", "n": 2}, 400, "n", None),
    ("n 2 chat", "/v1/chat/completions",
     {"messages": [{"role": "user", "content": "Hi"}], "n": 2}, 400, "n", None),
    ("messages missing", "/v1/chat/completions", {"max_tokens": 4}, 400, "messages", None),
    ("messages empty", "/v1/chat/completions", {"messages": []}, 400, "messages", None),
    ("prompt missing", "/v1/completions", {"max_tokens": 4}, 400, "prompt", None),
    ("stop of 5 strings", "/v1/completions",
     {"prompt": "Hi", "stop": ["a", "b", "c", "d", "e"]}, 400, "stop", None),
    ("stream not a boolean", "/v1/completions", {"prompt": "Hi", "stream": "yes"}, 400,
     "stream", None),
    ("prompt beyond the context", "/v1/completions", {"prompt": LONG_TEXT}, 400, "prompt",
     "context_length_exceeded"),
    ("chat beyond the context", "/v1/chat/completions",
     {"messages": [{"role": "user", "content": LONG_TEXT}]}, 400, "messages",
     "context_length_exceeded"),
    ("unknown model", "/v1/completions", {"model": "gpt-17", "prompt": "Hi"}, 404, "model",
     "model_not_found"),
    ("unknown model chat", "/v1/chat/completions",
     {"model": "gpt-17", "messages": [{"role": "user", "content": "Hi"}]}, 404, "model",
     "model_not_found"),
]


def expect_error(server, context, method, path, body, status, headers=AUTH):
    got, response_headers, text = server.request(method, path, body, headers)
    check(got == status, f"{context}: expected {status}, got {got}: {text}")
    check(response_headers.get("content-type", "").startswith("application/json"),
          f"{context}: Content-Type {response_headers.get('content-type')!r}")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        check(False, f"{context}: {status} body is not JSON: {text!r}")
    return check_error_shape(parsed, status, context), response_headers


def test(env):
    with RuntimeServer(env, [*env.test_model_args(), "--model-name", "aidreams",
                             "--api-key", API_KEY]) as server:
        for body in ["{not json", "", '{"prompt": "Hi",}']:
            error, _ = expect_error(server, f"invalid JSON {body!r}", "POST", "/v1/completions",
                                    body, 400)
            check(error["type"] == "invalid_request_error", f"invalid JSON: {error}")
        expect_error(server, "body not an object", "POST", "/v1/chat/completions", "[1, 2]", 400)

        for name, path, body, status, param, code in FIELD_CASES:
            error, _ = expect_error(server, name, "POST", path, body, status)
            print(f"{name}: {status} {error}")
            check(error["param"] == param, f"{name}: param {error['param']!r}, expected {param!r}")
            check(error["code"] == code, f"{name}: code {error['code']!r}, expected {code!r}")
            if code == "context_length_exceeded":
                check(str(TEST_CONTEXT) in error["message"],
                      f"{name}: the message does not name the limit {TEST_CONTEXT}: {error}")

        # Authentication: the key is required on every /v1 endpoint.
        ok = {"prompt": "Hi", "max_tokens": 2}
        for context, headers in [
                ("missing key", {}),
                ("wrong key", {"Authorization": f"Bearer {API_KEY}x"}),
                ("wrong key of the same length", {"Authorization": "Bearer " + "x" * len(API_KEY)}),
                ("key without Bearer", {"Authorization": API_KEY})]:
            for method, path, body in [("POST", "/v1/completions", ok),
                                       ("GET", "/v1/models", None)]:
                error, response_headers = expect_error(server, f"{context} {path}", method, path,
                                                       body, 401, headers)
                check(API_KEY not in error["message"], f"{context}: the key is echoed: {error}")
        status, _, text = server.request("POST", "/v1/completions", ok, AUTH)
        check(status == 200, f"right key: {status} {text}")
        status, _, text = server.request("GET", "/v1/models", None, AUTH)
        check(status == 200, f"right key /v1/models: {status} {text}")

        expect_error(server, "unknown /v1 path", "POST", "/v1/embeddings", {"input": "x"}, 404)
        expect_error(server, "unknown path", "GET", "/nope", None, 404)
        for path in ["/v1/completions", "/v1/chat/completions"]:
            _, response_headers = expect_error(server, f"GET {path}", "GET", path, None, 405)
            check("POST" in response_headers.get("allow", ""),
                  f"GET {path}: Allow {response_headers.get('allow')!r}")

        # The server is still healthy after all that, and never logged the key.
        status, _, _ = server.request("GET", "/readyz")
        check(status == 200, f"/readyz {status} after the error cases")
        check(API_KEY not in server.log(), "the API key appears in the server log")


if __name__ == "__main__":
    main(test)
