//! Inline page-cache writes: `pwrite` on the calling thread, inside
//! `tokio::task::block_in_place`.
//!
//! A buffered write is a copy into the page cache: a few microseconds for 16 KiB. Handing it
//! to the I/O thread and back costs about ten times that on a small VM (measured: ~60 µs per
//! hand-off round trip against ~5 µs for the write), which capped single-appender throughput
//! far below the disk. `block_in_place` keeps the runtime healthy: if the kernel throttles
//! the write (dirty-page balancing), tokio moves this worker's other tasks to another
//! thread. Only on a multi-thread runtime, where `block_in_place` is allowed; elsewhere, and
//! whenever inline writes are switched off, the backend does the write. fdatasync and reads
//! always go through the backend (group commit; reads may wait on the device).
//!
//! This also avoids io_uring's own punt: buffered writes that extend a file cannot be done
//! with `RWF_NOWAIT` on ext4 (measured: EAGAIN every time), so the ring hands them to an
//! io-wq worker thread anyway.

use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::runtime::{Handle, RuntimeFlavor};

use super::LogFile;

/// Whether writes are done inline (on by default).
#[derive(Debug)]
pub(crate) struct InlineWrites {
    enabled: AtomicBool,
}

impl InlineWrites {
    pub(crate) fn new() -> InlineWrites {
        InlineWrites {
            enabled: AtomicBool::new(true),
        }
    }

    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Writes all of `data` at `position` on this thread, or returns None when the backend
    /// must do it (inline writes off, or not on a multi-thread runtime).
    pub(crate) fn try_write(
        &self,
        file: &LogFile,
        position: u64,
        data: &[u8],
    ) -> Option<io::Result<()>> {
        if !self.enabled.load(Ordering::Relaxed) {
            return None;
        }
        let on_multi_thread =
            Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
        if !on_multi_thread {
            return None;
        }
        let result = tokio::task::block_in_place(|| file.as_std().write_all_at(data, position));
        if result.is_ok() {
            file.note_write_completed();
        }
        Some(result)
    }
}
