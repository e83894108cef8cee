//! `PartitionLog`: one partition's ordered log of batches, over a sequence of segments.
//!
//! State lives behind an async mutex held only for bookkeeping and page-cache writes;
//! fdatasync (group-committed by the [`Disk`]) and reads' file I/O happen outside it, so
//! concurrent `Fsync` appenders share fsyncs and readers do not stall writers. The log end
//! offset is also published on a `watch` channel so that fetches can wait for new data
//! without polling.
//!
//! Modules: [`recovery`] (open), [`append`], [`read`] (also timestamp lookups, MAX_TIMESTAMP
//! included), [`retention`] (deletion by time, size, log-start-offset advance, truncation),
//! [`compact`] (log compaction of closed segments, for `cleanup.policy=compact`), [`seal`]
//! (closed segments synced in the background, and the recovery point).

mod append;
mod compact;
mod read;
mod recovery;
mod retention;
mod seal;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::{watch, Mutex};

pub use append::{AppendInfo, Durability};
pub use compact::CompactionStats;
pub use read::{FileRegion, ReadResult, TimestampOffset, MAX_DECOMPRESSED_BATCH_BYTES};
pub use retention::RetentionOutcome;

use crate::clock::Clock;
use crate::config::LogConfig;
use crate::error::Result;
use crate::io::Disk;
use crate::leader_epoch::LeaderEpochCache;
use crate::segment::Segment;

/// One partition's log. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct PartitionLog {
    dir: PathBuf,
    disk: Disk,
    clock: Arc<dyn Clock>,
    state: Mutex<LogState>,
    /// The log end offset, for waiters (fetch long-polling) and lock-free reads.
    end_offset_tx: watch::Sender<i64>,
    /// Serialises compaction passes and remembers when the next one is due; never taken
    /// while `state` is held.
    cleaner: Mutex<compact::CleanerState>,
    /// Background syncs of closed segments, and the recovery point they advance.
    seals: Arc<seal::SealTracker>,
}

#[derive(Debug)]
struct LogState {
    config: LogConfig,
    /// Segments by base offset; the last one is the active segment. Never empty.
    segments: BTreeMap<i64, Segment>,
    log_start_offset: i64,
    epochs: LeaderEpochCache,
}

impl LogState {
    fn active(&self) -> Option<&Segment> {
        self.segments.values().next_back()
    }

    fn log_end_offset(&self) -> i64 {
        self.active()
            .map_or(self.log_start_offset, Segment::next_offset)
    }
}

impl PartitionLog {
    /// Opens (recovering if needed) or creates the log in `dir`.
    pub async fn open(
        dir: &Path,
        disk: Disk,
        config: LogConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<PartitionLog> {
        seal::SealTracker::wait_for_previous(dir).await;
        let (state, recovery_point) =
            recovery::open_state(dir, &disk, config, clock.now_ms()).await?;
        let (end_offset_tx, _) = watch::channel(state.log_end_offset());
        let seals = Arc::new(seal::SealTracker::new(dir, recovery_point));
        seal::SealTracker::register(&seals);
        Ok(PartitionLog {
            dir: dir.to_path_buf(),
            disk,
            clock,
            state: Mutex::new(state),
            end_offset_tx,
            cleaner: Mutex::new(compact::CleanerState::default()),
            seals,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// One past the last offset written.
    pub fn log_end_offset(&self) -> i64 {
        *self.end_offset_tx.borrow()
    }

    /// The first offset still in the log.
    pub async fn log_start_offset(&self) -> i64 {
        self.state.lock().await.log_start_offset
    }

    /// Watches the log end offset (fetch long-polling waits on this).
    pub fn subscribe_end_offset(&self) -> watch::Receiver<i64> {
        self.end_offset_tx.subscribe()
    }

    /// Total bytes of all segments.
    pub async fn size_bytes(&self) -> u64 {
        self.state
            .lock()
            .await
            .segments
            .values()
            .map(Segment::size_bytes)
            .sum()
    }

    pub async fn segment_count(&self) -> usize {
        self.state.lock().await.segments.len()
    }

    pub async fn config(&self) -> LogConfig {
        self.state.lock().await.config.clone()
    }

    /// Applies new settings (AlterConfigs); they take effect from the next append.
    pub async fn set_config(&self, config: LogConfig) {
        self.state.lock().await.config = config;
    }

    /// The leader epochs recorded so far (epoch, first offset).
    pub async fn leader_epochs(&self) -> Vec<crate::leader_epoch::EpochEntry> {
        self.state.lock().await.epochs.entries().to_vec()
    }

    /// Makes the log's state complete on disk, as Kafka's clean close does: the active
    /// segment's in-memory index entries and a final time-index entry for its largest
    /// timestamp are written, and log and indexes are fdatasynced, after the background
    /// seals of closed segments. The log stays usable; a later restart then has nothing to
    /// rescan.
    pub async fn close(&self) -> Result<()> {
        let mut state = self.state.lock().await;
        self.seals.wait_all().await?;
        match state.segments.values_mut().next_back() {
            Some(active) => active.seal(&self.disk).await,
            None => Ok(()),
        }
    }

    /// Waits until everything appended so far is durable: a group-committed fdatasync of
    /// the active segment, and the background seals of the segments closed before it.
    /// Used to make a `PageCache` append durable after locks held around it are released.
    pub async fn sync(&self) -> Result<()> {
        let (file, seals_issued) = {
            let state = self.state.lock().await;
            match state.active() {
                Some(active) => (active.log_file().clone(), self.seals.issued()),
                None => return Ok(()),
            }
        };
        self.sync_appended(&file, seals_issued).await
    }

    /// The durable half of an append: fdatasync of the segment it went to, then the seals
    /// issued before it (the segments before that one).
    async fn sync_appended(&self, file: &crate::io::LogFile, seals_issued: u64) -> Result<()> {
        self.disk
            .sync_data(file)
            .await
            .map_err(|e| crate::error::StorageError::io(file.path(), e))?;
        self.seals.wait_for(seals_issued).await
    }

    /// Visits the header of every batch holding offsets at or after `from_offset`, oldest
    /// first (start-up rebuild of state derived from batches, such as producer sequences,
    /// from the offset of its last snapshot).
    pub async fn visit_headers_from(
        &self,
        from_offset: i64,
        mut visit: impl FnMut(&petrel_protocol::records::BatchHeader),
    ) -> Result<()> {
        // Segments that may hold offsets >= from_offset: the one containing it and after.
        let files: Vec<_> = {
            let state = self.state.lock().await;
            let first = state
                .segments
                .range(..=from_offset)
                .next_back()
                .map_or(i64::MIN, |(base, _)| *base);
            state
                .segments
                .range(first..)
                .map(|(_, segment)| (segment.log_file().clone(), segment.size_bytes()))
                .collect()
        };
        for (file, size) in files {
            crate::scan::scan(&self.disk, &file, 0, size, false, |batch| {
                let header = &batch.header;
                if header.base_offset + i64::from(header.last_offset_delta) >= from_offset {
                    visit(header);
                }
                std::ops::ControlFlow::Continue(())
            })
            .await?;
        }
        Ok(())
    }

    /// Publishes a new log end offset; callers hold the state lock, so publications happen
    /// in the order the log changed.
    fn publish_end_offset(&self, end_offset: i64) {
        self.end_offset_tx.send_replace(end_offset);
    }
}
