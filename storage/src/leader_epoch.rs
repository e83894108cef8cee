//! The per-partition leader-epoch cache and its `leader-epoch-checkpoint` file, in
//! Kafka's format:
//!
//! ```text
//! 0            <- format version
//! 2            <- number of entries
//! 0 0          <- epoch, first offset written in that epoch
//! 3 1500
//! ```
//! Replication uses it to answer "where did epoch E end?" (OffsetForLeaderEpoch) and to
//! truncate followers after a leader change. It changes only when a new epoch's first
//! batch is appended or the log is truncated, so it is written synchronously, atomically
//! (temp file, fsync, rename, directory fsync).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Result, StorageError};

pub const CHECKPOINT_FILE: &str = "leader-epoch-checkpoint";

/// One epoch and the first offset written in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochEntry {
    pub epoch: i32,
    pub start_offset: i64,
}

/// The epochs of one partition, oldest first, strictly increasing in both fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderEpochCache {
    path: PathBuf,
    entries: Vec<EpochEntry>,
}

impl LeaderEpochCache {
    /// Loads the checkpoint in `partition_dir`. A missing file is an empty cache; a garbled
    /// one is an error, and the caller rebuilds the cache from the batches' partition
    /// leader epochs.
    pub fn load(partition_dir: &Path) -> Result<LeaderEpochCache> {
        let path = partition_dir.join(CHECKPOINT_FILE);
        let entries = match fs::read_to_string(&path) {
            Ok(text) => parse(&text).ok_or_else(|| StorageError::Corrupt {
                path: path.display().to_string(),
                reason: "not a leader-epoch checkpoint".into(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(StorageError::io(&path, e)),
        };
        Ok(LeaderEpochCache { path, entries })
    }

    /// An empty cache for `partition_dir` (used when rebuilding from the log).
    pub fn empty(partition_dir: &Path) -> LeaderEpochCache {
        LeaderEpochCache {
            path: partition_dir.join(CHECKPOINT_FILE),
            entries: Vec::new(),
        }
    }

    pub fn entries(&self) -> &[EpochEntry] {
        &self.entries
    }

    pub fn latest(&self) -> Option<EpochEntry> {
        self.entries.last().copied()
    }

    /// Records that `epoch` began at `start_offset`, if it is newer than the latest.
    /// Returns whether the cache changed (then it must be saved).
    pub fn assign(&mut self, epoch: i32, start_offset: i64) -> bool {
        if epoch < 0 {
            return false;
        }
        let newer = self
            .latest()
            .is_none_or(|last| epoch > last.epoch && start_offset >= last.start_offset);
        if newer {
            // An earlier epoch that began at this same offset wrote nothing: replace it.
            if self
                .latest()
                .is_some_and(|last| last.start_offset == start_offset)
            {
                self.entries.pop();
            }
            self.entries.push(EpochEntry {
                epoch,
                start_offset,
            });
        }
        newer
    }

    /// The log was truncated to end before `end_offset`: forget epochs starting at or after it.
    pub fn truncate_from_end(&mut self, end_offset: i64) -> bool {
        let keep = self
            .entries
            .partition_point(|e| e.start_offset < end_offset);
        let changed = keep < self.entries.len();
        self.entries.truncate(keep);
        changed
    }

    /// The log now starts at `start_offset`: drop epochs wholly before it, and move the
    /// start of the one containing it.
    pub fn truncate_from_start(&mut self, start_offset: i64) -> bool {
        let first_after = self
            .entries
            .partition_point(|e| e.start_offset <= start_offset);
        let Some(containing) = first_after.checked_sub(1) else {
            return false;
        };
        let changed = containing > 0
            || self
                .entries
                .get(containing)
                .is_some_and(|e| e.start_offset != start_offset);
        self.entries.drain(..containing);
        if let Some(first) = self.entries.first_mut() {
            first.start_offset = start_offset;
        }
        changed
    }

    /// Writes the checkpoint atomically.
    pub fn save(&self) -> Result<()> {
        let mut text = format!("0\n{}\n", self.entries.len());
        for entry in &self.entries {
            text.push_str(&format!("{} {}\n", entry.epoch, entry.start_offset));
        }
        write_atomically(&self.path, text.as_bytes())
    }
}

fn parse(text: &str) -> Option<Vec<EpochEntry>> {
    let mut lines = text.lines();
    if lines.next()?.trim() != "0" {
        return None;
    }
    let count: usize = lines.next()?.trim().parse().ok()?;
    let entries: Vec<EpochEntry> = lines
        .take(count)
        .map(|line| {
            let mut fields = line.split_whitespace();
            Some(EpochEntry {
                epoch: fields.next()?.parse().ok()?,
                start_offset: fields.next()?.parse().ok()?,
            })
        })
        .collect::<Option<_>>()?;
    (entries.len() == count).then_some(entries)
}

/// Writes `path` so a crash leaves the old or the new content, whole. Each call writes
/// its own temporary file (`<name>.<n>.tmp`; opening a log removes leftovers), so two
/// writers of the same file cannot rename each other's half-written copy: a background
/// seal of a log that was dropped without `close` may still be writing the recovery point
/// when the log is opened again.
pub(crate) fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    static NEXT_TMP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT_TMP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".{n}.tmp"));
    let tmp = path.with_file_name(tmp_name);
    let io = |e| StorageError::io(path, e);
    let mut file = File::create(&tmp).map_err(io)?;
    file.write_all(contents).map_err(io)?;
    file.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assign_truncate_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = LeaderEpochCache::load(dir.path()).unwrap();
        assert!(cache.assign(0, 0));
        assert!(!cache.assign(0, 10), "same epoch again is not a change");
        assert!(cache.assign(2, 100));
        assert!(cache.assign(5, 300));
        cache.save().unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(CHECKPOINT_FILE)).unwrap(),
            "0\n3\n0 0\n2 100\n5 300\n"
        );
        let loaded = LeaderEpochCache::load(dir.path()).unwrap();
        assert_eq!(loaded, cache);

        let mut cache = loaded;
        assert!(cache.truncate_from_end(300));
        assert_eq!(
            cache.latest(),
            Some(EpochEntry {
                epoch: 2,
                start_offset: 100
            })
        );
        assert!(cache.truncate_from_start(150));
        assert_eq!(
            cache.entries(),
            &[EpochEntry {
                epoch: 2,
                start_offset: 150
            }]
        );
    }

    #[test]
    fn a_garbled_checkpoint_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CHECKPOINT_FILE), "0\n2\n1 5\n").unwrap();
        assert!(matches!(
            LeaderEpochCache::load(dir.path()),
            Err(StorageError::Corrupt { .. })
        ));
    }
}
