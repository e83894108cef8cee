//! The operations a backend executes, each owning everything it touches.
//!
//! `Disk` builds an [`Op`] (the file handle, the buffer, the completion), hands it to its
//! backend, and awaits the completion. Owning the buffer and a `LogFile` clone is what
//! lets the io_uring thread keep both alive until the kernel is done with them, however
//! the caller's future fares; the portable backend just runs the op on a blocking thread.
//!
//! Completion is a oneshot for writes, reads and plain fsyncs. A group-commit fdatasync
//! instead reports to the file's `SyncGroup` through a [`SyncTicket`], so every waiter on
//! the file learns the outcome, even if the caller that issued it has gone away; and a
//! ticket dropped without an outcome (backend gone) clears the in-flight mark.

use std::io;

use bytes::Bytes;
use tokio::sync::oneshot;

use super::file::LogFile;

/// One unit of work for a backend.
#[derive(Debug)]
pub(crate) enum Op {
    Write(WriteOp),
    Read(ReadOp),
    Fsync(FsyncOp),
}

/// Write all of `data` at `position`.
#[derive(Debug)]
pub(crate) struct WriteOp {
    pub(crate) file: LogFile,
    pub(crate) position: u64,
    pub(crate) data: Bytes,
    pub(crate) reply: oneshot::Sender<io::Result<()>>,
}

/// Read `len_bytes` at `position`, fewer only at end of file.
#[derive(Debug)]
pub(crate) struct ReadOp {
    pub(crate) file: LogFile,
    pub(crate) position: u64,
    pub(crate) len_bytes: usize,
    pub(crate) reply: oneshot::Sender<io::Result<Bytes>>,
}

/// fdatasync (`datasync`) or fsync the file.
#[derive(Debug)]
pub(crate) struct FsyncOp {
    pub(crate) file: LogFile,
    pub(crate) datasync: bool,
    pub(crate) done: SyncDone,
}

/// Where an fsync's outcome goes.
#[derive(Debug)]
pub(crate) enum SyncDone {
    /// To the one caller (`sync_all`, `sync_dir`).
    Reply(oneshot::Sender<io::Result<()>>),
    /// To the file's group-commit state (`sync_data`).
    Group(SyncTicket),
}

impl SyncDone {
    pub(crate) fn complete(self, result: io::Result<()>) {
        match self {
            // The caller may have stopped waiting; nothing else needs the outcome.
            SyncDone::Reply(reply) => drop(reply.send(result)),
            SyncDone::Group(ticket) => ticket.complete(result),
        }
    }
}

/// An issued group-commit fdatasync: reports its outcome exactly once, or aborts the
/// in-flight mark when dropped unreported.
#[derive(Debug)]
pub(crate) struct SyncTicket {
    file: LogFile,
    generation: u64,
    reported: bool,
}

impl SyncTicket {
    pub(crate) fn new(file: LogFile, generation: u64) -> SyncTicket {
        SyncTicket {
            file,
            generation,
            reported: false,
        }
    }

    fn complete(mut self, result: io::Result<()>) {
        self.reported = true;
        self.file.sync_group().finish(self.generation, &result);
    }
}

impl Drop for SyncTicket {
    fn drop(&mut self) {
        if !self.reported {
            self.file.sync_group().abort(self.generation);
        }
    }
}

impl Op {
    /// Answers the op with `error` without running it (backend shutting down or broken).
    pub(crate) fn abort(self, error: io::Error) {
        match self {
            Op::Write(op) => drop(op.reply.send(Err(error))),
            Op::Read(op) => drop(op.reply.send(Err(error))),
            // A group ticket dropped unreported aborts: the waiters retry and meet the
            // backend's error themselves, and the file is not marked as failed to sync.
            Op::Fsync(FsyncOp {
                done: SyncDone::Reply(reply),
                ..
            }) => drop(reply.send(Err(error))),
            Op::Fsync(FsyncOp {
                done: SyncDone::Group(ticket),
                ..
            }) => drop(ticket),
        }
    }
}

/// The error a caller sees when its op was dropped unanswered.
pub(crate) fn backend_gone() -> io::Error {
    io::Error::other("storage I/O backend stopped before completing the operation")
}
