#!/usr/bin/env python3
"""Waits until a broker answers a Metadata request, then reports how long that took.

Usage: metadata_probe.py HOST:PORT [--wait SECONDS] [--since-ns EPOCH_NS]

Sends a hand-encoded Metadata v1 request (all topics) on a fresh connection every 10 ms until
one is answered, checks the answer (correlation id, at least one broker) and prints
"first Metadata after N ms: B broker(s), advertised HOST:PORT". With --since-ns the time is
counted from that instant (e.g. just before the broker was launched), otherwise from the
probe's own start. Exits 1 if no answer came within --wait seconds (default 10).
Standard library only, so it runs before any client is installed.
"""
import argparse
import socket
import struct
import sys
import time


def metadata_v1(host, port, correlation_id=4711):
    with socket.create_connection((host, port), timeout=5) as s:
        body = struct.pack(">hhih", 3, 1, correlation_id, -1) + struct.pack(">i", -1)
        s.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", recv_exact(s, 4))[0]
        data = recv_exact(s, size)
    correlation, broker_count = struct.unpack(">ii", data[:8])
    if correlation != correlation_id or broker_count < 1:
        raise ValueError(f"unexpected answer: correlation {correlation}, brokers {broker_count}")
    # First broker: node_id INT32, host STRING, port INT32.
    host_len = struct.unpack(">h", data[12:14])[0]
    advertised_host = data[14:14 + host_len].decode()
    advertised_port = struct.unpack(">i", data[14 + host_len:18 + host_len])[0]
    return broker_count, f"{advertised_host}:{advertised_port}"


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed by broker")
        data += chunk
    return data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("--wait", type=float, default=10.0)
    parser.add_argument("--since-ns", type=int, default=None)
    args = parser.parse_args()
    host, port = args.address.rsplit(":", 1)
    start_ns = args.since_ns or time.time_ns()
    deadline = time.monotonic() + args.wait
    last_error = None
    while time.monotonic() < deadline:
        try:
            brokers, advertised = metadata_v1(host, int(port))
            elapsed_ms = (time.time_ns() - start_ns) / 1e6
            print(f"first Metadata after {elapsed_ms:.0f} ms: {brokers} broker(s), advertised {advertised}")
            return 0
        except (OSError, ValueError) as error:
            last_error = error
            time.sleep(0.01)
    print(f"no Metadata answer from {args.address} within {args.wait}s: {last_error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
