"""/healthz and /readyz answer 200 while serving, and /metrics (Prometheus text) carries
every metric the issue names, labelled with the model name, after a whole and a streamed
completion and an error: requests_total by code, the three latency histograms, the token
and step counters, the scheduler gauges, and the standard process metrics. The log has
one structured line per request, without the prompt text.
"""

import time

from runtime_server import RuntimeServer, check, main, metric, wait_for

MODEL = "aidreams-metrics"
PROMPT = "Quokka umbrellas"  # must never appear in the log
COUNTERS = ["llmops_runtime_prompt_tokens_total", "llmops_runtime_generated_tokens_total",
            "llmops_runtime_decode_steps_total"]
GAUGES = ["llmops_runtime_queue_depth", "llmops_runtime_running_sequences",
          "llmops_runtime_kv_cache_usage_ratio"]
# The same gauges under vLLM's names (label model_name), which the Gateway API Inference
# Extension's endpoint picker, AIBrix and KEDA recipes read.
VLLM_GAUGES = ["vllm:num_requests_waiting", "vllm:num_requests_running",
               "vllm:kv_cache_usage_perc"]
MAX_BATCH, CONTEXT = 3, 96
HISTOGRAMS = ["llmops_runtime_request_duration_seconds",
              "llmops_runtime_time_to_first_token_seconds",
              "llmops_runtime_inter_token_latency_seconds"]


def check_type(text, name, kind):
    check(f"# TYPE {name} {kind}" in text, f"no '# TYPE {name} {kind}' in /metrics")


def test(env):
    with RuntimeServer(env, [*env.test_model_args(), "--model-name", MODEL,
                             "--max-batch", str(MAX_BATCH), "--context", str(CONTEXT)]) as server:
        for path, expected in [("/healthz", 200), ("/readyz", 200)]:
            status, _, text = server.request("GET", path)
            check(status == expected, f"{path} -> {status} {text!r}")

        body = {"prompt": PROMPT, "max_tokens": 8, "temperature": 0}
        status, _, whole = server.post_json("/v1/completions", body)
        check(status == 200, f"completion: {status} {whole}")
        status, events, done = server.stream("/v1/completions", body)
        check(status == 200 and done, f"stream: {status} {events}")
        status, _, _ = server.post_json("/v1/completions", {"prompt": "x", "temperature": 9})
        check(status == 400, f"invalid temperature: {status}")

        # A request is counted just after its last byte: wait until both are.
        def both_counted():
            text = server.metrics()
            return text if metric(text, "llmops_runtime_requests_total", code="200") >= 2 else None

        text = wait_for(both_counted, 5, "the two completions are not counted in requests_total")
        print(text)
        check_type(text, "llmops_runtime_requests_total", "counter")
        check(metric(text, "llmops_runtime_requests_total", model=MODEL, code="200") == 2,
              "requests_total{code=200} is not 2")
        check(metric(text, "llmops_runtime_requests_total", model=MODEL, code="400") == 1,
              "requests_total{code=400} is not 1")
        for name in HISTOGRAMS:
            check_type(text, name, "histogram")
            count = metric(text, name + "_count", model=MODEL)
            check(count > 0, f"{name}_count is {count}")
            check(metric(text, name + "_sum", model=MODEL) >= 0, f"{name}_sum")
            check(metric(text, name + "_bucket", model=MODEL, le="+Inf") == count,
                  f"{name}: the +Inf bucket differs from the count")
        check(metric(text, "llmops_runtime_time_to_first_token_seconds_count") == 2,
              "time_to_first_token_seconds_count is not 2")
        for name in COUNTERS:
            check_type(text, name, "counter")
            check(metric(text, name, model=MODEL) > 0, f"{name} is 0")
        usage = whole["usage"]
        check(metric(text, "llmops_runtime_generated_tokens_total", model=MODEL)
              == 2 * usage["completion_tokens"], "generated_tokens_total != the two requests'")
        check(metric(text, "llmops_runtime_prompt_tokens_total", model=MODEL)
              == 2 * usage["prompt_tokens"], "prompt_tokens_total != the two requests'")
        for name in GAUGES:
            check_type(text, name, "gauge")
            check(metric(text, name, model=MODEL) == 0, f"{name} is not 0 when idle")
        for name in VLLM_GAUGES:
            check_type(text, name, "gauge")
            check(metric(text, name, model_name=MODEL) == 0, f"{name} is not 0 when idle")
        # One KV "block" is one cache position: max batch x context of them.
        check_type(text, "vllm:cache_config_info", "gauge")
        check(metric(text, "vllm:cache_config_info", model_name=MODEL, block_size="1",
                     num_gpu_blocks=str(MAX_BATCH * CONTEXT),
                     max_num_seqs=str(MAX_BATCH)) == 1,
              "vllm:cache_config_info does not carry block_size 1, num_gpu_blocks = "
              "max batch x context, max_num_seqs")

        # The placement (default --numa bind): threads, cores by node, bound weight bytes.
        for name in ("llmops_runtime_placement_threads", "llmops_runtime_placement_cores",
                     "llmops_runtime_placement_bound_bytes"):
            check_type(text, name, "gauge")
            check(metric(text, name, model=MODEL) > 0, f"{name} is not > 0")
        check(metric(text, "llmops_runtime_placement_cores", model=MODEL) ==
              metric(text, "llmops_runtime_placement_threads", model=MODEL),
              "one compute thread per core expected")

        check_type(text, "process_cpu_seconds_total", "counter")
        check(metric(text, "process_cpu_seconds_total") > 0, "process_cpu_seconds_total is 0")
        check_type(text, "process_resident_memory_bytes", "gauge")
        check(metric(text, "process_resident_memory_bytes") > 1 << 20,
              "process_resident_memory_bytes below 1 MiB")
        check_type(text, "process_start_time_seconds", "gauge")
        start = metric(text, "process_start_time_seconds")
        check(abs(start - time.time()) < 600,
              f"process_start_time_seconds {start} is not about now ({time.time()})")

        log = server.log()
        lines = [line for line in log.splitlines() if "request id=" in line]
        check(len(lines) == 2, f"expected 2 request log lines, got:\n{log}")
        for line in lines:
            for field in [f"model={MODEL}", f"prompt_tokens={usage['prompt_tokens']}",
                          f"completion_tokens={usage['completion_tokens']}", "ttft_s=",
                          "duration_s=", "outcome=ok"]:
                check(field in line, f"request log line without {field!r}: {line}")
        check(PROMPT not in log and "Quokka" not in log, f"the prompt text is logged:\n{log}")


if __name__ == "__main__":
    main(test)
