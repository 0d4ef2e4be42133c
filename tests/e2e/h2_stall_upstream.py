#!/usr/bin/env python3
"""h2_stall_upstream.py PORT DIR: an HTTP/2 upstream (h2c, prior knowledge) that holds a client's request
bodies half way: it reads every frame but grants no flow-control window beyond HTTP/2's initial 65,535
bytes, so a client stops after that many bytes of DATA, until the file DIR/open exists; then it grants
16 MiB on the connection and on every stream. It never answers. It prints "listening" once it listens, and
appends one line per frame it cares about to DIR/events: "headers STREAM", "data STREAM BYTES" (with
" end" when the frame ends the stream) and "rst STREAM CODE". One connection at a time."""
import os
import select
import socket
import struct
import sys

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, WINDOW_UPDATE = 0, 1, 3, 4, 6, 8
END_STREAM, ACK, PADDED = 0x1, 0x1, 0x8
GRANT = 16 << 20


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def serve(conn, directory):
    events = open(os.path.join(directory, "events"), "a", buffering=1)
    conn.sendall(frame(SETTINGS, 0, 0))
    buf, streams, opened = b"", set(), False
    while True:
        if not opened and os.path.exists(os.path.join(directory, "open")):
            opened = True
            out = frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", GRANT))
            for s in sorted(streams):
                out += frame(WINDOW_UPDATE, 0, s, struct.pack(">I", GRANT))
            conn.sendall(out)
            events.write("opened\n")
        if not select.select([conn], [], [], 0.05)[0]:
            continue
        chunk = conn.recv(1 << 16)
        if not chunk:
            return
        buf += chunk
        if buf.startswith(PREFACE):
            buf = buf[len(PREFACE):]
        while len(buf) >= 9:
            length = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + length:
                break
            kind, flags = buf[3], buf[4]
            stream = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            payload, buf = buf[9:9 + length], buf[9 + length:]
            if kind == SETTINGS and not flags & ACK:
                conn.sendall(frame(SETTINGS, ACK, 0))
            elif kind == PING and not flags & ACK:
                conn.sendall(frame(PING, ACK, 0, payload))
            elif kind == HEADERS:
                streams.add(stream)
                if opened:
                    conn.sendall(frame(WINDOW_UPDATE, 0, stream, struct.pack(">I", GRANT)))
                events.write("headers %d\n" % stream)
            elif kind == DATA:
                body = length - (payload[0] + 1 if flags & PADDED else 0)
                events.write("data %d %d%s\n" % (stream, body, " end" if flags & END_STREAM else ""))
            elif kind == RST_STREAM:
                events.write("rst %d %d\n" % (stream, int.from_bytes(payload[:4], "big")))


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", port))
    lst.listen(4)
    print("listening", flush=True)
    while True:
        conn, _ = lst.accept()
        with conn:
            serve(conn, directory)


if __name__ == "__main__":
    main()
