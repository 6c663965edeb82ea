"""When the drain deadline cuts work short (--max-batch 1 --lame-duck-seconds 1
--drain-seconds 2, a stream too long to finish in time, two requests queued behind it):
the queued requests, which never started, are refused with 503 and x-llmops-draining: 1
as soon as the lame-duck window ends (before the running stream is cut), so a router
retries them elsewhere; the stream cut at the deadline ends with a chunk carrying a
finish_reason, an SSE error event and [DONE], so the client can tell it was cut off.
"""

import signal
import threading
import time

from runtime_server import RuntimeServer, check, check_error_shape, main, metric, sse_events, wait_for

LONG = {"prompt": "The story that never ends", "max_tokens": 100000, "temperature": 0}


def test(env):
    model = env.make_model("long")
    server = RuntimeServer(env, ["--model", str(model), "--threads", "1", "--max-batch", "1",
                                 "--lame-duck-seconds", "1", "--drain-seconds", "2"])
    with server:
        stream = {"events": [], "done": False, "error": None, "ended_at": None}
        started = threading.Event()

        def read_stream():
            try:
                connection, response = server.open_stream("/v1/completions", LONG)
                check(response.status == 200, f"stream status {response.status}")
                for event in sse_events(response):
                    started.set()
                    if event == "[DONE]":
                        stream["done"] = True
                    else:
                        stream["events"].append(event)
                connection.close()
            except Exception as e:
                stream["error"] = repr(e)
            finally:
                stream["ended_at"] = time.monotonic()
                started.set()

        reader = threading.Thread(target=read_stream)
        reader.start()
        check(started.wait(30), "the stream sent nothing in 30 s")

        queued = {}

        def send(name, body):
            try:
                status, headers, reply = server.post_json("/v1/completions", body, timeout=60)
            except Exception as e:  # e.g. a 200 event stream where a 503 was due
                status, headers, reply = None, {}, repr(e)
            queued[name] = (status, headers, reply, time.monotonic())

        senders = [threading.Thread(target=send, args=("whole", {"prompt": "a", "max_tokens": 4})),
                   threading.Thread(target=send, args=("stream", {"prompt": "b", "max_tokens": 4,
                                                                  "stream": True}))]
        for t in senders:
            t.start()
        wait_for(lambda: metric(server.metrics(), "llmops_runtime_queue_depth") == 2, 30,
                 "the two requests did not queue behind the stream")

        server.process.send_signal(signal.SIGTERM)
        for t in senders:
            t.join(30)
        reader.join(30)
        check(not reader.is_alive(), "the stream did not end after the drain deadline")
        for name in ("whole", "stream"):
            status, headers, reply, answered_at = queued[name]
            print(f"queued {name}: {status} {headers.get('x-llmops-draining')}")
            check(status == 503, f"queued {name} request: {status} {reply}")
            check(headers.get("x-llmops-draining") == "1",
                  f"queued {name} request refused without x-llmops-draining: 1: {headers}")
            check_error_shape(reply, status, f"queued {name} request")
            check(answered_at < stream["ended_at"],
                  f"queued {name} request waited for the drain deadline")

        check(stream["error"] is None, f"the stream failed: {stream['error']}")
        events = stream["events"]
        finishes = [c.get("finish_reason") for e in events for c in e.get("choices", [])
                    if c.get("finish_reason")]
        errors = [e for e in events if "error" in e]
        print(f"cut stream: {len(events)} events, finish_reasons={finishes}, errors={errors}")
        check(finishes, f"the cut stream has no finish_reason: {events[-3:]}")
        check(errors and errors[-1]["error"].get("type") == "server_error",
              f"the cut stream has no error event: {events[-3:]}")
        check(stream["done"], "the cut stream ended without [DONE]")

        code = server.wait_exit(15)
        check(code == 0, f"exit code {code} after SIGTERM:\n{server.log()}")


if __name__ == "__main__":
    main(test)
