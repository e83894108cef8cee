//! Asynchronous segment seals and the recovery point.
//!
//! When the active segment rolls, its last index entries are written at once but its
//! fdatasyncs run in the background, as Kafka's roll schedules an asynchronous flush: a
//! segment filled by `PageCache` appends can hold up to `segment.bytes` of dirty pages, and
//! waiting for them before the next segment exists stalled every appender for as long as
//! the disk took (measured: ~0.5 s per GiB). Syncing every few MiB instead, to keep that
//! wait short, cost page-cache appends ~20% of their throughput on a 2-core machine.
//!
//! The price is that a closed segment is not known to be durable until its seal job has
//! finished, so two things track that:
//! - the **recovery point**, the file `recovery-point` in the partition directory: every
//!   segment that ends at or below it was synced. Recovery rescans (and may truncate)
//!   segments that extend past it, not only the active one. A job advances it to the base
//!   of the segment that replaced the one it synced. The first roll of a log writes it
//!   (up to then every closed segment was synced at its roll) and it never decreases: a
//!   roll that closes a segment ending at or below it (only after a truncation back
//!   below it) syncs that segment before the next one exists. So a segment past the point
//!   was never compacted either (compaction waits for seals), and recovery can read an
//!   offset gap at its end as lost records;
//! - the **seal sequence**: jobs are numbered and finish in order. `Fsync` appends and
//!   [`PartitionLog::sync`](super::PartitionLog::sync) wait for the jobs issued before
//!   them, so an acknowledged durable append is never behind an unsynced segment that a
//!   power loss could tear (recovery would cut everything after such a tear).
//!
//! A job that fails to sync marks the log failed: the recovery point stops advancing and
//! every later wait reports the error (Kafka takes the log directory offline).
//!
//! Jobs outlive a log dropped without `close` (they own what they sync). So that such a
//! job cannot write a stale recovery point into a log opened again on the same directory,
//! trackers are registered by directory and opening a log first waits for the jobs of the
//! directory's previous tracker ([`SealTracker::register`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex as StdMutex, Weak};

use tokio::sync::watch;
use tracing::warn;

use crate::error::{Result, StorageError};
use crate::io::{Disk, LogFile};
use crate::leader_epoch::write_atomically;
use crate::segment::sync_data_all;

/// The recovery point's file in the partition directory.
pub(super) const RECOVERY_POINT_FILE: &str = "recovery-point";

/// The live tracker of each directory in this process (see the module docs).
static TRACKERS: LazyLock<StdMutex<HashMap<PathBuf, Weak<SealTracker>>>> =
    LazyLock::new(StdMutex::default);

/// Seal jobs of one partition log.
#[derive(Debug)]
pub(super) struct SealTracker {
    dir: PathBuf,
    /// The directory's (device, inode) when the log opened: a log still held after its
    /// topic was deleted (its directory renamed away) and recreated under the same name
    /// must not write its recovery point into the new directory.
    dir_identity: Option<(u64, u64)>,
    /// Jobs started so far (only incremented under the log's state lock).
    issued: AtomicU64,
    /// The recovery point on disk (None: no file, which means the log never rolled since
    /// this file was introduced: every closed segment is synced).
    persisted_recovery_point: StdMutex<Option<i64>>,
    progress: watch::Sender<Progress>,
}

#[derive(Debug, Clone, Default)]
struct Progress {
    /// Jobs finished, in order (job n finishes only after job n - 1).
    completed: u64,
    /// Why an earlier seal failed; once set, no later seal succeeds.
    failure: Option<String>,
}

/// Whether a closing segment still needs its background seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SealMode {
    Background,
    /// Already synced by [`SealTracker::prepare_roll`].
    Done,
}

/// The files of a closed segment, to be synced by a seal job.
pub(super) struct SealJob {
    pub files: [LogFile; 3],
    /// Base offset of the segment that replaced it: the new recovery point once synced.
    pub next_base: i64,
}

impl SealTracker {
    pub(super) fn new(dir: &Path, persisted_recovery_point: Option<i64>) -> SealTracker {
        SealTracker {
            dir: dir.to_path_buf(),
            dir_identity: directory_identity(dir),
            issued: AtomicU64::new(0),
            persisted_recovery_point: StdMutex::new(persisted_recovery_point),
            progress: watch::channel(Progress::default()).0,
        }
    }

    /// Waits for the seal jobs still running for `dir` from a log that was dropped
    /// without `close` (their outcome no longer matters, only that they are done). Call
    /// before recovery reads the directory.
    pub(super) async fn wait_for_previous(dir: &Path) {
        let previous = lock_registry().get(dir).and_then(Weak::upgrade);
        if let Some(previous) = previous {
            let _ = previous.wait_all().await;
        }
    }

    /// Makes `tracker` the one whose jobs a later open of its directory waits for.
    pub(super) fn register(tracker: &Arc<SealTracker>) {
        lock_registry().insert(tracker.dir.clone(), Arc::downgrade(tracker));
    }

    fn persisted_point(&self) -> std::sync::MutexGuard<'_, Option<i64>> {
        // A panic while holding this lock cannot leave one integer inconsistent.
        self.persisted_recovery_point
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The number of seal jobs started so far: pass it to [`SealTracker::wait_for`] to
    /// wait for every segment closed before this call.
    pub(super) fn issued(&self) -> u64 {
        self.issued.load(Ordering::Acquire)
    }

    /// Before rolling the segment based at `closing_base` (its files and successor in
    /// `job`), while the next segment does not exist yet: makes sure the recovery point
    /// on disk does not vouch for it unsynced. Says whether a background job must still
    /// sync it ([`SealTracker::start`]).
    pub(super) async fn prepare_roll(
        &self,
        disk: &Disk,
        closing_base: i64,
        job: &SealJob,
    ) -> Result<SealMode> {
        let persisted = *self.persisted_point();
        match persisted {
            Some(point) if job.next_base <= point => {
                // Only after a truncation back below the point, which never decreases.
                sync_data_all(disk, &job.files).await?;
                Ok(SealMode::Done)
            }
            Some(_) => Ok(SealMode::Background),
            None => {
                // The first roll: no seal job exists yet that could write the file too.
                self.write_point(closing_base).await?;
                Ok(SealMode::Background)
            }
        }
    }

    /// Starts the background seal of a closed segment. Called with the log's state lock
    /// held, so jobs are numbered in the order segments closed. Outside a tokio runtime
    /// (no task to detach) the seal is done before this returns.
    pub(super) async fn start(self: &Arc<Self>, disk: &Disk, job: SealJob) {
        let sequence = self.issued.fetch_add(1, Ordering::AcqRel) + 1;
        let tracker = Arc::clone(self);
        let disk = disk.clone();
        let guard = Completion {
            tracker: Arc::clone(self),
            sequence,
            done: false,
        };
        let seal = async move {
            tracker.run(&disk, guard, job).await;
        };
        match tokio::runtime::Handle::try_current() {
            // Detached: the job owns clones of everything it needs, and its outcome is
            // observed through `progress`.
            Ok(runtime) => drop(runtime.spawn(seal)),
            Err(_) => seal.await,
        }
    }

    async fn run(&self, disk: &Disk, mut completion: Completion, job: SealJob) {
        let sequence = completion.sequence;
        // Syncs of consecutive seals may overlap; only their bookkeeping is ordered.
        let synced = sync_data_all(disk, &job.files).await;
        let mut progress = self.progress.subscribe();
        // The sender lives in `self`, so the wait cannot fail; treat it as a failure if
        // it ever does rather than vouching for unsynced data.
        let earlier_failure = match progress.wait_for(|p| p.completed + 1 >= sequence).await {
            Ok(p) => p.failure.clone(),
            Err(_) => Some("seal tracker closed".to_owned()),
        };
        let failure = match (earlier_failure, synced) {
            (Some(earlier), _) => Some(earlier),
            (None, Err(error)) => Some(error.to_string()),
            (None, Ok(())) => self
                .write_point(job.next_base)
                .await
                .err()
                .map(|e| e.to_string()),
        };
        if let Some(reason) = &failure {
            if self.dir.exists() {
                warn!(dir = %self.dir.display(), %reason, "sealing a closed segment failed");
            } else {
                // The partition was deleted meanwhile: nothing is left to make durable.
                tracing::debug!(dir = %self.dir.display(), %reason, "seal of a deleted log stopped");
            }
        }
        completion.finish(failure);
    }

    fn complete(&self, sequence: u64, failure: Option<String>) {
        self.progress.send_modify(|p| {
            p.completed = p.completed.max(sequence);
            if p.failure.is_none() {
                p.failure = failure;
            }
        });
    }

    /// Writes this log's recovery point, unless its directory was replaced meanwhile, and
    /// remembers it.
    async fn write_point(&self, offset: i64) -> Result<()> {
        if directory_identity(&self.dir) != self.dir_identity {
            return Err(StorageError::io(
                &self.dir,
                std::io::Error::other("the partition directory was replaced"),
            ));
        }
        write_recovery_point(&self.dir, offset).await?;
        let mut persisted = self.persisted_point();
        *persisted = Some(persisted.map_or(offset, |point| point.max(offset)));
        Ok(())
    }

    /// Waits until the first `issued` seal jobs have finished; fails if any seal failed.
    pub(super) async fn wait_for(&self, issued: u64) -> Result<()> {
        let mut progress = self.progress.subscribe();
        let failure = progress
            .wait_for(|p| p.completed >= issued || p.failure.is_some())
            .await
            .map(|p| p.failure.clone())
            .unwrap_or_else(|_| Some("seal tracker closed".to_owned()));
        match failure {
            None => Ok(()),
            Some(reason) => Err(StorageError::io(
                &self.dir,
                std::io::Error::other(format!(
                    "a closed segment could not be made durable: {reason}"
                )),
            )),
        }
    }

    /// Waits for every seal job started so far.
    pub(super) async fn wait_all(&self) -> Result<()> {
        self.wait_for(self.issued()).await
    }
}

impl Drop for SealTracker {
    fn drop(&mut self) {
        let mut registry = lock_registry();
        // Only if no newer tracker of the directory replaced this one.
        if registry
            .get(&self.dir)
            .is_some_and(|weak| weak.strong_count() == 0)
        {
            registry.remove(&self.dir);
        }
    }
}

fn lock_registry() -> std::sync::MutexGuard<'static, HashMap<PathBuf, Weak<SealTracker>>> {
    // Entries are replaced or removed whole: a panic elsewhere cannot leave one half-made.
    TRACKERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Records a job's outcome exactly once: normally at its end, or as a failure if the job
/// is dropped unfinished (its runtime shut down), so no waiter waits forever.
struct Completion {
    tracker: Arc<SealTracker>,
    sequence: u64,
    done: bool,
}

impl Completion {
    fn finish(&mut self, failure: Option<String>) {
        self.done = true;
        self.tracker.complete(self.sequence, failure);
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if !self.done {
            self.tracker
                .complete(self.sequence, Some("seal job cancelled".to_owned()));
        }
    }
}

/// Reads the recovery point. None when the file is missing: then only the last segment
/// is treated as unsynced, which every segment closed before this file existed satisfies.
/// Unreadable contents are treated the same way, with a warning: the file is replaced
/// atomically, so only outside damage garbles it, and rescanning every segment instead
/// would read a compacted segment's offset gap as lost data and cut the log there.
pub(super) fn read_recovery_point(dir: &Path) -> Result<Option<i64>> {
    let path = dir.join(RECOVERY_POINT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.trim().parse().map_or_else(
            |_| {
                warn!(path = %path.display(), "unreadable recovery point; trusting closed segments");
                None
            },
            Some,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StorageError::io(&path, e)),
    }
}

/// Replaces the recovery point file (write, fsync, rename, directory fsync) on a blocking
/// thread (it is a handful of small synchronous calls), or on this one outside a runtime.
pub(super) async fn write_recovery_point(dir: &Path, offset: i64) -> Result<()> {
    let path = dir.join(RECOVERY_POINT_FILE);
    let contents = format!("{offset}\n");
    if tokio::runtime::Handle::try_current().is_err() {
        return write_atomically(&path, contents.as_bytes());
    }
    tokio::task::spawn_blocking(move || write_atomically(&path, contents.as_bytes()))
        .await
        .map_err(|e| StorageError::io(dir, std::io::Error::other(e)))?
}

/// (device, inode) of a directory, if it can be read.
fn directory_identity(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(dir: &Path, next_base: i64) -> SealJob {
        let file = |name: &str| LogFile::open(dir.join(name), crate::io::OpenMode::Create).unwrap();
        SealJob {
            files: [file("a.log"), file("a.index"), file("a.timeindex")],
            next_base,
        }
    }

    #[tokio::test]
    async fn the_recovery_point_never_decreases_and_never_vouches_for_an_unsynced_segment() {
        let disk = Disk::start(crate::io::BackendChoice::Portable, 16).unwrap();
        let dir = tempfile::tempdir().unwrap();
        // A log with no file yet writes one at its first roll, for the closing segment.
        let fresh = SealTracker::new(dir.path(), None);
        let mode = fresh
            .prepare_roll(&disk, 0, &job(dir.path(), 40))
            .await
            .unwrap();
        assert_eq!(mode, SealMode::Background);
        assert_eq!(read_recovery_point(dir.path()).unwrap(), Some(0));
        assert_eq!(disk.stats().fdatasync_calls, 0);

        // After a truncation back into segment 50 of a log whose point is 100: rolling
        // segment 50 (ending at 80) syncs it at once and leaves the point alone.
        write_recovery_point(dir.path(), 100).await.unwrap();
        let tracker = SealTracker::new(dir.path(), Some(100));
        let mode = tracker
            .prepare_roll(&disk, 50, &job(dir.path(), 80))
            .await
            .unwrap();
        assert_eq!(mode, SealMode::Done);
        assert_eq!(disk.stats().fdatasync_calls, 3, "log and both indexes");
        assert_eq!(read_recovery_point(dir.path()).unwrap(), Some(100));
        // A segment extending past the point is left to a background seal.
        let mode = tracker
            .prepare_roll(&disk, 80, &job(dir.path(), 120))
            .await
            .unwrap();
        assert_eq!(mode, SealMode::Background);
        assert_eq!(read_recovery_point(dir.path()).unwrap(), Some(100));
    }

    /// Runs job `sequence` of `tracker` in a task, as [`SealTracker::start`] would.
    fn spawn_job(
        tracker: &Arc<SealTracker>,
        disk: &Disk,
        sequence: u64,
        job: SealJob,
    ) -> tokio::task::JoinHandle<()> {
        tracker.issued.fetch_max(sequence, Ordering::AcqRel);
        let completion = Completion {
            tracker: Arc::clone(tracker),
            sequence,
            done: false,
        };
        let (tracker, disk) = (Arc::clone(tracker), disk.clone());
        tokio::spawn(async move { tracker.run(&disk, completion, job).await })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn seals_record_their_outcome_in_order() {
        let disk = Disk::start(crate::io::BackendChoice::Portable, 16).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let tracker = Arc::new(SealTracker::new(dir.path(), Some(0)));
        // Job 2 syncs its (empty) files at once but must not vouch for segment 1's range
        // before job 1 has.
        let second = spawn_job(&tracker, &disk, 2, job(dir.path(), 200));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!second.is_finished());
        assert_eq!(tracker.progress.borrow().completed, 0);
        assert_eq!(read_recovery_point(dir.path()).unwrap(), None);
        spawn_job(&tracker, &disk, 1, job(dir.path(), 100))
            .await
            .unwrap();
        second.await.unwrap();
        tracker.wait_all().await.unwrap();
        assert_eq!(read_recovery_point(dir.path()).unwrap(), Some(200));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_seal_fails_every_later_wait_and_stops_the_recovery_point() {
        let disk = Disk::start(crate::io::BackendChoice::Portable, 16).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let tracker = Arc::new(SealTracker::new(dir.path(), Some(0)));
        // fdatasync of /dev/null fails (EINVAL): a stand-in for a disk error.
        let mut failing = job(dir.path(), 100);
        failing.files[0] = LogFile::open("/dev/null", crate::io::OpenMode::Existing).unwrap();
        spawn_job(&tracker, &disk, 1, failing).await.unwrap();
        spawn_job(&tracker, &disk, 2, job(dir.path(), 200))
            .await
            .unwrap();
        assert!(tracker.wait_for(1).await.is_err());
        assert!(tracker.wait_all().await.is_err());
        assert_eq!(read_recovery_point(dir.path()).unwrap(), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_seal_does_not_leave_waiters_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let tracker = Arc::new(SealTracker::new(dir.path(), Some(0)));
        tracker.issued.store(1, Ordering::Release);
        drop(Completion {
            tracker: Arc::clone(&tracker),
            sequence: 1,
            done: false,
        });
        assert!(tracker.wait_all().await.is_err());
    }

    /// A valid v2 batch of one record, encoded by kafka-protocol.
    fn one_record_batch() -> bytes::BytesMut {
        use kafka_protocol::records::{
            Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
        };
        let record = Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: 0,
            sequence: -1,
            timestamp: 1_700_000_000_000,
            key: None,
            value: Some(bytes::Bytes::from_static(b"value")),
            headers: indexmap::IndexMap::new(),
        };
        let mut batch = bytes::BytesMut::new();
        let options = RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        };
        RecordBatchEncoder::encode(&mut batch, &[record], &options).unwrap();
        batch
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn durable_appends_sync_close_and_compaction_wait_for_an_unfinished_seal() {
        use crate::{LogConfig, PartitionLog, SystemClock};
        let dir = tempfile::tempdir().unwrap();
        let disk = Disk::start(crate::io::BackendChoice::Portable, 16).unwrap();
        let log = Arc::new(
            PartitionLog::open(
                dir.path(),
                disk,
                LogConfig::default(),
                Arc::new(SystemClock),
            )
            .await
            .unwrap(),
        );
        // Each operation meets a seal that was issued but has not finished (as if its
        // fdatasync were slow), must wait for it, and goes on once it is recorded.
        type Operation = fn(Arc<PartitionLog>) -> tokio::task::JoinHandle<bool>;
        let operations: [(&str, Operation); 4] = [
            ("Fsync append", |log| {
                tokio::spawn(async move {
                    let appended = log.append(one_record_batch(), 0, crate::Durability::Fsync);
                    appended.await.is_ok()
                })
            }),
            ("sync", |log| {
                tokio::spawn(async move { log.sync().await.is_ok() })
            }),
            ("compact", |log| {
                tokio::spawn(async move { log.compact(0).await.is_ok() })
            }),
            ("close", |log| {
                tokio::spawn(async move { log.close().await.is_ok() })
            }),
        ];
        for (name, operation) in operations {
            let sequence = log.seals.issued.fetch_add(1, Ordering::AcqRel) + 1;
            let running = operation(Arc::clone(&log));
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            assert!(!running.is_finished(), "{name} did not wait for the seal");
            log.seals.complete(sequence, None);
            let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), running)
                .await
                .unwrap()
                .unwrap();
            assert!(outcome, "{name} failed");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reopening_a_dropped_log_waits_for_its_unfinished_seals() {
        use crate::{LogConfig, PartitionLog, SystemClock};
        let dir = tempfile::tempdir().unwrap();
        let disk = Disk::start(crate::io::BackendChoice::Portable, 16).unwrap();
        let open = {
            let (dir, disk) = (dir.path().to_path_buf(), disk.clone());
            move || {
                let (dir, disk) = (dir.clone(), disk.clone());
                async move {
                    PartitionLog::open(&dir, disk, LogConfig::default(), Arc::new(SystemClock))
                        .await
                }
            }
        };
        let log = open().await.unwrap();
        // An unfinished seal job holds the tracker, as a running one does.
        let job_tracker = Arc::clone(&log.seals);
        let sequence = job_tracker.issued.fetch_add(1, Ordering::AcqRel) + 1;
        drop(log);
        let reopening = tokio::spawn(open());
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(!reopening.is_finished());
        job_tracker.complete(sequence, None);
        let reopened = tokio::time::timeout(std::time::Duration::from_secs(10), reopening)
            .await
            .unwrap()
            .unwrap();
        assert!(reopened.is_ok());
    }

    #[tokio::test]
    async fn a_tracker_never_writes_into_a_replaced_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("topic-0");
        std::fs::create_dir(&dir).unwrap();
        let tracker = SealTracker::new(&dir, Some(0));
        // The topic is deleted (directory renamed away) and created again.
        std::fs::rename(&dir, root.path().join("topic-0.deleted")).unwrap();
        std::fs::create_dir(&dir).unwrap();
        assert!(tracker.write_point(100).await.is_err());
        assert_eq!(read_recovery_point(&dir).unwrap(), None);
    }

    #[test]
    fn an_unreadable_recovery_point_reads_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(RECOVERY_POINT_FILE), "garbage").unwrap();
        assert_eq!(read_recovery_point(dir.path()).unwrap(), None);
    }
}
