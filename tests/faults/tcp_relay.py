#!/usr/bin/python3
"""A TCP relay for the fault suite: each LISTEN=TARGET pair (host:port=host:port) accepts
connections on LISTEN and copies bytes both ways to a new connection to TARGET. A
connection whose TARGET cannot be reached (a cut link) stays open without an answer, as a
pod behind a dead link looks to its client. Prints "ready" once every listener is bound.

usage: tcp_relay.py LISTEN=TARGET [LISTEN=TARGET...]"""
import socket
import sys
import threading


def split(address):
    host, _, port = address.rpartition(":")
    return host, int(port)


def pump(source, destination):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            destination.sendall(data)
    except OSError:
        pass
    for s in (source, destination):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(listener, target):
    while True:
        client, _ = listener.accept()

        def connect(client=client):
            try:
                upstream = socket.create_connection(target, timeout=120)
                upstream.settimeout(None)
            except OSError:
                client.close()
                return
            threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
            pump(upstream, client)
            client.close()
            upstream.close()

        threading.Thread(target=connect, daemon=True).start()


def main():
    threads = []
    for pair in sys.argv[1:]:
        listen, _, target = pair.partition("=")
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(split(listen))
        listener.listen(128)
        threads.append(threading.Thread(target=serve, args=(listener, split(target)), daemon=True))
    for t in threads:
        t.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
