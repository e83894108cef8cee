//! The portable backend: blocking `pwrite`/`pread`/`fdatasync` on tokio's blocking pool.
//!
//! Used where io_uring is unavailable (Docker's default seccomp profile, the
//! `kernel.io_uring_disabled` sysctl, old kernels). `Disk` takes a [`PortableSlot`] (a
//! semaphore permit: at most `queue_depth_max` operations in flight per disk), then
//! [`PortableSlot::submit`] runs the op with `spawn_blocking`, answers its completion and
//! releases the permit. Concurrent syncs of different files therefore run concurrently on
//! separate blocking threads; syncs of one file are already merged by group commit.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::op::{backend_gone, FsyncOp, Op, ReadOp, WriteOp};

/// The backend handle: just the in-flight limit.
#[derive(Debug)]
pub(crate) struct Portable {
    slots: Arc<Semaphore>,
}

/// Permission to run one operation.
#[derive(Debug)]
pub(crate) struct PortableSlot {
    permit: OwnedSemaphorePermit,
}

impl Portable {
    pub(crate) fn new(queue_depth_max: usize) -> Portable {
        Portable {
            slots: Arc::new(Semaphore::new(
                queue_depth_max.clamp(1, Semaphore::MAX_PERMITS),
            )),
        }
    }

    /// Waits for a free slot. Cancel-safe: dropping the future takes nothing.
    pub(crate) async fn reserve(&self) -> io::Result<PortableSlot> {
        let permit = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| backend_gone())?;
        Ok(PortableSlot { permit })
    }
}

impl PortableSlot {
    /// Runs `op` on the blocking pool; its completion reports the outcome. Fails (with
    /// the op answered by the same error) outside a tokio runtime.
    pub(crate) fn submit(self, op: Op) -> io::Result<()> {
        let permit = self.permit;
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                // Detached: the op reports through its own completion, and a blocking
                // task cannot be cancelled half-way anyway.
                drop(runtime.spawn_blocking(move || {
                    run(op);
                    drop(permit);
                }));
                Ok(())
            }
            Err(_) => {
                let error = || {
                    io::Error::other(
                        "the portable storage backend must be used from within a tokio runtime",
                    )
                };
                op.abort(error());
                Err(error())
            }
        }
    }
}

/// Executes one op synchronously and answers it.
fn run(op: Op) {
    match op {
        Op::Write(WriteOp {
            file,
            position,
            data,
            reply,
        }) => {
            // write_all_at loops over short writes and EINTR.
            let result = file.as_std().write_all_at(&data, position);
            file.note_write_completed();
            drop(reply.send(result));
        }
        Op::Read(ReadOp {
            file,
            position,
            len_bytes,
            reply,
        }) => drop(reply.send(read_up_to(file.as_std(), position, len_bytes))),
        Op::Fsync(FsyncOp {
            file,
            datasync,
            done,
        }) => {
            let result = if datasync {
                file.as_std().sync_data()
            } else {
                file.as_std().sync_all()
            };
            done.complete(result);
        }
    }
}

/// Reads `len_bytes` at `position`, stopping early only at end of file.
fn read_up_to(file: &File, position: u64, len_bytes: usize) -> io::Result<Bytes> {
    let mut buf = vec![0u8; len_bytes];
    let mut filled = 0usize;
    while let Some(rest) = buf.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        let at = position
            .checked_add(u64::try_from(filled).unwrap_or(u64::MAX))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "read past u64::MAX"))?;
        match file.read_at(rest, at) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    buf.truncate(filled);
    Ok(Bytes::from(buf))
}
