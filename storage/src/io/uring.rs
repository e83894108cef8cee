//! The io_uring backend: one ring thread per data directory.
//!
//! ```text
//! Disk --reserve()--> UringSlot (a permit of the bounded channel, capacity queue_depth_max)
//!      --submit(op)--> channel --> ring thread: admit ops (up to in_flight_max), push SQEs,
//!                                  submit_and_wait(1), reap CQEs, resubmit the rest of
//!                                  short writes/reads, answer completions
//! ```
//!
//! Waking the thread: while it sleeps in `io_uring_enter` waiting for completions, new
//! ops arrive on the channel. It keeps a READ armed on one end of a Unix socket pair; a
//! submitter writes one byte to the other end when the `pending` flag was clear, so a
//! burst of submissions costs one wake-up. Shutdown: when the last `Disk` handle drops,
//! the channel sender and then the socket's write end close; the armed READ completes
//! with EOF, the thread drains the channel, waits for every operation in flight, and
//! exits. Nothing blocks on it: the thread is detached.
//!
//! Memory safety (the reason `unsafe` is allowed here and nowhere else): an SQE carries
//! raw pointers to a buffer and a descriptor number. Every op in flight lives in the
//! thread's [`Slab`], owning its buffer (a `Bytes` or `Vec<u8>`, whose heap storage never
//! moves) and a `LogFile` clone (keeping the descriptor open), from the push of its SQE
//! until its CQE is reaped. If the thread has to stop with ops still in flight (a broken
//! ring, a panic), their buffers and descriptors are leaked, never freed, because the
//! kernel may still use them.

#![allow(unsafe_code)]

use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;
use io_uring::{opcode, squeue, types, IoUring, Probe};
use rustix::io::Errno;
use rustix::net::SendFlags;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};

use super::file::LogFile;
use super::op::{backend_gone, FsyncOp, Op, ReadOp, SyncDone, WriteOp};

/// `user_data` of the wake-up READ; op slots use their slab index.
const WAKE_TOKEN: u64 = u64::MAX;
/// One SQE moves at most this much (the length field is a u32); bigger ops resubmit.
const CHUNK_MAX_BYTES: usize = 1 << 30;
/// Wake-up bytes drained per READ; any number of them means "look at the channel".
const WAKE_BUF_BYTES: usize = 64;

/// The handle `Disk` holds.
#[derive(Debug)]
pub(crate) struct Uring {
    // Field order is drop order: the sender closes first, then the wake-up socket, whose
    // EOF tells the thread to drain the (by then disconnected) channel and stop.
    sender: mpsc::Sender<Op>,
    wake: Wake,
    /// Detached on drop (joining could block a runtime thread on in-flight I/O); kept so
    /// tests can check the thread exits.
    #[cfg_attr(not(test), allow(dead_code))]
    thread: Option<JoinHandle<()>>,
}

/// The submitter's side of the wake-up.
#[derive(Debug)]
struct Wake {
    /// Set by the first submitter after the thread last looked at the channel.
    pending: Arc<AtomicBool>,
    writer: UnixStream,
}

/// Permission to enqueue one op: a reserved place in the bounded channel.
#[derive(Debug)]
pub(crate) struct UringSlot<'a> {
    permit: mpsc::Permit<'a, Op>,
    wake: &'a Wake,
}

impl Uring {
    /// Creates and probes a ring (fails if the kernel refuses io_uring or lacks the
    /// opcodes we use) and starts its thread.
    pub(crate) fn start(queue_depth_max: usize) -> io::Result<Uring> {
        let queue_depth_max = queue_depth_max.max(1);
        // One SQE per op in flight plus the wake-up READ.
        let entries = u32::try_from(queue_depth_max.saturating_add(1))
            .unwrap_or(u32::MAX)
            .max(2);
        let ring = open_ring(entries)?;
        let sq_entries = usize::try_from(ring.params().sq_entries()).unwrap_or(usize::MAX);
        // setup_clamp may have given us fewer entries than asked for.
        let in_flight_max = queue_depth_max.min(sq_entries.saturating_sub(1)).max(1);

        let (sender, receiver) = mpsc::channel(queue_depth_max);
        let (writer, reader) = UnixStream::pair()?;
        let pending = Arc::new(AtomicBool::new(false));
        let thread = RingThread {
            ring,
            receiver,
            accepting: true,
            in_flight: Slab::default(),
            in_flight_max,
            wake: WakeRead {
                reader: Some(reader),
                buf: Some(Box::new([0u8; WAKE_BUF_BYTES])),
                pending: Arc::clone(&pending),
                armed: false,
            },
            completions: Vec::with_capacity(in_flight_max.saturating_add(1)),
        };
        let thread = std::thread::Builder::new()
            .name("petrel-io-uring".to_owned())
            .spawn(move || thread.run())?;
        Ok(Uring {
            sender,
            wake: Wake { pending, writer },
            thread: Some(thread),
        })
    }

    /// Waits for room in the channel. Cancel-safe: dropping the future reserves nothing.
    pub(crate) async fn reserve(&self) -> io::Result<UringSlot<'_>> {
        let permit = self.sender.reserve().await.map_err(|_| backend_gone())?;
        Ok(UringSlot {
            permit,
            wake: &self.wake,
        })
    }

    /// The ring thread, for tests that check it exits.
    #[cfg(test)]
    fn take_thread(&mut self) -> Option<JoinHandle<()>> {
        self.thread.take()
    }
}

impl UringSlot<'_> {
    /// Enqueues `op` and wakes the ring thread if nobody has yet since it last looked.
    /// Never fails: if the thread is gone, the op is dropped and its completion reports
    /// that. (`Result` to match the portable backend.)
    pub(crate) fn submit(self, op: Op) -> io::Result<()> {
        self.permit.send(op);
        self.wake.wake();
        Ok(())
    }
}

impl Wake {
    fn wake(&self) {
        // AcqRel pairs with the thread's swap(false): if we see `true`, the thread has not
        // yet looked at the channel since our send, and it will.
        if self.pending.swap(true, Ordering::AcqRel) {
            return;
        }
        loop {
            // DONTWAIT: a full socket buffer already means a wake-up is pending.
            // NOSIGNAL: a dead ring thread must not SIGPIPE the broker.
            match rustix::net::send(
                self.writer.as_fd(),
                &[1],
                SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
            ) {
                Err(Errno::INTR) => continue,
                Ok(_) | Err(Errno::AGAIN) => return,
                Err(error) => {
                    // The thread is gone; the op is answered by the channel closing.
                    tracing::debug!(%error, "io_uring wake-up failed");
                    return;
                }
            }
        }
    }
}

/// Sets up a ring and proves it usable: the opcodes we need exist, and a NOP makes the
/// round trip (a seccomp filter can allow `io_uring_setup` yet refuse `io_uring_enter`).
fn open_ring(entries: u32) -> io::Result<IoUring> {
    let mut ring: IoUring = IoUring::builder().setup_clamp().build(entries)?;
    let mut probe = Probe::new();
    ring.submitter().register_probe(&mut probe)?;
    for (name, code) in [
        ("READ", opcode::Read::CODE),
        ("WRITE", opcode::Write::CODE),
        ("FSYNC", opcode::Fsync::CODE),
    ] {
        if !probe.is_supported(code) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("io_uring lacks IORING_OP_{name} (kernel older than 5.6?)"),
            ));
        }
    }
    let nop = opcode::Nop::new().build().user_data(0);
    // SAFETY: a NOP references no buffer and no descriptor.
    unsafe { ring.submission().push(&nop) }.map_err(|_| sq_full())?;
    loop {
        match ring.submit_and_wait(1) {
            Ok(_) => break,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    let nop_result = ring.completion().next().map(|cqe| cqe.result());
    match nop_result {
        Some(result) if result >= 0 => Ok(ring),
        Some(result) => Err(io::Error::from_raw_os_error(-result)),
        None => Err(io::Error::other("io_uring NOP produced no completion")),
    }
}

fn sq_full() -> io::Error {
    io::Error::other("io_uring submission queue full")
}

/// Whether a negative CQE result just means "try again".
fn is_retryable(errno: i32) -> bool {
    errno == Errno::INTR.raw_os_error() || errno == Errno::AGAIN.raw_os_error()
}

/// Everything the ring thread owns.
struct RingThread {
    ring: IoUring,
    receiver: mpsc::Receiver<Op>,
    /// False once the channel is disconnected (every `Disk` handle dropped).
    accepting: bool,
    in_flight: Slab,
    in_flight_max: usize,
    wake: WakeRead,
    /// Reused buffer of reaped (user_data, result) pairs.
    completions: Vec<(u64, i32)>,
}

/// The thread's side of the wake-up: the socket end and buffer of the armed READ.
struct WakeRead {
    // Options only so Drop can move them out to leak them.
    reader: Option<UnixStream>,
    buf: Option<Box<[u8; WAKE_BUF_BYTES]>>,
    pending: Arc<AtomicBool>,
    /// A READ is in the ring: `reader` and `buf` must outlive it.
    armed: bool,
}

impl Drop for WakeRead {
    fn drop(&mut self) {
        if self.armed {
            // The kernel may still write into the buffer: leak both rather than free.
            mem::forget(self.reader.take());
            mem::forget(self.buf.take());
        }
    }
}

impl RingThread {
    fn run(mut self) {
        if let Err(error) = self.arm_wake() {
            self.fail(&error);
            return;
        }
        loop {
            self.admit();
            if self.in_flight.is_empty() && !self.wake.armed {
                if !self.accepting {
                    break;
                }
                // No wake-up source left (the READ failed): sleep on the channel instead.
                match self.receiver.blocking_recv() {
                    Some(op) => self.start(op),
                    None => self.accepting = false,
                }
                // Re-check: the op may have failed to start, leaving nothing to wait for.
                continue;
            }
            // Everything admitted this round (writes, reads, the fdatasyncs of several
            // files) enters the kernel in this one call.
            tracing::trace!(
                sqes = self.ring.submission().len(),
                in_flight = self.in_flight.len(),
                "io_uring submit"
            );
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                // Interrupted, or the kernel wants us to reap first: reap, then go again.
                Err(error)
                    if error.kind() == io::ErrorKind::Interrupted
                        || error.raw_os_error() == Some(Errno::AGAIN.raw_os_error())
                        || error.raw_os_error() == Some(Errno::BUSY.raw_os_error()) => {}
                Err(error) => {
                    self.fail(&error);
                    return;
                }
            }
            self.reap();
        }
        tracing::debug!("io_uring thread stopped");
    }

    /// Moves queued ops into the ring while there is room.
    fn admit(&mut self) {
        while self.accepting && self.in_flight.len() < self.in_flight_max {
            match self.receiver.try_recv() {
                Ok(op) => self.start(op),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.accepting = false,
            }
        }
    }

    fn start(&mut self, op: Op) {
        let op = InFlight::from(op);
        let index = self.in_flight.insert(op);
        self.push_next(index);
    }

    /// Pushes the SQE for the next part of the op at `index`, or fails the op.
    fn push_next(&mut self, index: usize) {
        let Some(op) = self.in_flight.get_mut(index) else {
            return;
        };
        let entry = op.next_entry().user_data(index as u64);
        // SAFETY: the entry points into the buffer owned by the op at `index` (the heap
        // storage of a `Bytes` or `Vec<u8>`, which stays put when the op itself moves)
        // and names the descriptor its `LogFile` keeps open. The op stays in the slab
        // until this entry's CQE is reaped, and `Slab::drop` leaks rather than frees any
        // op still in flight, so both outlive the kernel's use of them.
        let pushed = unsafe { self.ring.submission().push(&entry) };
        if pushed.is_err() {
            // Cannot happen: at most one SQE per op in flight and the queue holds more
            // than in_flight_max. The op never reached the kernel, so it can be dropped.
            if let Some(op) = self.in_flight.remove(index) {
                op.finish(Err(sq_full()));
            }
        }
    }

    fn arm_wake(&mut self) -> io::Result<()> {
        let (Some(reader), Some(buf)) = (&self.wake.reader, &mut self.wake.buf) else {
            return Err(io::Error::other("io_uring wake-up socket gone"));
        };
        let entry = opcode::Read::new(
            types::Fd(reader.as_raw_fd()),
            buf.as_mut_ptr(),
            WAKE_BUF_BYTES as u32,
        )
        .build()
        .user_data(WAKE_TOKEN);
        // SAFETY: `reader` and `buf` live in `self.wake` for the thread's lifetime and are
        // leaked by `WakeRead::drop` if this READ is still armed then.
        unsafe { self.ring.submission().push(&entry) }.map_err(|_| sq_full())?;
        self.wake.armed = true;
        Ok(())
    }

    fn reap(&mut self) {
        let mut completions = mem::take(&mut self.completions);
        completions.clear();
        completions.extend(
            self.ring
                .completion()
                .map(|cqe| (cqe.user_data(), cqe.result())),
        );
        for &(user_data, result) in &completions {
            if user_data == WAKE_TOKEN {
                self.on_wake(result);
            } else {
                self.on_op(user_data, result);
            }
        }
        self.completions = completions;
    }

    fn on_wake(&mut self, result: i32) {
        self.wake.armed = false;
        if result == 0 {
            // EOF: every Disk handle is gone. Stay down; `admit` sees the disconnect.
            return;
        }
        if result < 0 && !is_retryable(-result) {
            // Degrade rather than spin: without the READ, new ops are picked up after
            // each completion, or by sleeping on the channel when the ring is idle.
            tracing::warn!(
                error = %io::Error::from_raw_os_error(-result),
                "io_uring wake-up read failed; continuing without it"
            );
            return;
        }
        // Clear before draining the channel (the next `admit`): a submitter that sets the
        // flag after this sends a fresh byte, one that set it before is drained now.
        self.wake.pending.swap(false, Ordering::AcqRel);
        if let Err(error) = self.arm_wake() {
            tracing::warn!(%error, "io_uring wake-up read could not be re-armed");
        }
    }

    fn on_op(&mut self, user_data: u64, result: i32) {
        let Some(index) = usize::try_from(user_data).ok() else {
            return;
        };
        let Some(op) = self.in_flight.remove(index) else {
            tracing::error!(user_data, "io_uring completion for an unknown operation");
            return;
        };
        if let Some(op) = op.advance(result) {
            let index = self.in_flight.insert(op);
            self.push_next(index);
        }
    }

    /// The ring is unusable: answer everything with an error and stop taking ops.
    fn fail(&mut self, error: &io::Error) {
        tracing::error!(%error, "io_uring thread failed; storage I/O on this disk stops");
        let failed = || io::Error::new(error.kind(), format!("io_uring failed: {error}"));
        // Ops in flight may still be used by the kernel: Slab::drop leaks their buffers.
        drop(mem::take(&mut self.in_flight));
        // After close(), blocking_recv returns None only once every outstanding permit
        // has been used or dropped, so no op sent through one is left unanswered.
        self.receiver.close();
        while let Some(op) = self.receiver.blocking_recv() {
            op.abort(failed());
        }
    }
}

/// An op in the ring: its owned buffer, its file, and how far it got.
#[derive(Debug)]
struct InFlight {
    /// Keeps the descriptor open while the kernel may use it.
    file: LogFile,
    work: Work,
}

#[derive(Debug)]
enum Work {
    Write {
        position: u64,
        data: Bytes,
        done_bytes: usize,
        reply: oneshot::Sender<io::Result<()>>,
    },
    Read {
        position: u64,
        buf: Vec<u8>,
        done_bytes: usize,
        reply: oneshot::Sender<io::Result<Bytes>>,
    },
    Fsync {
        datasync: bool,
        done: SyncDone,
    },
}

impl From<Op> for InFlight {
    fn from(op: Op) -> InFlight {
        match op {
            Op::Write(WriteOp {
                file,
                position,
                data,
                reply,
            }) => InFlight {
                file,
                work: Work::Write {
                    position,
                    data,
                    done_bytes: 0,
                    reply,
                },
            },
            Op::Read(ReadOp {
                file,
                position,
                len_bytes,
                reply,
            }) => InFlight {
                file,
                work: Work::Read {
                    position,
                    buf: vec![0u8; len_bytes],
                    done_bytes: 0,
                    reply,
                },
            },
            Op::Fsync(FsyncOp {
                file,
                datasync,
                done,
            }) => InFlight {
                file,
                work: Work::Fsync { datasync, done },
            },
        }
    }
}

impl InFlight {
    /// The SQE for the part not done yet (without user_data).
    fn next_entry(&mut self) -> squeue::Entry {
        let fd = types::Fd(self.file.as_std().as_raw_fd());
        match &mut self.work {
            Work::Write {
                position,
                data,
                done_bytes,
                ..
            } => {
                let rest = data.get(*done_bytes..).unwrap_or_default();
                let len = chunk_len(rest.len());
                opcode::Write::new(fd, rest.as_ptr(), len)
                    .offset(position.saturating_add(*done_bytes as u64))
                    .build()
            }
            Work::Read {
                position,
                buf,
                done_bytes,
                ..
            } => {
                let rest = buf.get_mut(*done_bytes..).unwrap_or_default();
                let len = chunk_len(rest.len());
                opcode::Read::new(fd, rest.as_mut_ptr(), len)
                    .offset(position.saturating_add(*done_bytes as u64))
                    .build()
            }
            Work::Fsync { datasync, .. } => {
                let flags = if *datasync {
                    types::FsyncFlags::DATASYNC
                } else {
                    types::FsyncFlags::empty()
                };
                opcode::Fsync::new(fd).flags(flags).build()
            }
        }
    }

    /// Accounts for a completion: `Some(self)` if there is more to submit, else the op
    /// has been answered.
    fn advance(mut self, result: i32) -> Option<InFlight> {
        if result < 0 {
            if is_retryable(-result) {
                return Some(self);
            }
            self.finish(Err(io::Error::from_raw_os_error(-result)));
            return None;
        }
        let moved_bytes = usize::try_from(result).unwrap_or(0);
        match &mut self.work {
            Work::Write {
                data, done_bytes, ..
            } => {
                if moved_bytes == 0 {
                    self.finish(Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "io_uring write wrote nothing",
                    )));
                    return None;
                }
                *done_bytes = done_bytes.saturating_add(moved_bytes);
                if *done_bytes < data.len() {
                    return Some(self);
                }
            }
            Work::Read {
                buf, done_bytes, ..
            } => {
                *done_bytes = done_bytes.saturating_add(moved_bytes);
                // Zero bytes is end of file: return what we have.
                if moved_bytes != 0 && *done_bytes < buf.len() {
                    return Some(self);
                }
            }
            Work::Fsync { .. } => {}
        }
        self.finish(Ok(()));
        None
    }

    /// Answers the op; `Ok` means "all of it done" (or EOF for a read).
    fn finish(self, result: io::Result<()>) {
        let InFlight { file, work } = self;
        match work {
            Work::Write { reply, .. } => {
                file.note_write_completed();
                drop(reply.send(result));
            }
            Work::Read {
                mut buf,
                done_bytes,
                reply,
                ..
            } => {
                let result = result.map(|()| {
                    buf.truncate(done_bytes);
                    Bytes::from(buf)
                });
                drop(reply.send(result));
            }
            Work::Fsync { done, .. } => done.complete(result),
        }
    }

    /// The thread is stopping with this op possibly still in the kernel: answer it, but
    /// leak its buffer and descriptor, which the kernel may still use.
    fn abandon(self) {
        let InFlight { file, work } = self;
        mem::forget(file);
        let error = || io::Error::other("io_uring thread stopped with the operation in flight");
        match work {
            Work::Write { data, reply, .. } => {
                mem::forget(data);
                drop(reply.send(Err(error())));
            }
            Work::Read { buf, reply, .. } => {
                mem::forget(buf);
                drop(reply.send(Err(error())));
            }
            // An fsync owns no buffer; a group ticket dropped here aborts.
            Work::Fsync { done, .. } => match done {
                SyncDone::Reply(reply) => drop(reply.send(Err(error()))),
                SyncDone::Group(ticket) => drop(ticket),
            },
        }
    }
}

fn chunk_len(len_bytes: usize) -> u32 {
    u32::try_from(len_bytes.min(CHUNK_MAX_BYTES)).unwrap_or(u32::MAX)
}

/// The ops in flight, indexed by `user_data`.
#[derive(Debug, Default)]
struct Slab {
    entries: Vec<Option<InFlight>>,
    free: Vec<usize>,
    len: usize,
}

impl Slab {
    fn insert(&mut self, op: InFlight) -> usize {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            if let Some(entry) = self.entries.get_mut(index) {
                *entry = Some(op);
                return index;
            }
        }
        self.entries.push(Some(op));
        self.entries.len() - 1
    }

    fn get_mut(&mut self, index: usize) -> Option<&mut InFlight> {
        self.entries.get_mut(index).and_then(Option::as_mut)
    }

    fn remove(&mut self, index: usize) -> Option<InFlight> {
        let op = self.entries.get_mut(index).and_then(Option::take)?;
        self.len -= 1;
        self.free.push(index);
        Some(op)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for Slab {
    fn drop(&mut self) {
        // Normally empty. Otherwise the thread is stopping early (a broken ring or a
        // panic) and the kernel may still touch these buffers: leak, never free.
        for op in self.entries.drain(..).flatten() {
            op.abandon();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::OpenMode;
    use std::time::Duration;

    fn join_within(thread: JoinHandle<()>, timeout: Duration) {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = done_tx.send(thread.join().is_ok());
        });
        assert_eq!(done_rx.recv_timeout(timeout), Ok(true), "ring thread exits");
    }

    #[test]
    fn an_idle_ring_thread_exits_when_the_handle_drops() {
        let mut uring = Uring::start(4).expect("io_uring available");
        let thread = uring.take_thread().expect("thread");
        drop(uring);
        join_within(thread, Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_dropped_handle_still_completes_ops_in_flight() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = LogFile::open(dir.path().join("f"), OpenMode::CreateNew).expect("open");
        let mut uring = Uring::start(4).expect("io_uring available");
        let thread = uring.take_thread().expect("thread");
        let mut replies = Vec::new();
        for i in 0..16u64 {
            let (reply, answer) = oneshot::channel();
            let slot = uring.reserve().await.expect("slot");
            slot.submit(Op::Write(WriteOp {
                file: file.clone(),
                position: i * 4096,
                data: Bytes::from(vec![i as u8; 4096]),
                reply,
            }))
            .expect("submitted");
            replies.push(answer);
        }
        drop(uring);
        for answer in replies {
            answer.await.expect("answered").expect("written");
        }
        join_within(thread, Duration::from_secs(10));
        assert_eq!(file.len().expect("len"), 16 * 4096);
    }
}
