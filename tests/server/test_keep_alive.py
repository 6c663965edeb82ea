"""HTTP/1.1 connection reuse: whole responses keep the connection alive for the next
request, and a streamed response either announces `Connection: close` or leaves the
connection usable (a client that reuses a silently closed connection fails its next POST).
"""

import json

from runtime_server import RuntimeServer, check, main, sse_events

BODY = {"prompt": "The robot", "max_tokens": 4, "temperature": 0}


def post(connection, body):
    connection.request("POST", "/v1/completions", body=json.dumps(body),
                       headers={"Content-Type": "application/json"})
    return connection.getresponse()


def test(env):
    with RuntimeServer(env, env.test_model_args()) as server:
        connection = server.connect()
        for i in range(3):
            response = post(connection, BODY)
            check(response.status == 200, f"whole request {i}: {response.status}")
            json.loads(response.read())
        check(connection.sock is not None, "the connection was closed after whole responses")

        response = post(connection, {**BODY, "stream": True})
        check(response.status == 200, f"stream: {response.status}")
        events = list(sse_events(response))
        check(events[-1] == "[DONE]", f"stream without [DONE]: {events}")
        announced_close = (response.getheader("Connection", "").lower() == "close")
        print(f"stream: Connection header {response.getheader('Connection')!r}")
        if not announced_close:
            # Not announced: the client keeps the connection, so the server must too.
            try:
                response = post(connection, BODY)
                status = response.status
                response.read()
            except OSError as e:
                status = repr(e)
            check(status == 200,
                  f"the server closed the connection after a stream without sending "
                  f"'Connection: close': the next request on it failed with {status}")
        connection.close()


if __name__ == "__main__":
    main(test)
