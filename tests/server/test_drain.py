"""Drain on SIGTERM without dropping anything (--lame-duck-seconds 2 --drain-seconds 60):
/readyz turns 503 at once; a request in the lame-duck window succeeds; after it a new
request gets 503 with x-llmops-draining: 1; a stream started before SIGTERM completes
with a finish_reason and [DONE]; the process exits 0.
"""

import signal
import threading
import time

from runtime_server import (RuntimeServer, check, check_error_shape, main, sse_events,
                            stream_text, wait_for)

LAME_DUCK = 2
DRAIN = 60  # a bound, not a wait: generous so that a loaded machine still finishes
MAX_TOKENS = 300  # seconds of decoding on the "long" model, one thread
SHORT = {"prompt": "Hello", "max_tokens": 4, "temperature": 0}


def test(env):
    model = env.make_model("long")
    server = RuntimeServer(env, ["--model", str(model), "--threads", "1",
                                 "--lame-duck-seconds", str(LAME_DUCK),
                                 "--drain-seconds", str(DRAIN)])
    with server:
        stream = {"events": [], "done": False, "error": None, "ended_at": None}
        started = threading.Event()

        def read_stream():
            try:
                connection, response = server.open_stream(
                    "/v1/completions",
                    {"prompt": "The long story of the drain", "max_tokens": MAX_TOKENS,
                     "temperature": 0})
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
        check(stream["ended_at"] is None, f"the stream ended before SIGTERM: {stream}")

        server.process.send_signal(signal.SIGTERM)
        sigterm_at = time.monotonic()
        # The signal thread flips the state within microseconds; allow for scheduling.
        wait_for(lambda: server.request("GET", "/readyz")[0] == 503, 0.5,
                 "/readyz did not turn 503 after SIGTERM", interval=0.01)
        status, _, text = server.request("GET", "/healthz")
        check(status == 200, f"/healthz during the lame-duck window: {status}")

        status, _, body = server.post_json("/v1/completions", SHORT)
        check(status == 200, f"request in the lame-duck window: {status} {body}")

        time.sleep(max(0.0, sigterm_at + LAME_DUCK + 0.5 - time.monotonic()))
        stream_running_when_draining = stream["ended_at"] is None
        status, headers, body = server.post_json("/v1/completions", SHORT)
        check(status == 503, f"request after the lame-duck window: {status} {body}")
        check(headers.get("x-llmops-draining") == "1",
              f"503 without x-llmops-draining: 1: {headers}")
        check_error_shape(body, status, "draining 503")
        status, _, _ = server.request("GET", "/readyz")
        check(status == 503, f"/readyz while draining: {status}")

        reader.join(DRAIN)
        check(not reader.is_alive(), f"the stream did not end within {DRAIN} s")
        check(stream["error"] is None, f"the stream failed: {stream['error']}")
        _, finish = stream_text(stream["events"])
        print(f"stream: {len(stream['events'])} events, finish_reason={finish}, "
              f"running when draining began: {stream_running_when_draining}")
        check(finish in ("length", "stop"), f"the stream ended without a finish_reason: "
                                            f"{stream['events'][-2:]}")
        check(stream["done"], "the stream ended without [DONE]")
        if not stream_running_when_draining:
            print("note: the stream finished within the lame-duck window; "
                  "the drain phase had nothing to wait for")

        code = server.wait_exit(15)
        check(code == 0, f"exit code {code} after SIGTERM:\n{server.log()}")
        check("abandoned=0" in server.log(), f"the server abandoned requests:\n{server.log()}")


if __name__ == "__main__":
    main(test)
