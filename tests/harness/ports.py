"""Free TCP ports, for the processes that take a port on their command line."""
import socket


def free_port(host="127.0.0.1"):
    """A port free on host now (the kernel's choice for port 0)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
