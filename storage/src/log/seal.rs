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
//!   of the segment that replaced the one it synced. It is lowered, synchronously, before
//!   a roll that would otherwise leave an unsynced closed segment below it (the first roll
//!   of a log, or the first after a truncation);
//! - the **seal sequence**: jobs are numbered and finish in order. `Fsync` appends and
//!   [`PartitionLog::sync`](super::PartitionLog::sync) wait for the jobs issued before
//!   them, so an acknowledged durable append is never behind an unsynced segment that a
//!   power loss could tear (recovery would cut everything after such a tear).
//!
//! A job that fails to sync marks the log failed: the recovery point stops advancing and
//! every later wait reports the error (Kafka takes the log directory offline).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex};

use tokio::sync::watch;
use tracing::warn;

use crate::error::{Result, StorageError};
use crate::io::{Disk, LogFile};
use crate::leader_epoch::write_atomically;

/// The recovery point's file in the partition directory.
pub(super) const RECOVERY_POINT_FILE: &str = "recovery-point";

/// Seal jobs of one partition log.
#[derive(Debug)]
pub(super) struct SealTracker {
    dir: PathBuf,
    /// Jobs started so far and the recovery point on disk (None: no file, which means the
    /// log never rolled since this file was introduced: every closed segment is synced).
    state: StdMutex<TrackerState>,
    progress: watch::Sender<Progress>,
}

#[derive(Debug)]
struct TrackerState {
    issued: u64,
    persisted_recovery_point: Option<i64>,
}

#[derive(Debug, Clone, Default)]
struct Progress {
    /// Jobs finished, in order (job n finishes only after job n - 1).
    completed: u64,
    /// Why an earlier seal failed; once set, no later seal succeeds.
    failure: Option<String>,
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
            state: StdMutex::new(TrackerState {
                issued: 0,
                persisted_recovery_point,
            }),
            progress: watch::channel(Progress::default()).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TrackerState> {
        // A panic while holding this lock cannot leave its two integers inconsistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The number of seal jobs started so far: pass it to [`SealTracker::wait_for`] to
    /// wait for every segment closed before this call.
    pub(super) fn issued(&self) -> u64 {
        self.lock().issued
    }

    /// Before rolling the segment based at `closing_base`: makes sure the recovery point
    /// on disk does not vouch for it (it will be closed but not yet synced).
    pub(super) async fn prepare_roll(&self, closing_base: i64) -> Result<()> {
        let persisted = self.lock().persisted_recovery_point;
        if persisted.is_some_and(|point| point <= closing_base) {
            return Ok(());
        }
        // Rare (first roll of the log, or the first after a truncation below the point);
        // no seal job is in flight that could write the file concurrently: jobs only
        // raise the point to a base that exists, and truncation waits for them first.
        write_recovery_point(&self.dir, closing_base).await?;
        self.lock().persisted_recovery_point = Some(closing_base);
        Ok(())
    }

    /// Starts the background seal of a closed segment. Called with the log's state lock
    /// held, so jobs are numbered in the order segments closed.
    pub(super) fn start(self: &Arc<Self>, disk: &Disk, job: SealJob) {
        let sequence = {
            let mut state = self.lock();
            state.issued += 1;
            state.issued
        };
        let tracker = Arc::clone(self);
        let disk = disk.clone();
        // Detached: the job owns clones of everything it needs, and its outcome is
        // observed through `progress`.
        drop(tokio::spawn(async move {
            tracker.run(&disk, sequence, job).await;
        }));
    }

    async fn run(&self, disk: &Disk, sequence: u64, job: SealJob) {
        // Syncs of consecutive seals may overlap; only their bookkeeping is ordered.
        let mut failure = None;
        for file in &job.files {
            if let Err(error) = disk.sync_data(file).await {
                failure = Some(format!("fdatasync of {}: {error}", file.path().display()));
                break;
            }
        }
        let mut progress = self.progress.subscribe();
        let earlier = progress
            .wait_for(|p| p.completed + 1 >= sequence)
            .await
            .map(|p| p.failure.clone());
        // The sender lives in `self`, so the wait cannot fail; treat it as a failure if
        // it ever does rather than vouching for unsynced data.
        let failure = match earlier {
            Ok(None) => failure,
            Ok(Some(earlier)) => Some(earlier),
            Err(_) => Some("seal tracker closed".to_owned()),
        };
        let failure = match failure {
            Some(failure) => Some(failure),
            None => match write_recovery_point(&self.dir, job.next_base).await {
                Ok(()) => {
                    self.lock().persisted_recovery_point = Some(job.next_base);
                    None
                }
                Err(error) => Some(error.to_string()),
            },
        };
        if let Some(reason) = &failure {
            warn!(dir = %self.dir.display(), %reason, "sealing a closed segment failed");
        }
        self.progress.send_modify(|p| {
            p.completed = sequence;
            if p.failure.is_none() {
                p.failure = failure;
            }
        });
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
            Some(reason) => Err(StorageError::Corrupt {
                path: self.dir.display().to_string(),
                reason: format!("a closed segment could not be made durable: {reason}"),
            }),
        }
    }

    /// Waits for every seal job started so far.
    pub(super) async fn wait_all(&self) -> Result<()> {
        self.wait_for(self.issued()).await
    }
}

/// Reads the recovery point. None when the file is missing: then only the last segment
/// is treated as unsynced, which every segment closed before this file existed satisfies.
/// Unreadable contents (it is written atomically, so only damage) vouch for nothing.
pub(super) fn read_recovery_point(dir: &Path) -> Result<Option<i64>> {
    let path = dir.join(RECOVERY_POINT_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.trim().parse().unwrap_or_else(|_| {
            warn!(path = %path.display(), "unreadable recovery point; rescanning every segment");
            i64::MIN
        }))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StorageError::io(&path, e)),
    }
}

/// Replaces the recovery point file (write, fsync, rename, directory fsync) on a blocking
/// thread: it is a handful of small synchronous calls.
pub(super) async fn write_recovery_point(dir: &Path, offset: i64) -> Result<()> {
    let path = dir.join(RECOVERY_POINT_FILE);
    let contents = format!("{offset}\n");
    tokio::task::spawn_blocking(move || write_atomically(&path, contents.as_bytes()))
        .await
        .map_err(|e| StorageError::io(dir, std::io::Error::other(e)))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_roll_lowers_the_recovery_point_only_when_it_would_vouch_for_the_closing_segment() {
        let dir = tempfile::tempdir().unwrap();
        // After a truncation back into segment 50, the point on disk is still 100.
        write_recovery_point(dir.path(), 100).await.unwrap();
        let tracker = SealTracker::new(dir.path(), Some(100));
        tracker.prepare_roll(50).await.unwrap();
        assert_eq!(read_recovery_point(dir.path()).unwrap(), Some(50));
        // A later roll of segment 60 is already covered (60 >= 50): nothing written.
        std::fs::remove_file(dir.path().join(RECOVERY_POINT_FILE)).unwrap();
        tracker.prepare_roll(60).await.unwrap();
        assert_eq!(read_recovery_point(dir.path()).unwrap(), None);
        // A log with no file yet writes one at its first roll.
        let fresh = tempfile::tempdir().unwrap();
        SealTracker::new(fresh.path(), None)
            .prepare_roll(0)
            .await
            .unwrap();
        assert_eq!(read_recovery_point(fresh.path()).unwrap(), Some(0));
    }

    #[test]
    fn unreadable_recovery_point_vouches_for_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(RECOVERY_POINT_FILE), "garbage").unwrap();
        assert_eq!(read_recovery_point(dir.path()).unwrap(), Some(i64::MIN));
    }
}
