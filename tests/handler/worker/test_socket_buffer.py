"""MMS's frame parser reads field by field; the buffer must hand it exactly the bytes the socket carried."""

import socket
import struct
import threading

from handler.worker.socket_buffer import CHUNK, BufferedConnection


def read_exactly(reader, length):
    """What MMS's _retrieve_buffer does: recv until `length` bytes (b"" means the frontend left)."""
    data = bytearray()
    while length > 0:
        packet = reader.recv(length)
        if not packet:
            raise EOFError
        data += packet
        length -= len(packet)
    return bytes(data)


def test_small_fields_and_a_large_body_arrive_intact_and_in_order():
    frontend, worker = socket.socketpair()
    body = bytes(range(256)) * (3 * CHUNK // 256 + 7)
    frame = b"I" + struct.pack("!i", 36) + b"r" * 36 + struct.pack("!i", len(body)) + body + b"I" + b"next"
    sender = threading.Thread(target=frontend.sendall, args=(frame,))
    sender.start()
    reader = BufferedConnection(worker)
    reader.wait()
    assert read_exactly(reader, 1) == b"I"
    assert struct.unpack("!i", read_exactly(reader, 4))[0] == 36
    assert read_exactly(reader, 36) == b"r" * 36
    size = struct.unpack("!i", read_exactly(reader, 4))[0]
    assert read_exactly(reader, size) == body
    reader.wait()
    assert read_exactly(reader, 5) == b"Inext"
    sender.join()
    frontend.close()
    worker.close()


def test_a_closed_frontend_reads_as_empty():
    frontend, worker = socket.socketpair()
    frontend.close()
    reader = BufferedConnection(worker)
    reader.wait()
    assert reader.recv(4) == b""
    worker.close()
