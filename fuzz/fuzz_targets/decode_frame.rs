//! Fuzz target: arbitrary bytes off a socket, through framing and request decoding.
//!
//! 1. The raw input is treated as a byte stream: `split_frame` is called until it wants more
//!    bytes or refuses the stream, and every frame it yields goes through `decode_request`.
//!    The stream is also fed in two chunks (split at a point chosen by the first byte) to
//!    exercise the "need more bytes" path the way a socket delivers them.
//! 2. The raw input is also handed to `decode_request` directly, as if it were one frame,
//!    so the body decoders are reached without the fuzzer having to guess a length prefix.
//!
//! Any panic (including arithmetic overflow: the release profile keeps overflow checks on)
//! or an RSS over the run's `-rss_limit_mb` is a bug.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use petrel_protocol::decode_request;
use petrel_protocol::frame::split_frame;

/// Small on purpose: a frame announcing more than this is refused from its prefix.
const FRAME_BYTES_MAX: usize = 1024 * 1024;

/// Splits and decodes every complete frame in `buf`; returns how many were decoded.
fn drain(buf: &mut BytesMut) -> usize {
    let mut frames = 0;
    loop {
        match split_frame(buf, FRAME_BYTES_MAX) {
            Ok(Some(frame)) => {
                assert!(frame.len() <= FRAME_BYTES_MAX, "frame over the maximum");
                let _ = decode_request(&frame);
                frames += 1;
            }
            // Needs more bytes, or the stream is refused (the connection would be closed).
            Ok(None) | Err(_) => return frames,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // Whole input as one stream.
    let mut buf = BytesMut::from(data);
    let whole = drain(&mut buf);

    // Same stream delivered in two reads: must yield as many frames.
    if let Some((&first, _)) = data.split_first() {
        let cut = usize::from(first) % (data.len() + 1);
        let mut buf = BytesMut::from(&data[..cut]);
        let mut chunked = drain(&mut buf);
        buf.extend_from_slice(&data[cut..]);
        chunked += drain(&mut buf);
        assert_eq!(chunked, whole, "chunked and whole delivery disagree");
    }

    // Whole input as one frame (no length prefix).
    let _ = decode_request(data);
});
