"""The listening socket the server's workers share, and the balance of its connections between
them: each waitress server accepts only while its worker holds no more connections than the
least loaded one (the counts live in shared memory)."""

from __future__ import annotations

import socket


def listening_socket(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """A bound, listening TCP socket (IPv6 when ``host`` is an IPv6 address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


class ConnectionBalance:
    """The open-connection counts of worker processes sharing one listening socket, in memory
    shared across ``fork``. A worker takes new connections only while it holds no more than the
    least loaded worker does, so persistent (keep-alive) connections spread evenly: left to the
    kernel, whichever worker wakes first takes them (16 + 0 was seen), and per-worker
    SO_REUSEPORT sockets hash them at random (13 + 3 was seen)."""

    def __init__(self, workers: int) -> None:
        import multiprocessing

        self._counts = multiprocessing.RawArray("i", workers)
        self.worker = 0

    def for_worker(self, worker: int) -> ConnectionBalance:
        self.worker = worker  # called in the forked worker: its own copy of this object
        return self

    def update(self, connections: int) -> None:
        self._counts[self.worker] = connections

    def may_accept(self) -> bool:
        return self._counts[self.worker] <= min(self._counts)


def balanced_waitress_server(app, sock: socket.socket, balance: ConnectionBalance | None, **adjustments):
    """A waitress server on ``sock`` that, given a balance, accepts only while this worker is
    among the least loaded (waitress asks ``readable()`` on every turn of its loop)."""
    import waitress

    server = waitress.create_server(app, sockets=[sock], **adjustments)
    if balance is not None:
        own_dispatchers = len(server._map)  # the server itself and its wake-up trigger
        readable = server.readable

        def readable_when_least_loaded() -> bool:
            balance.update(len(server._map) - own_dispatchers)
            return readable() and balance.may_accept()

        server.readable = readable_when_least_loaded
    return server
