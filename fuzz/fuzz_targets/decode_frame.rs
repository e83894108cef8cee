//! Fuzz target: arbitrary bytes off a socket, through framing and request decoding.
//!
//! 1. The raw input is treated as a byte stream: `split_frame` is called until it wants more
//!    bytes or refuses the stream, and every frame it yields goes through `decode_request`.
//!    The stream is also fed in two chunks (split at a point chosen by the first byte) to
//!    exercise the "need more bytes" path the way a socket delivers them.
//! 2. The raw input is also handed to `decode_request` directly, as if it were one frame,
//!    so the body decoders are reached without the fuzzer having to guess a length prefix.
//!
//! Any panic (including arithmetic overflow: the release profile keeps overflow checks on),
//! any single allocation over [`ALLOC_BYTES_MAX`], or an RSS over the run's `-rss_limit_mb`
//! is a bug.
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use petrel_protocol::decode_request;
use petrel_protocol::frame::split_frame;

/// Small on purpose: a frame announcing more than this is refused from its prefix.
const FRAME_BYTES_MAX: usize = 1024 * 1024;

/// Largest single allocation allowed. Inputs are at most a few KiB (libFuzzer's default
/// `-max_len` is 4096) and frames at most [`FRAME_BYTES_MAX`], so anything this big means
/// memory was sized from a count or length claimed on the wire.
const ALLOC_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Refuses oversized allocations. libFuzzer's `-malloc_limit_mb` relies on sanitizer malloc
/// hooks, which this stable, sanitizer-free build does not have, and `-rss_limit_mb` misses
/// a `Vec::with_capacity` whose pages are never touched. Returning null makes Rust call
/// `handle_alloc_error`, which prints "memory allocation of N bytes failed" and aborts: a
/// crash libFuzzer records like any other.
struct CappedAlloc;

// SAFETY: forwards to the system allocator unchanged, or returns null (allowed by the
// `GlobalAlloc` contract) for oversized requests.
unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > ALLOC_BYTES_MAX {
            return std::ptr::null_mut();
        }
        // SAFETY: same layout, caller upholds the contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > ALLOC_BYTES_MAX {
            return std::ptr::null_mut();
        }
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > ALLOC_BYTES_MAX {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` came from `System` with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CappedAlloc = CappedAlloc;

/// Splits every complete frame off `buf` and decodes it; returns how many frames it split.
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
