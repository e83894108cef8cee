//! `LogFile`: an open segment or index file, shared by the log, readers and the I/O layer.
//!
//! A `LogFile` is an `Arc` around the `std::fs::File`, its path and its group-commit
//! bookkeeping (the write generation and [`SyncGroup`]). Clones are cheap and all see the
//! same state. The `Arc` is also what keeps a region readable after the segment is
//! deleted: the descriptor closes only when the last clone (a reader's region, an
//! operation in flight in a backend) goes away.
//!
//! Writes normally go through `Disk::write_at`, which bumps the write generation when the
//! write completes. Anything that changes the file another way (`set_len`, or a write
//! through [`LogFile::as_std`]) must bump it too, or `Disk::sync_data` may consider the
//! change already durable.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::group::SyncGroup;

/// How [`LogFile::open`] treats an existing or missing file. Files are always opened
/// read+write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Open it, creating it empty if missing (never truncates).
    Create,
    /// Create it; fail with `AlreadyExists` if it exists (a new segment).
    CreateNew,
    /// Open it; fail with `NotFound` if missing (recovery).
    Existing,
}

/// An open log file; see the module docs. Cheap to clone.
#[derive(Clone)]
pub struct LogFile {
    inner: Arc<Inner>,
}

struct Inner {
    file: File,
    path: PathBuf,
    /// Bumped after every completed modification. Starts at 1 while the durable
    /// generation starts at 0: we cannot know what the page cache holds for a file we
    /// just opened (say, one written before a crash), so the first `sync_data` of every
    /// handle issues a real fdatasync.
    write_generation: AtomicU64,
    sync: SyncGroup,
}

impl LogFile {
    /// Opens `path` read+write according to `mode`. A blocking `open(2)`: cheap, but call
    /// it where a short block is acceptable (segment roll, recovery).
    pub fn open(path: impl AsRef<Path>, mode: OpenMode) -> io::Result<LogFile> {
        let path = path.as_ref();
        let mut options = OpenOptions::new();
        options.read(true).write(true);
        match mode {
            OpenMode::Create => options.create(true),
            OpenMode::CreateNew => options.create_new(true),
            OpenMode::Existing => &mut options,
        };
        let file = options.open(path)?;
        Ok(LogFile::from_std(file, path.to_path_buf()))
    }

    /// Wraps an already open file (the I/O layer uses it for directories).
    pub(crate) fn from_std(file: File, path: PathBuf) -> LogFile {
        LogFile {
            inner: Arc::new(Inner {
                file,
                path,
                write_generation: AtomicU64::new(1),
                sync: SyncGroup::new(),
            }),
        }
    }

    /// Current length in bytes (an `fstat`).
    pub fn len(&self) -> io::Result<u64> {
        Ok(self.inner.file.metadata()?.len())
    }

    /// Whether the file is empty (an `fstat`).
    pub fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Truncates (or extends with zeroes) to `len_bytes`. Counts as a modification for
    /// group commit: the new size is durable after the next `sync_data`.
    pub fn set_len(&self, len_bytes: u64) -> io::Result<()> {
        let result = self.inner.file.set_len(len_bytes);
        // Bump even on error: a failed ftruncate may still have changed something.
        self.mark_modified();
        result
    }

    /// The path the file was opened at (it may since have been renamed or unlinked).
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The open file, for sendfile and direct readers. Writing through it must be
    /// followed by [`mark_modified`](Self::mark_modified).
    pub fn as_std(&self) -> &File {
        &self.inner.file
    }

    /// Records a modification made outside `Disk::write_at`, so the next `sync_data`
    /// issues an fdatasync that covers it.
    pub fn mark_modified(&self) {
        self.inner.write_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The write generation: how many modifications have completed (plus one for "opened,
    /// state unknown"). `sync_data` makes durable every generation it saw when called.
    pub fn write_generation(&self) -> u64 {
        self.inner.write_generation.load(Ordering::Acquire)
    }

    /// The highest write generation a finished fdatasync (or fsync) is known to cover.
    pub fn durable_generation(&self) -> u64 {
        self.inner.sync.durable_generation()
    }

    /// Called by the backends when a write completes (successfully or not: a failed
    /// write may have changed part of the range).
    pub(crate) fn note_write_completed(&self) {
        self.mark_modified();
    }

    pub(crate) fn sync_group(&self) -> &SyncGroup {
        &self.inner.sync
    }
}

impl fmt::Debug for LogFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogFile")
            .field("path", &self.inner.path)
            .field("write_generation", &self.write_generation())
            .field("durable_generation", &self.durable_generation())
            .finish()
    }
}
