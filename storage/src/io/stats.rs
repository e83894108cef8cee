//! Per-disk counters: how many fdatasyncs, fsyncs, writes and reads a [`Disk`] issued.
//!
//! The disk bumps them when it hands an operation to its backend (an fdatasync is counted
//! at the moment group commit decides to issue it), and [`Disk::stats`] snapshots them.
//! Tests and benchmarks use the fdatasync count to see group commit working.
//!
//! [`Disk`]: super::Disk
//! [`Disk::stats`]: super::Disk::stats

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a [`Disk`](super::Disk)'s counters since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskStats {
    /// fdatasyncs issued by `sync_data` (group commit: one per group, not per caller).
    pub fdatasync_calls: u64,
    /// Full fsyncs issued by `sync_all` and `sync_dir`.
    pub fsync_calls: u64,
    /// `write_at` calls handed to the backend.
    pub writes: u64,
    /// Bytes those writes carried.
    pub bytes_written: u64,
    /// `read_at` calls handed to the backend.
    pub reads: u64,
    /// Bytes those reads returned.
    pub bytes_read: u64,
}

/// The live counters behind [`DiskStats`]. Relaxed ordering: they are statistics, nothing
/// synchronises through them.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    fdatasync_calls: AtomicU64,
    fsync_calls: AtomicU64,
    writes: AtomicU64,
    bytes_written: AtomicU64,
    reads: AtomicU64,
    bytes_read: AtomicU64,
}

impl Counters {
    pub(crate) fn fdatasync_issued(&self) {
        self.fdatasync_calls.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn fsync_issued(&self) {
        self.fsync_calls.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn write_issued(&self, len_bytes: usize) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.bytes_written.fetch_add(
            u64::try_from(len_bytes).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn read_issued(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn read_returned(&self, len_bytes: usize) {
        self.bytes_read.fetch_add(
            u64::try_from(len_bytes).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn snapshot(&self) -> DiskStats {
        DiskStats {
            fdatasync_calls: self.fdatasync_calls.load(Ordering::Relaxed),
            fsync_calls: self.fsync_calls.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            bytes_written: self.bytes_written.load(Ordering::Relaxed),
            reads: self.reads.load(Ordering::Relaxed),
            bytes_read: self.bytes_read.load(Ordering::Relaxed),
        }
    }
}
