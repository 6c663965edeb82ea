"""Admission under overload: with --max-batch 1 --max-queue 1 and a slow model, 6
simultaneous requests of seconds each get at least one 429 (OpenAI error shape,
Retry-After), every other request completes with 200, and at most 2 are admitted.
"""

import json
import threading

from runtime_server import RuntimeServer, check, check_error_shape, main

REQUESTS = 6
MAX_TOKENS = 200  # seconds each on the "long" model: the queue stays full while all arrive


def test(env):
    model = env.make_model("long")
    with RuntimeServer(env, ["--model", str(model), "--max-batch", "1",
                             "--max-queue", "1"]) as server:
        results, errors = [], []
        barrier = threading.Barrier(REQUESTS)

        def worker(i):
            try:
                connection = server.connect(timeout=110)
                barrier.wait(timeout=30)
                connection.request(
                    "POST", "/v1/completions",
                    body=json.dumps({"prompt": f"Request {i} says", "max_tokens": MAX_TOKENS,
                                     "temperature": 0}),
                    headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                body = json.loads(response.read())
                results.append((response.status, response.getheader("Retry-After"), body))
                connection.close()
            except Exception as e:
                errors.append(f"request {i}: {e!r}")

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(REQUESTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=110)
        check(not errors, "requests failed:\n" + "\n".join(errors))
        statuses = sorted(status for status, _, _ in results)
        print(f"statuses: {statuses}")
        check(len(results) == REQUESTS, f"only {len(results)} of {REQUESTS} answered")
        check(429 in statuses, f"no 429 among {statuses}")
        check(200 in statuses, f"no request served among {statuses}")
        check(set(statuses) <= {200, 429}, f"statuses other than 200 and 429: {statuses}")
        check(statuses.count(200) <= 2,
              f"{statuses.count(200)} requests admitted beyond max-batch 1 + max-queue 1")
        for status, retry_after, body in results:
            if status == 429:
                error = check_error_shape(body, status, "429")
                check(retry_after is not None and retry_after.isdigit() and int(retry_after) > 0,
                      f"429 without a positive Retry-After: {retry_after!r}")
                check(error["type"] == "rate_limit_error", f"429 type: {error}")
            else:
                check(body["usage"]["completion_tokens"] > 0, f"200 without tokens: {body}")


if __name__ == "__main__":
    main(test)
