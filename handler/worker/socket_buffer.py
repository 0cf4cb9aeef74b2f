"""A read buffer in front of MMS's worker socket.

MMS's frame parser reads every field of a request with its own recv() call (about 25 system calls per
request); serving those reads from one buffered recv() saves most of them on every request.
"""

from __future__ import annotations

import socket

CHUNK = 64 * 1024


class BufferedConnection:
    """The one method MMS's parser calls on its socket, `recv`, served from a buffer."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.buffer = b""
        self.offset = 0

    def wait(self) -> None:
        """Block until the next request starts to arrive (or the frontend disconnects)."""
        if self.offset >= len(self.buffer):
            self._fill()

    def recv(self, size: int) -> bytes:
        if self.offset >= len(self.buffer):
            if size >= CHUNK:  # a large body: read it straight from the socket, not through the buffer
                return self.connection.recv(size)
            self._fill()
        chunk = self.buffer[self.offset : self.offset + size]
        self.offset += len(chunk)
        return chunk

    def _fill(self) -> None:
        self.buffer = self.connection.recv(CHUNK)
        self.offset = 0
