"""A loopback TCP proxy a test can cut: every client and server socket closed at once,
now (`cut()`) or once the clients have sent `n` more bytes (`cut_after(n)`), which
lands the cut inside whatever the client was doing — a statement, a COMMIT.

It stands in front of the shared PostgreSQL server, so a test can break its own
connections without touching the server (which must never be restarted). Threaded,
so synchronous code (the store) can be cut in the middle of a call."""

from __future__ import annotations

import contextlib
import select
import socket
import threading


class CuttableProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._budget: int | None = None  # bytes clients may still send before the cut
        self.cuts = 0
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def cut(self) -> None:
        """Close every connection through the proxy, both ends, now."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
            self._budget = None
            self.cuts += 1
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()

    def cut_after(self, n: int) -> None:
        """Cut once clients have sent `n` more bytes (the byte that crosses is dropped)."""
        with self._lock:
            self._budget = n

    @property
    def armed(self) -> bool:
        return self._budget is not None

    def close(self) -> None:
        self._closed = True
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peer = {client: server, server: client}
        try:
            while True:
                ready, _, _ = select.select([client, server], [], [], 0.5)
                with self._lock:
                    if (client, server) not in self._pairs:
                        return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        raise OSError("closed")
                    if s is client and self._spend(len(data)):
                        self.cut()
                        return
                    peer[s].sendall(data)
        except (OSError, ValueError):
            with self._lock:
                if (client, server) in self._pairs:
                    self._pairs.remove((client, server))
            for s in (client, server):
                with contextlib.suppress(OSError):
                    s.close()

    def _spend(self, n: int) -> bool:
        """True when these `n` client bytes cross the armed budget."""
        with self._lock:
            if self._budget is None:
                return False
            self._budget -= n
            return self._budget < 0
