//! # Storage I/O: one [`Disk`] per data directory
//!
//! Every byte the partition log writes, reads back or makes durable goes through a
//! [`Disk`]. Data flows like this:
//!
//! ```text
//! PartitionLog --write_at/read_at/sync_data(&LogFile)--> Disk
//!   Disk --owned-buffer Op + completion--> backend
//!     io_uring: bounded channel --> ring thread --SQEs--> kernel --CQEs--> oneshot reply
//!     portable: semaphore slot --> spawn_blocking(pwrite/pread/fdatasync) --> oneshot reply
//! ```
//!
//! `sync_data` is group-committed per file (the rules live in `group`):
//! every write completion bumps the file's write generation, an fdatasync records the
//! generation it covers when it is issued, and a waiter is satisfied by any fdatasync
//! that covers the generation it saw. Concurrent waiters therefore share one fdatasync,
//! and syncs of different files queued together leave in one ring submission.
//!
//! Modules: `file` (`LogFile`, the shared open file), `disk` (the public
//! handle and backend dispatch), `group` (group-commit state), `op` (the operations the
//! backends execute), `portable` and `uring` (the two backends), `stats` (counters).
//! `uring` is the only module of the crate allowed to use `unsafe`.

mod disk;
mod file;
mod group;
mod inline;
mod op;
mod portable;
mod stats;
mod uring;

use std::fmt;

pub use disk::Disk;
pub use file::{LogFile, OpenMode};
pub use stats::DiskStats;

/// Which backend [`Disk::start`] should use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// io_uring when the kernel allows it, else portable. The production default.
    #[default]
    Auto,
    /// io_uring or fail: for tests and for operators who want to know.
    IoUring,
    /// Blocking pwrite/pread/fdatasync on tokio's blocking pool.
    Portable,
}

/// The backend a [`Disk`] actually runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// A dedicated ring thread per data directory.
    IoUring,
    /// Blocking syscalls on tokio's blocking pool.
    Portable,
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendKind::IoUring => "io_uring",
            BackendKind::Portable => "portable",
        })
    }
}
