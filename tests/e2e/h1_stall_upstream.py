#!/usr/bin/env python3
"""h1_stall_upstream.py PORT DIR: an HTTP/1.1 upstream that holds a client's request body half way: it reads
the request head and the first 65,536 bytes of the body, then reads nothing more (its receive buffer is kept
small, so the client soon cannot write either) until the file DIR/open exists; then it reads on until the
body is whole or the client closes. It never answers. It prints "listening" once it listens, and appends to
DIR/events: "head CONTENT_LENGTH", "held BYTES" when it stops reading, "opened", then "end BYTES" when the
whole body arrived or "closed BYTES" when the connection ended before that (BYTES: body bytes read in all).
One connection at a time."""
import os
import select
import socket
import sys

HOLD = 65536


def serve(conn, directory):
    events = open(os.path.join(directory, "events"), "a", buffering=1)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = conn.recv(4096)
        if not chunk:
            events.write("closed 0\n")
            return
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    events.write("head %d\n" % length)
    got = len(body)
    while got < min(HOLD, length):
        chunk = conn.recv(min(4096, HOLD - got))
        if not chunk:
            events.write("closed %d\n" % got)
            return
        got += len(chunk)
    events.write("held %d\n" % got)
    while not os.path.exists(os.path.join(directory, "open")):
        select.select([], [], [], 0.05)
    events.write("opened\n")
    while got < length:
        chunk = conn.recv(1 << 16)
        if not chunk:
            events.write("closed %d\n" % got)
            return
        got += len(chunk)
    events.write("end %d\n" % got)
    while conn.recv(1 << 16):   # never answers: waits for the client to give up
        pass


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)   # inherited: the client's bytes stay with it
    srv.bind(("127.0.0.1", port))
    srv.listen(8)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        try:
            serve(conn, directory)
        except OSError:
            pass
        conn.close()


if __name__ == "__main__":
    main()
