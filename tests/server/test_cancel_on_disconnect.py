"""A client that disconnects mid-stream cancels its sequence and frees its KV cache: after
closing the socket, /metrics shows llmops_runtime_kv_cache_usage_ratio back to 0 and no
running sequence within a bounded wait (while the stream runs, the ratio is above 0).
"""

from runtime_server import RuntimeServer, check, main, metric, sse_events, wait_for

MAX_TOKENS = 400


def test(env):
    model = env.make_model("long")
    with RuntimeServer(env, ["--model", str(model)]) as server:
        connection, response = server.open_stream(
            "/v1/completions",
            {"prompt": "A very long story begins", "max_tokens": MAX_TOKENS, "temperature": 0})
        check(response.status == 200, f"stream status {response.status}")
        events = sse_events(response)
        first = [next(events) for _ in range(3)]
        check(all(e != "[DONE]" for e in first), f"the stream ended at once: {first}")

        running = server.metrics()
        ratio = metric(running, "llmops_runtime_kv_cache_usage_ratio")
        sequences = metric(running, "llmops_runtime_running_sequences")
        print(f"while streaming: kv_cache_usage_ratio={ratio} running_sequences={sequences}")
        check(ratio > 0, f"kv_cache_usage_ratio {ratio} while a stream runs")
        check(sequences == 1, f"running_sequences {sequences} while one stream runs")

        response.close()  # hang up without reading further
        connection.close()

        def freed():
            text = server.metrics()
            return (metric(text, "llmops_runtime_kv_cache_usage_ratio") == 0
                    and metric(text, "llmops_runtime_running_sequences") == 0
                    and text)

        text = wait_for(freed, 10, "KV cache or running sequence not freed after the disconnect")
        # The cancelled request is counted (499, nginx's "client closed request") and
        # generated fewer tokens than asked.
        generated = metric(text, "llmops_runtime_generated_tokens_total")
        print(f"after the disconnect: generated_tokens_total={generated}")
        check(generated < MAX_TOKENS, f"{generated} tokens generated: the stream was not cut")
        check(metric(text, "llmops_runtime_requests_total", code="499") == 1,
              "no request counted with code 499 after the disconnect")

        # The server still serves.
        status, _, _ = server.request("POST", "/v1/completions",
                                      {"prompt": "Hello", "max_tokens": 4, "temperature": 0})
        check(status == 200, f"a request after the disconnect: {status}")


if __name__ == "__main__":
    main(test)
