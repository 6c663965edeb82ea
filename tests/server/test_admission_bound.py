"""The admission bound is exact: with --max-batch 1 --max-queue 1, while one request runs
and one waits, a third gets 429; and /metrics counts a request being prefilled as running.
The first request has a long prompt (402 tokens): its first step prefills 64 of them and
lasts long enough for the next two requests to arrive while it runs. A stream's headers
go out when it starts generating, so the queued one is seen through /metrics.
"""

import json

from runtime_server import RuntimeServer, check, check_error_shape, main, metric, wait_for

LONG_PROMPT = "y" * 400  # byte vocab: 400 tokens plus BOS and the leading space


def test(env):
    model = env.make_model("long")
    with RuntimeServer(env, ["--model", str(model), "--max-batch", "1",
                             "--max-queue", "1"]) as server:
        opened = []
        try:
            connection, response = server.open_stream(
                "/v1/completions", {"prompt": LONG_PROMPT, "max_tokens": 20, "temperature": 0})
            opened.append(connection)
            check(response.status == 200, f"the running request: {response.status}")
            # The queued stream gets its headers only when it starts: send it, do not wait.
            queued = server.connect(120)
            queued.request("POST", "/v1/completions",
                           body=json.dumps({"prompt": "Hello", "max_tokens": 20,
                                            "temperature": 0, "stream": True}),
                           headers={"Content-Type": "application/json"})
            opened.append(queued)
            wait_for(lambda: metric(server.metrics(), "llmops_runtime_queue_depth") == 1, 30,
                     "the second request was not queued")

            status, headers, body = server.post_json(
                "/v1/completions", {"prompt": "Hello", "max_tokens": 20, "temperature": 0})
            check(status == 429,
                  f"a third request with --max-batch 1 --max-queue 1 got {status}, not 429: "
                  f"the scheduler admitted beyond its bound")
            check_error_shape(body, status, "429")
            check(headers.get("retry-after"), f"429 without Retry-After: {headers}")

            text = server.metrics()
            occupied = (metric(text, "llmops_runtime_queue_depth")
                        + metric(text, "llmops_runtime_running_sequences"))
            check(occupied == 2,
                  f"queue_depth + running_sequences = {occupied} with one request running "
                  f"(prefilling) and one queued")
            # vLLM's names carry the same values (read by endpoint pickers and KEDA).
            waiting, running = (metric(text, "vllm:num_requests_waiting"),
                                metric(text, "vllm:num_requests_running"))
            check((waiting, running) == (metric(text, "llmops_runtime_queue_depth"),
                                         metric(text, "llmops_runtime_running_sequences")),
                  f"vllm:num_requests_waiting/running = {waiting}/{running} differ from "
                  f"llmops_runtime_queue_depth/running_sequences")
            usage = metric(text, "vllm:kv_cache_usage_perc")
            check(0 < usage <= 1 and usage == metric(text, "llmops_runtime_kv_cache_usage_ratio"),
                  f"vllm:kv_cache_usage_perc {usage} with a request running")
        finally:
            for connection in opened:
                connection.close()


if __name__ == "__main__":
    main(test)
