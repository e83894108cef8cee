#!/usr/bin/env python3
"""Machine-limit reference for consume_bench.sh: sends FILES over one loopback TCP connection
with sendfile(2) (socket.sendfile) while a second thread receives into a 1 MiB buffer and
throws the bytes away -- the kernel work a zero-copy broker and a reading client can not
avoid, with no protocol, no parsing and no client work.

Usage: loopback_sendfile.py FILE...
Prints one line: bytes=B seconds=S
"""
import socket
import sys
import threading
import time


def main():
    files = sys.argv[1:]
    if not files:
        raise SystemExit("usage: loopback_sendfile.py FILE...")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    received = []

    def receive():
        conn, _ = listener.accept()
        buf = memoryview(bytearray(1 << 20))
        total = 0
        while True:
            n = conn.recv_into(buf)
            if n == 0:
                break
            total += n
        conn.close()
        received.append(total)

    receiver = threading.Thread(target=receive, daemon=True)
    receiver.start()
    start = time.perf_counter()
    sender = socket.create_connection(listener.getsockname())
    sent = 0
    for name in files:
        with open(name, "rb") as f:
            sent += sender.sendfile(f)
    sender.shutdown(socket.SHUT_WR)
    receiver.join(600)
    took = time.perf_counter() - start
    sender.close()
    if not received or received[0] != sent:
        raise SystemExit(f"sent {sent} bytes, received {received}")
    print(f"bytes={sent} seconds={took:.6f}")


if __name__ == "__main__":
    main()
