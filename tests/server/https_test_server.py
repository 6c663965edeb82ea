#!/usr/bin/python3
"""A small HTTPS file server for model_source_test: serves --root on 127.0.0.1 at a port
chosen by the kernel (written to --port-file), honours "Range: bytes=N-" (unless
--ignore-range), answers 416 past the end, redirects /redirect/X to /X (and
/redirect-http/X to http://…/X), and appends "GET <path> range=<header>" per request to
--log so tests can see what the client asked for. --bytes-per-second slows bodies
down (for watching progress logs by hand)."""

import argparse
import http.server
import os
import ssl
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--ignore-range", action="store_true")
    parser.add_argument("--bytes-per-second", type=int, default=0,
                        help="throttle bodies (0: as fast as possible)")
    args = parser.parse_args()
    log = open(args.log, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format, *a):  # keep the test's stderr quiet
            pass

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            range_header = self.headers.get("Range")
            log.write(f"GET {path} range={range_header or '-'}\n")
            port = self.server.server_address[1]
            for prefix, scheme in (("/redirect/", "https"), ("/redirect-http/", "http")):
                if path.startswith(prefix):
                    self.send_response(302)
                    self.send_header("Location", f"{scheme}://127.0.0.1:{port}/{path[len(prefix):]}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            file = os.path.join(args.root, path.lstrip("/"))
            if not os.path.isfile(file):
                self.send_error(404)
                return
            with open(file, "rb") as f:
                data = f.read()
            start = 0
            if range_header and not args.ignore_range:
                spec = range_header.removeprefix("bytes=").split("-", 1)
                start = int(spec[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            body = data[start:]
            step = args.bytes_per_second // 10 or len(body) or 1
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                if args.bytes_per_second:
                    time.sleep(0.1)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    # Handshakes happen in the handler threads, so a client that rejects the certificate
    # cannot stall the accept loop.
    server.socket = context.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
