#!/usr/bin/python3
"""A TCP relay for the fault suite: each LISTEN=TARGET pair (host:port=host:port) accepts
connections on LISTEN and copies bytes both ways to a new connection to TARGET. A
connection whose TARGET cannot be reached (a cut link) stays open without an answer, as a
pod behind a dead link looks to its client. A connection one side resets is reset on the
other side too, dropping what was still queued for it: a client that aborts a request
over a cut link (as the operator does when its Lease runs out) must not have it
delivered by the relay once the link heals. Prints "ready" once every listener is bound.

usage: tcp_relay.py LISTEN=TARGET [LISTEN=TARGET...]"""
import socket
import struct
import sys
import threading


def split(address):
    host, _, port = address.rpartition(":")
    return host, int(port)


def pump(source, destination, aborted):
    """Copies source to destination until source ends; on a reset (or any error) sets
    aborted and stops both directions without sending anything."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            destination.sendall(data)
    except OSError:
        aborted.set()
    # SHUT_RD wakes the other direction's recv without sending a FIN; the FIN (or the
    # reset) goes out when the connection is closed.
    for s in (source, destination):
        try:
            s.shutdown(socket.SHUT_RD)
        except OSError:
            pass


def close(sockets, abort):
    for s in sockets:
        if abort:
            # Linger 0: close() sends a reset and drops the unsent data.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()


def serve(listener, target):
    while True:
        client, _ = listener.accept()

        def connect(client=client):
            try:
                upstream = socket.create_connection(target, timeout=120)
                upstream.settimeout(None)
            except OSError:
                close([client], abort=True)
                return
            aborted = threading.Event()
            other = threading.Thread(target=pump, args=(client, upstream, aborted), daemon=True)
            other.start()
            pump(upstream, client, aborted)
            other.join()
            close([client, upstream], abort=aborted.is_set())

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
