"""16 concurrent streamed greedy /v1/completions each equal the same request run alone,
and the metrics show that they were batched: over the concurrent phase, generated tokens
per decode step is well above 1 (it measures batching, not speed).
"""

import threading

from runtime_server import RuntimeServer, check, main, metric, stream_text, wait_for

STREAMS = 16
MAX_TOKENS = 40
PROMPTS = [f"Story {i}: once upon a time, {word}" for i, word in enumerate(
    ["a robot", "a cat", "the sea", "a king", "two birds", "the moon", "a dragon", "my friend",
     "a tiny bee", "the river", "a lost key", "the old man", "a red ball", "the forest",
     "a girl", "the storm"])]


def request(prompt):
    return {"prompt": prompt, "max_tokens": MAX_TOKENS, "temperature": 0,
            "stream_options": {"include_usage": True}}


def run_stream(server, prompt):
    """(text, finish_reason, completion_tokens) of one streamed completion."""
    status, events, done = server.stream("/v1/completions", request(prompt))
    check(status == 200, f"{prompt!r}: status {status}: {events}")
    check(done, f"{prompt!r}: no [DONE]")
    usage = [e["usage"] for e in events if e.get("usage")]
    check(len(usage) == 1, f"{prompt!r}: expected one usage chunk, got {usage}")
    text, finish = stream_text(events)
    return text, finish, usage[0]["completion_tokens"]


def metrics_counting(server, generated_tokens):
    """/metrics once generated_tokens_total reaches generated_tokens: a request is counted
    when it finishes, just after its last chunk, so the client may see [DONE] first."""
    def counted():
        text = server.metrics()
        total = metric(text, "llmops_runtime_generated_tokens_total")
        check(total <= generated_tokens,
              f"generated_tokens_total {total} exceeds the {generated_tokens} tokens of the "
              f"requests so far")
        return text if total == generated_tokens else None
    return wait_for(counted, 5, f"generated_tokens_total never reached {generated_tokens}")


def test(env):
    model = env.make_model()
    with RuntimeServer(env, ["--model", str(model), "--max-batch", str(STREAMS)]) as server:
        alone = {prompt: run_stream(server, prompt) for prompt in PROMPTS}
        check(len({text for text, _, _ in alone.values()}) > 1,
              "every prompt gave the same text: the test would not tell streams apart")

        alone_tokens = sum(tokens for _, _, tokens in alone.values())
        before = metrics_counting(server, alone_tokens)
        results, errors = {}, []
        barrier = threading.Barrier(STREAMS)

        def worker(prompt):
            try:
                barrier.wait(timeout=30)
                results[prompt] = run_stream(server, prompt)
            except Exception as e:  # reported below, with the prompt
                errors.append(f"{prompt!r}: {e!r}")

        threads = [threading.Thread(target=worker, args=(p,)) for p in PROMPTS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=100)
        check(not errors, "concurrent streams failed:\n" + "\n".join(errors))
        check(len(results) == STREAMS, f"only {len(results)} of {STREAMS} streams finished")
        for prompt in PROMPTS:
            check(results[prompt] == alone[prompt],
                  f"{prompt!r} differs among {STREAMS} streams:\n alone:   {alone[prompt]}\n"
                  f" batched: {results[prompt]}")

        expected_tokens = sum(tokens for _, _, tokens in results.values())
        after = metrics_counting(server, alone_tokens + expected_tokens)
        generated = (metric(after, "llmops_runtime_generated_tokens_total")
                     - metric(before, "llmops_runtime_generated_tokens_total"))
        steps = (metric(after, "llmops_runtime_decode_steps_total")
                 - metric(before, "llmops_runtime_decode_steps_total"))
        print(f"concurrent phase: {generated:.0f} tokens in {steps:.0f} decode steps "
              f"(ratio {generated / max(steps, 1):.2f})")
        check(generated == expected_tokens,
              f"generated_tokens_total grew by {generated}, the streams' usage says "
              f"{expected_tokens}")
        check(steps > 0 and generated / steps > 2,
              f"{generated} tokens in {steps} decode steps: the streams were not batched")


if __name__ == "__main__":
    main(test)
