"""--inject-error-rate: at 1 every completion (whole, streamed, chat) is a 500 in the OpenAI
error shape while health, readiness and /v1/models stay up; at 0.5, 40 requests see both
200s and 500s (both outcomes missing has probability 2 x 2^-40).
"""

from runtime_server import RuntimeServer, check, check_error_shape, main

COMPLETION = {"prompt": "Hello", "max_tokens": 2, "temperature": 0}
CHAT = {"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 2, "temperature": 0}


def test(env):
    with RuntimeServer(env, [*env.test_model_args(), "--inject-error-rate", "1"],
                       name="rate1") as server:
        for path, body in [("/v1/completions", COMPLETION), ("/v1/chat/completions", CHAT),
                           ("/v1/completions", {**COMPLETION, "stream": True}),
                           ("/v1/chat/completions", {**CHAT, "stream": True})] * 3:
            status, headers, parsed = server.post_json(path, body)
            check(status == 500, f"rate 1, {path} stream={body.get('stream')}: {status} {parsed}")
            error = check_error_shape(parsed, status, f"rate 1 {path}")
            check(error["type"] == "server_error", f"injected error type: {error}")
        for path in ["/healthz", "/readyz", "/v1/models"]:
            status, _, text = server.request("GET", path)
            check(status == 200, f"rate 1: {path} -> {status} {text}")

    with RuntimeServer(env, [*env.test_model_args(), "--inject-error-rate", "0.5"],
                       name="rate05") as server:
        statuses = []
        for _ in range(40):
            status, _, parsed = server.post_json("/v1/completions", COMPLETION)
            statuses.append(status)
            if status == 500:
                check_error_shape(parsed, status, "rate 0.5")
            else:
                check(status == 200, f"rate 0.5: {status} {parsed}")
                check(parsed["choices"][0]["text"] is not None, f"rate 0.5: {parsed}")
        print(f"rate 0.5: {statuses.count(200)} x 200, {statuses.count(500)} x 500")
        check(200 in statuses and 500 in statuses,
              f"rate 0.5 over 40 requests gave only {set(statuses)}")


if __name__ == "__main__":
    main(test)
