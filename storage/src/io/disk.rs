//! `Disk`: the I/O handle of one data directory, and the dispatch to its backend.
//!
//! Every method follows the same path: take a backend slot (a place in the io_uring
//! channel or a portable semaphore permit, waiting if `queue_depth_max` ops are queued),
//! build an owned [`Op`], submit it, await its completion. `sync_data` adds group commit
//! on top (see the `group` module): it only takes a slot when it has to issue the
//! file's next fdatasync, and otherwise waits for the outcome of the one in flight.

use std::fmt;
use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::oneshot;

use super::file::LogFile;
use super::group::Step;
use super::inline::InlineWrites;
use super::op::{backend_gone, FsyncOp, Op, ReadOp, SyncDone, SyncTicket, WriteOp};
use super::portable::{Portable, PortableSlot};
use super::stats::{Counters, DiskStats};
use super::uring::{Uring, UringSlot};
use super::{BackendChoice, BackendKind};

/// The I/O handle of one data directory. Cheap to clone; the backend (the io_uring
/// thread) stops when the last clone is dropped.
#[derive(Clone)]
pub struct Disk {
    inner: Arc<DiskInner>,
}

struct DiskInner {
    backend: Backend,
    inline_writes: InlineWrites,
    counters: Counters,
    queue_depth_max: usize,
}

enum Backend {
    Uring(Uring),
    Portable(Portable),
}

/// Room for one op in the backend.
enum Slot<'a> {
    Uring(UringSlot<'a>),
    Portable(PortableSlot),
}

impl Slot<'_> {
    /// On error the op has already been answered with the same error.
    fn submit(self, op: Op) -> io::Result<()> {
        match self {
            Slot::Uring(slot) => slot.submit(op),
            Slot::Portable(slot) => slot.submit(op),
        }
    }
}

impl Disk {
    /// Starts the I/O backend for one data directory, with at most `queue_depth_max`
    /// operations queued (and, for io_uring, in flight). `Auto` probes io_uring and falls
    /// back to portable; `IoUring` fails if io_uring is unavailable.
    pub fn start(choice: BackendChoice, queue_depth_max: usize) -> io::Result<Disk> {
        if queue_depth_max == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "queue_depth_max must be at least 1",
            ));
        }
        let backend = match choice {
            BackendChoice::Portable => Backend::Portable(Portable::new(queue_depth_max)),
            BackendChoice::IoUring => {
                Backend::Uring(Uring::start(queue_depth_max).map_err(|error| {
                    io::Error::new(
                        error.kind(),
                        format!("io_uring backend requested but unavailable: {error}"),
                    )
                })?)
            }
            BackendChoice::Auto => match Uring::start(queue_depth_max) {
                Ok(uring) => Backend::Uring(uring),
                Err(error) => {
                    tracing::warn!(
                        %error,
                        "io_uring unavailable (seccomp, kernel.io_uring_disabled or an old \
                         kernel?); using the portable backend"
                    );
                    Backend::Portable(Portable::new(queue_depth_max))
                }
            },
        };
        let disk = Disk {
            inner: Arc::new(DiskInner {
                inline_writes: InlineWrites::new(),
                backend,
                counters: Counters::default(),
                queue_depth_max,
            }),
        };
        let backend = disk.backend();
        tracing::info!(%backend, queue_depth_max, "storage I/O backend: {backend}");
        Ok(disk)
    }

    /// The backend actually running.
    pub fn backend(&self) -> BackendKind {
        match self.inner.backend {
            Backend::Uring(_) => BackendKind::IoUring,
            Backend::Portable(_) => BackendKind::Portable,
        }
    }

    /// The configured queue depth.
    pub fn queue_depth_max(&self) -> usize {
        self.inner.queue_depth_max
    }

    /// Counters since start.
    pub fn stats(&self) -> DiskStats {
        self.inner.counters.snapshot()
    }

    /// Enables or disables inline page-cache writes (on by default; see the `inline`
    /// module). With them off, every write goes through the backend.
    pub fn set_inline_writes(&self, enabled: bool) {
        self.inner.inline_writes.set_enabled(enabled);
    }

    /// Writes all of `data` at `position` (short writes are continued). Once this
    /// returns, a later [`sync_data`](Self::sync_data) of `file` covers it.
    pub async fn write_at(&self, file: &LogFile, position: u64, data: Bytes) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        end_position(position, data.len())?;
        self.inner.counters.write_issued(data.len());
        if let Some(result) = self.inner.inline_writes.try_write(file, position, &data) {
            return result;
        }
        let slot = self.slot().await?;
        let (reply, answer) = oneshot::channel();
        slot.submit(Op::Write(WriteOp {
            file: file.clone(),
            position,
            data,
            reply,
        }))?;
        answer.await.map_err(|_| backend_gone())?
    }

    /// Reads `len_bytes` at `position`; fewer only when the file ends first.
    pub async fn read_at(
        &self,
        file: &LogFile,
        position: u64,
        len_bytes: usize,
    ) -> io::Result<Bytes> {
        if len_bytes == 0 {
            return Ok(Bytes::new());
        }
        end_position(position, len_bytes)?;
        let slot = self.slot().await?;
        let (reply, answer) = oneshot::channel();
        self.inner.counters.read_issued();
        slot.submit(Op::Read(ReadOp {
            file: file.clone(),
            position,
            len_bytes,
            reply,
        }))?;
        let bytes = answer.await.map_err(|_| backend_gone())??;
        self.inner.counters.read_returned(bytes.len());
        Ok(bytes)
    }

    /// Group-committed fdatasync: returns once an fdatasync of `file` issued after every
    /// write to it that had completed when this was called has finished. Concurrent
    /// callers share fdatasyncs; one in flight that covers a caller is never duplicated.
    ///
    /// After a failed fdatasync every later call fails too: the kernel may have dropped
    /// the unsynced pages, so only reopening and recovering the file is safe.
    pub async fn sync_data(&self, file: &LogFile) -> io::Result<()> {
        let group = file.sync_group();
        let needed = file.write_generation();
        let mut slot = None;
        loop {
            // Before `step`, so an outcome landing in between still wakes us.
            let notified = group.notified();
            let step = group.step(
                needed,
                slot.is_some(),
                || file.write_generation(),
                || self.inner.counters.fdatasync_issued(),
            );
            match step {
                Step::Durable => return Ok(()),
                Step::Failed(error) => return Err(error),
                Step::Wait => {
                    // Someone else issued: hand the slot back while we wait.
                    slot = None;
                    notified.await;
                }
                Step::NeedSlot => slot = Some(self.slot().await?),
                Step::Issue(generation) => {
                    let Some(taken) = slot.take() else {
                        // `step` only issues when told we hold a slot.
                        group.abort(generation);
                        continue;
                    };
                    taken.submit(Op::Fsync(FsyncOp {
                        file: file.clone(),
                        datasync: true,
                        done: SyncDone::Group(SyncTicket::new(file.clone(), generation)),
                    }))?;
                }
            }
        }
    }

    /// Full fsync (data and metadata) of `file`, outside group commit. Also counts for
    /// group commit: writes completed before the call are durable when it returns.
    pub async fn sync_all(&self, file: &LogFile) -> io::Result<()> {
        let generation = file.write_generation();
        let result = self.fsync(file).await;
        file.sync_group().record_outside_sync(generation, &result);
        result
    }

    /// Opens the directory at `path` and fsyncs it: makes creates, renames and unlinks in
    /// it durable. Call after creating or renaming a segment or index file.
    pub async fn sync_dir(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let dir = LogFile::from_std(File::open(path)?, path.to_path_buf());
        self.fsync(&dir).await
    }

    async fn fsync(&self, file: &LogFile) -> io::Result<()> {
        let slot = self.slot().await?;
        let (reply, answer) = oneshot::channel();
        self.inner.counters.fsync_issued();
        slot.submit(Op::Fsync(FsyncOp {
            file: file.clone(),
            datasync: false,
            done: SyncDone::Reply(reply),
        }))?;
        answer.await.map_err(|_| backend_gone())?
    }

    async fn slot(&self) -> io::Result<Slot<'_>> {
        Ok(match &self.inner.backend {
            Backend::Uring(uring) => Slot::Uring(uring.reserve().await?),
            Backend::Portable(portable) => Slot::Portable(portable.reserve().await?),
        })
    }
}

/// Rejects ranges whose end does not fit in a file offset.
fn end_position(position: u64, len_bytes: usize) -> io::Result<u64> {
    u64::try_from(len_bytes)
        .ok()
        .and_then(|len| position.checked_add(len))
        .filter(|end| i64::try_from(*end).is_ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "range ends beyond the largest file offset",
            )
        })
}

impl fmt::Debug for Disk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disk")
            .field("backend", &self.backend())
            .field("queue_depth_max", &self.inner.queue_depth_max)
            .field("stats", &self.stats())
            .finish()
    }
}
