#!/usr/bin/env python3
"""Golden-byte capture proxy for the Kafka wire protocol.

Listens on LISTEN (host:port), forwards every connection to UPSTREAM (the real
broker), and writes each client->broker request frame, length prefix included,
byte for byte as the client sent it, to

    OUTDIR/<label>-<apiname>-v<version>-<n>.bin

where <n> counts frames of that (api, version) seen by this proxy, from 0.
With --responses, each broker->client response frame is written beside its
request as <label>-<apiname>-v<version>-<n>.resp.bin (matched by correlation id).

A request frame is an int32 big-endian length followed by that many bytes; the
body starts with int16 api_key, int16 api_version, int32 correlation_id.
Bytes are forwarded unchanged whether or not a frame parses; a frame that
cannot be parsed (length < 8) is logged and not written.

Stdlib only. Usage:
    capture_proxy.py --listen 127.0.0.1:19092 --upstream 127.0.0.1:9092 \
        --outdir /tmp/cap --label librdkafka [--responses] [--ready-file F]
Stops on SIGINT/SIGTERM.
"""
import argparse
import asyncio
import collections
import itertools
import os
import signal
import struct
import sys

# Names as in Kafka's protocol (and kafka-protocol's ApiKey), so that fixture names read
# like the API; every API Petrel serves is here, plus a few others clients send.
API_NAMES = {
    0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata",
    8: "OffsetCommit", 9: "OffsetFetch", 10: "FindCoordinator",
    11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
    15: "DescribeGroups", 16: "ListGroups", 17: "SaslHandshake",
    18: "ApiVersions", 19: "CreateTopics", 20: "DeleteTopics",
    21: "DeleteRecords", 22: "InitProducerId", 23: "OffsetForLeaderEpoch",
    32: "DescribeConfigs", 33: "AlterConfigs", 35: "DescribeLogDirs",
    36: "SaslAuthenticate", 37: "CreatePartitions", 42: "DeleteGroups",
    44: "IncrementalAlterConfigs", 47: "OffsetDelete", 60: "DescribeCluster",
    68: "ConsumerGroupHeartbeat", 71: "GetTelemetrySubscriptions",
    75: "DescribeTopicPartitions",
}

MAX_FRAME = 100 * 1024 * 1024  # refuse to buffer absurd frames; still forwarded


def api_name(key):
    return API_NAMES.get(key, "key%d" % key)


class Capture:
    def __init__(self, outdir, label, responses):
        self.outdir = outdir
        self.label = label
        self.responses = responses
        self.counters = collections.Counter()
        self.conn_ids = itertools.count()

    def next_name(self, key, version):
        base = "%s-%s-v%d" % (self.label, api_name(key), version)
        n = self.counters[base]
        self.counters[base] += 1
        return "%s-%d" % (base, n)

    def write(self, name, data):
        path = os.path.join(self.outdir, name)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return path


def log(msg):
    print("capture_proxy: " + msg, file=sys.stderr, flush=True)


class FrameSplitter:
    """Accumulates a byte stream and yields complete length-prefixed frames."""

    def __init__(self):
        self.buf = bytearray()
        self.broken = False  # set once a frame is too large to buffer

    def feed(self, data):
        if self.broken:
            return []
        self.buf += data
        frames = []
        while len(self.buf) >= 4:
            (length,) = struct.unpack_from(">i", self.buf, 0)
            if length < 0 or length > MAX_FRAME:
                self.broken = True
                self.buf.clear()
                log("bad frame length %d; no more frames captured on this connection" % length)
                break
            if len(self.buf) < 4 + length:
                break
            frames.append(bytes(self.buf[: 4 + length]))
            del self.buf[: 4 + length]
        return frames


async def pump(reader, writer, on_frame):
    splitter = FrameSplitter()
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            # Record before forwarding so the file exists once the peer sees the bytes.
            for frame in splitter.feed(data):
                on_frame(frame)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, RuntimeError):
            pass
    return len(splitter.buf)


async def handle(cap, upstream, creader, cwriter):
    cid = next(cap.conn_ids)
    peer = cwriter.get_extra_info("peername")
    try:
        ureader, uwriter = await asyncio.open_connection(*upstream)
    except OSError as e:
        log("conn %d from %s: upstream %s:%d unreachable: %s" % (cid, peer, upstream[0], upstream[1], e))
        cwriter.close()
        return
    log("conn %d from %s -> %s:%d" % (cid, peer, upstream[0], upstream[1]))
    pending = {}  # correlation id -> file name stem, for --responses

    def on_request(frame):
        if len(frame) < 12:
            log("conn %d: short request frame (%d bytes), not written" % (cid, len(frame)))
            return
        key, version, corr = struct.unpack_from(">hhi", frame, 4)
        stem = cap.next_name(key, version)
        path = cap.write(stem + ".bin", frame)
        pending[corr] = stem
        log("conn %d: request %s v%d corr=%d %d bytes -> %s" % (cid, api_name(key), version, corr, len(frame), path))

    def on_response(frame):
        if len(frame) < 8:
            log("conn %d: short response frame (%d bytes)" % (cid, len(frame)))
            return
        (corr,) = struct.unpack_from(">i", frame, 4)
        stem = pending.pop(corr, None)
        if stem is None:
            log("conn %d: response corr=%d matches no request" % (cid, corr))
            return
        if cap.responses:
            cap.write(stem + ".resp.bin", frame)
        log("conn %d: response corr=%d %d bytes" % (cid, corr, len(frame)))

    up = asyncio.ensure_future(pump(creader, uwriter, on_request))
    down = asyncio.ensure_future(pump(ureader, cwriter, on_response))
    # Half-close is passed on (write_eof); if the other direction has not
    # finished a few seconds after the first one did, give up on it.
    _, still = await asyncio.wait([up, down], return_when=asyncio.FIRST_COMPLETED)
    if still:
        _, still = await asyncio.wait(still, timeout=5)
        for t in still:
            t.cancel()
        await asyncio.gather(*still, return_exceptions=True)
    left_up = up.result() if not up.cancelled() else 0
    left_down = down.result() if not down.cancelled() else 0
    for w in (uwriter, cwriter):
        w.close()
    extra = ""
    if left_up or left_down:
        extra = " (partial frame bytes left: request side %d, response side %d)" % (left_up, left_down)
    if pending:
        extra += " (unanswered: %s)" % ", ".join(sorted(pending.values()))
    log("conn %d closed%s" % (cid, extra))


def hostport(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, got %r" % s)
    return host.strip("[]"), int(port)


async def main_async(args):
    cap = Capture(args.outdir, args.label, args.responses)
    server = await asyncio.start_server(
        lambda r, w: handle(cap, args.upstream, r, w), args.listen[0], args.listen[1])
    addr = server.sockets[0].getsockname()
    log("listening on %s:%d, upstream %s:%d, label %s, outdir %s"
        % (addr[0], addr[1], args.upstream[0], args.upstream[1], args.label, args.outdir))
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("%s:%d\n" % (addr[0], addr[1]))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    log("stopped")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", type=hostport, required=True, help="HOST:PORT to listen on (port 0: any free)")
    p.add_argument("--upstream", type=hostport, required=True, help="HOST:PORT of the real broker")
    p.add_argument("--outdir", required=True, help="directory for captured frames")
    p.add_argument("--label", required=True, help="file name prefix, e.g. the client's name")
    p.add_argument("--responses", action="store_true", help="also write response frames (.resp.bin)")
    p.add_argument("--ready-file", help="write the bound HOST:PORT here once listening")
    args = p.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
