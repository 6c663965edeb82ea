"""The request fields that steer generation are honoured: max_tokens (exactly that many
tokens, or up to the context when larger), stop (excluded from the text, whole and
streamed alike, finish_reason "stop"), seed (same seed, same sample at temperature 1)
and top_p 0 (only the top token: greedy).
"""

from runtime_server import RuntimeServer, check, check_error_shape, main, stream_text


def complete(server, **fields):
    status, _, body = server.post_json("/v1/completions", {"prompt": "The robot", **fields})
    check(status == 200, f"{fields}: {status} {body}")
    choice = body["choices"][0]
    return choice["text"], choice["finish_reason"], body["usage"]


def test(env):
    with RuntimeServer(env, env.test_model_args()) as server:
        greedy, finish, usage = complete(server, max_tokens=20, temperature=0)
        check(finish == "length" and usage["completion_tokens"] == 20,
              f"max_tokens 20: finish {finish}, usage {usage}")

        # stop: a word in the middle of the greedy text cuts it there.
        words = greedy.split()
        check(len(words) > 3, f"greedy text too short for a stop word: {greedy!r}")
        stop = words[2]
        expected = greedy[:greedy.index(stop)]
        text, finish, _ = complete(server, max_tokens=20, temperature=0, stop=[stop, "zzzz"])
        check((text, finish) == (expected, "stop"),
              f"stop {stop!r}: {text!r} {finish}, expected {expected!r} stop")
        status, events, done = server.stream("/v1/completions", {
            "prompt": "The robot", "max_tokens": 20, "temperature": 0, "stop": stop})
        check(status == 200 and done, f"streamed stop: {status} {events}")
        check(stream_text(events) == (expected, "stop"),
              f"streamed stop {stop!r}: {stream_text(events)}, expected {expected!r}")

        # seed: reproducible sampling; different seeds explore different continuations.
        sampled = {seed: complete(server, max_tokens=20, temperature=1, seed=seed)[0]
                   for seed in range(5)}
        check(complete(server, max_tokens=20, temperature=1, seed=3)[0] == sampled[3],
              "seed 3 twice gave different texts")
        check(len(set(sampled.values())) > 1, f"5 seeds gave one text: {sampled}")

        text, _, _ = complete(server, max_tokens=20, temperature=1, top_p=0, seed=7)
        check(text == greedy, f"top_p 0: {text!r}, greedy: {greedy!r}")

        # max_tokens beyond the context: generation ends at the context (128 tokens).
        text, finish, usage = complete(server, max_tokens=1000, temperature=0)
        check(finish in ("length", "stop") and usage["total_tokens"] <= 129,
              f"max_tokens 1000: finish {finish}, usage {usage}")
        # The largest max_tokens the API accepts must not be a server error (either served
        # up to the context, or refused with 400 naming max_tokens).
        for max_tokens in [2**31 - 1, 2**31 - 4]:
            status, _, body = server.post_json(
                "/v1/completions", {"prompt": "The robot", "max_tokens": max_tokens,
                                    "temperature": 0})
            if status == 400:
                check(check_error_shape(body, 400, "huge max_tokens")["param"] == "max_tokens",
                      f"max_tokens {max_tokens}: 400 not naming max_tokens: {body}")
            else:
                check(status == 200, f"max_tokens {max_tokens}: {status} {body}")


if __name__ == "__main__":
    main(test)
