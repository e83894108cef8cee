#!/usr/bin/env python3
"""Writes the seed corpus fuzz/seeds/: small valid request frames, each a full frame
(4-byte big-endian length prefix + header + body). Re-run after changing it:
    python3 fuzz/gen_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "seeds")

API_VERSIONS, METADATA = 18, 3


def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)


def uvarint(v):
    out = bytearray()
    while True:
        byte = v & 0x7F
        v >>= 7
        if v:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def string(s):  # STRING / NULLABLE_STRING (None = null)
    if s is None:
        return i16(-1)
    b = s.encode()
    return i16(len(b)) + b


def compact_string(s):  # COMPACT_STRING / COMPACT_NULLABLE_STRING
    if s is None:
        return uvarint(0)
    b = s.encode()
    return uvarint(len(b) + 1) + b


EMPTY_TAGS = uvarint(0)


def header(api_key, version, correlation_id, header_version, client_id="petrel-fuzz"):
    out = i16(api_key) + i16(version) + i32(correlation_id)
    if header_version >= 1:
        out += string(client_id)
    if header_version >= 2:
        out += EMPTY_TAGS
    return out


def frame(payload):
    return i32(len(payload)) + payload


def api_versions(version, correlation_id=1):
    if version >= 3:
        body = compact_string("petrel-fuzz") + compact_string("0.1.0") + EMPTY_TAGS
        return header(API_VERSIONS, version, correlation_id, 2) + body
    return header(API_VERSIONS, version, correlation_id, 1)


def metadata(version, topics, correlation_id=2, allow_auto=True, include_topic_ops=False):
    """topics: None (all topics, v1+) or a list of names (v10+: (uuid_bytes, name|None))."""
    flexible = version >= 9
    out = header(METADATA, version, correlation_id, 2 if flexible else 1)
    if topics is None:
        out += uvarint(0) if flexible else i32(-1)
    else:
        out += uvarint(len(topics) + 1) if flexible else i32(len(topics))
        for topic in topics:
            if version >= 10:
                topic_id, name = topic
                out += topic_id
            else:
                name = topic
            out += compact_string(name) if flexible else string(name)
            if flexible:
                out += EMPTY_TAGS
    if version >= 4:
        out += i8(1 if allow_auto else 0)
    if 8 <= version <= 10:
        out += i8(0)  # include_cluster_authorized_operations
    if version >= 8:
        out += i8(1 if include_topic_ops else 0)
    if flexible:
        out += EMPTY_TAGS
    return out


ZERO_ID = bytes(16)
SOME_ID = bytes(range(1, 17))

SEEDS = {
    "api_versions_v0": frame(api_versions(0)),
    "api_versions_v3": frame(api_versions(3)),
    "api_versions_v4": frame(api_versions(4)),
    "metadata_v0_two_topics": frame(metadata(0, ["orders", "payments"])),
    "metadata_v1_all_topics": frame(metadata(1, None)),
    "metadata_v1_one_topic": frame(metadata(1, ["orders"])),
    "metadata_v4_no_auto_create": frame(metadata(4, ["orders"], allow_auto=False)),
    "metadata_v9_flexible": frame(metadata(9, ["orders"])),
    "metadata_v12_by_name_and_id": frame(
        metadata(12, [(ZERO_ID, "orders"), (SOME_ID, None)], include_topic_ops=True)
    ),
    "metadata_v12_all_topics": frame(metadata(12, None)),
    # Two frames back to back, as one socket read would deliver them.
    "pipelined_api_versions_v3_then_metadata_v12": frame(api_versions(3, 7))
    + frame(metadata(12, [(ZERO_ID, "orders")], correlation_id=8)),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {OUT}")


if __name__ == "__main__":
    main()
