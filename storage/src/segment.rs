//! One segment: `<base>.log` with its `<base>.index` and `<base>.timeindex`.
//!
//! The segment knows its valid size, next offset and largest timestamp; it appends
//! batches that already carry their final offsets, and keeps the sparse indexes up to date
//! (an entry after every `index_interval_bytes`, naming the batch's last offset and its
//! start position, as Kafka does). Index bytes are written beside the log bytes without
//! fsync: indexes are rebuilt from the log by recovery if a crash tears them.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::error::{Result, StorageError};
use crate::index::{OffsetIndex, TimeIndex};
use crate::io::{Disk, LogFile, OpenMode};

/// Index bytes held in memory before they are written (about 2 MiB of log at the default
/// `index.interval.bytes`): bounds both the writes per append and recovery's rescan.
pub const INDEX_FLUSH_BYTES: u64 = 4096;

/// The file name stem of a segment: its base offset, zero-padded to 20 digits.
pub fn file_stem(base_offset: i64) -> String {
    format!("{base_offset:020}")
}

/// Parses `<20 digits>.log` into a base offset.
pub fn base_offset_of(file_name: &str) -> Option<i64> {
    let stem = file_name.strip_suffix(".log")?;
    (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit())).then(|| stem.parse().ok())?
}

/// Where an appended batch went, for index upkeep.
#[derive(Debug, Clone, Copy)]
pub struct AppendedBatch {
    pub last_offset: i64,
    pub max_timestamp_ms: i64,
    pub bytes: u64,
}

#[derive(Debug)]
pub struct Segment {
    pub base_offset: i64,
    dir: PathBuf,
    /// Appended to every file name: empty for a live segment, `.cleaned` for one that
    /// compaction is writing (see `log/compact.rs`).
    suffix: &'static str,
    pub(crate) log: LogFile,
    index_file: LogFile,
    time_index_file: LogFile,
    pub(crate) index: OffsetIndex,
    pub(crate) time_index: TimeIndex,
    /// Bytes of whole, valid batches in the log file.
    pub(crate) size_bytes: u64,
    /// One past the last offset in this segment (== base_offset when empty).
    pub(crate) next_offset: i64,
    /// Largest batch max-timestamp seen, and the last offset of that batch (-1 if none).
    pub(crate) max_timestamp_ms: i64,
    pub(crate) offset_of_max_timestamp: i64,
    /// Log bytes appended since the last offset-index entry.
    pub(crate) bytes_since_index_entry: u64,
    /// Bytes of each index already written to its file; entries beyond are in memory only
    /// until [`INDEX_FLUSH_BYTES`] accumulate or the segment is sealed.
    index_persisted_bytes: u64,
    time_index_persisted_bytes: u64,
    /// `index.interval.bytes` of the log this segment belongs to.
    pub(crate) index_interval_bytes: u64,
    /// When the segment was created (for `segment.ms` rolls).
    pub(crate) created_ms: i64,
}

impl Segment {
    /// The log, offset-index and time-index paths of a segment, each ending in `suffix`.
    pub(crate) fn paths_with_suffix(dir: &Path, base_offset: i64, suffix: &str) -> [PathBuf; 3] {
        let stem = file_stem(base_offset);
        [
            dir.join(format!("{stem}.log{suffix}")),
            dir.join(format!("{stem}.index{suffix}")),
            dir.join(format!("{stem}.timeindex{suffix}")),
        ]
    }

    fn paths(dir: &Path, base_offset: i64) -> [PathBuf; 3] {
        Self::paths_with_suffix(dir, base_offset, "")
    }

    /// Creates an empty segment whose files carry `suffix` (compaction's `.cleaned`
    /// output, which recovery discards if it finds it). Otherwise as [`Segment::create`].
    pub(crate) async fn create_with_suffix(
        dir: &Path,
        base_offset: i64,
        disk: &Disk,
        now_ms: i64,
        index_interval_bytes: u64,
        suffix: &'static str,
    ) -> Result<Segment> {
        let [log_path, index_path, time_path] = Self::paths_with_suffix(dir, base_offset, suffix);
        let open = |path: &Path| -> Result<LogFile> {
            let file =
                LogFile::open(path, OpenMode::Create).map_err(|e| StorageError::io(path, e))?;
            file.set_len(0).map_err(|e| StorageError::io(path, e))?;
            Ok(file)
        };
        let segment = Segment {
            base_offset,
            dir: dir.to_path_buf(),
            suffix,
            log: open(&log_path)?,
            index_file: open(&index_path)?,
            time_index_file: open(&time_path)?,
            index: OffsetIndex::new(base_offset),
            time_index: TimeIndex::new(base_offset),
            size_bytes: 0,
            next_offset: base_offset,
            max_timestamp_ms: -1,
            offset_of_max_timestamp: -1,
            bytes_since_index_entry: 0,
            index_persisted_bytes: 0,
            time_index_persisted_bytes: 0,
            index_interval_bytes,
            created_ms: now_ms,
        };
        disk.sync_dir(dir)
            .await
            .map_err(|e| StorageError::io(dir, e))?;
        Ok(segment)
    }

    /// Creates a new, empty segment (its files must not exist yet, except leftovers of a
    /// crash during an earlier creation, which are emptied).
    pub async fn create(
        dir: &Path,
        base_offset: i64,
        disk: &Disk,
        now_ms: i64,
        index_interval_bytes: u64,
    ) -> Result<Segment> {
        Self::create_with_suffix(dir, base_offset, disk, now_ms, index_interval_bytes, "").await
    }

    /// Opens the files of an existing segment. Its indexes are loaded but not trusted
    /// further than [`OffsetIndex::decode`] checks; recovery decides what to rescan.
    pub(crate) async fn open_files(
        dir: &Path,
        base_offset: i64,
        disk: &Disk,
        now_ms: i64,
        index_interval_bytes: u64,
    ) -> Result<(Segment, bool)> {
        let [log_path, index_path, time_path] = Self::paths(dir, base_offset);
        let log = LogFile::open(&log_path, OpenMode::Existing)
            .map_err(|e| StorageError::io(&log_path, e))?;
        let log_bytes = log.len().map_err(|e| StorageError::io(&log_path, e))?;
        let index_file = LogFile::open(&index_path, OpenMode::Create)
            .map_err(|e| StorageError::io(&index_path, e))?;
        let time_index_file = LogFile::open(&time_path, OpenMode::Create)
            .map_err(|e| StorageError::io(&time_path, e))?;
        let index_bytes = read_whole(disk, &index_file).await?;
        let time_bytes = read_whole(disk, &time_index_file).await?;
        let (index, index_valid) = OffsetIndex::decode(base_offset, &index_bytes, log_bytes);
        let (time_index, time_valid) = TimeIndex::decode(base_offset, &time_bytes, i64::MAX);
        let indexes_valid = index_valid && (time_valid || time_bytes.is_empty());
        let (index_persisted_bytes, time_index_persisted_bytes) =
            (index.file_bytes(), time_index.file_bytes());
        let segment = Segment {
            base_offset,
            dir: dir.to_path_buf(),
            suffix: "",
            log,
            index_file,
            time_index_file,
            index,
            time_index,
            size_bytes: log_bytes,
            next_offset: base_offset,
            max_timestamp_ms: -1,
            offset_of_max_timestamp: -1,
            bytes_since_index_entry: 0,
            index_persisted_bytes,
            time_index_persisted_bytes,
            index_interval_bytes,
            created_ms: now_ms,
        };
        Ok((segment, indexes_valid))
    }

    pub fn is_empty(&self) -> bool {
        self.size_bytes == 0
    }

    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    pub fn max_timestamp_ms(&self) -> i64 {
        self.max_timestamp_ms
    }

    pub fn log_file(&self) -> &LogFile {
        &self.log
    }

    /// Appends batches whose offsets are final. `batches` describes each batch of `bytes`
    /// in order. Index entries are added in memory; their bytes are written beside the log
    /// write once [`INDEX_FLUSH_BYTES`] have accumulated, so a small append costs one write.
    pub async fn append(
        &mut self,
        disk: &Disk,
        bytes: Bytes,
        batches: &[AppendedBatch],
    ) -> Result<()> {
        let start = self.size_bytes;
        let mut position = start;
        for batch in batches {
            if batch.max_timestamp_ms > self.max_timestamp_ms {
                self.max_timestamp_ms = batch.max_timestamp_ms;
                self.offset_of_max_timestamp = batch.last_offset;
            }
            if self.bytes_since_index_entry >= self.index_interval_bytes {
                self.add_index_entries(batch.last_offset, position);
            }
            self.bytes_since_index_entry += batch.bytes;
            position += batch.bytes;
            self.next_offset = batch.last_offset + 1;
        }
        let pending = (self
            .index
            .file_bytes()
            .saturating_sub(self.index_persisted_bytes))
        .max(
            self.time_index
                .file_bytes()
                .saturating_sub(self.time_index_persisted_bytes),
        );
        let log_write = disk.write_at(&self.log, start, bytes);
        if pending >= INDEX_FLUSH_BYTES {
            let (log_result, index_result) = tokio::join!(log_write, self.flush_indexes(disk));
            log_result.map_err(|e| StorageError::io(self.log.path(), e))?;
            index_result?;
            self.mark_indexes_persisted();
        } else {
            log_write
                .await
                .map_err(|e| StorageError::io(self.log.path(), e))?;
        }
        self.size_bytes = position;
        Ok(())
    }

    fn add_index_entries(&mut self, last_offset: i64, position: u64) {
        let Ok(position_u32) = u32::try_from(position) else {
            return;
        };
        if self.index.append(last_offset, position_u32).is_some() {
            self.bytes_since_index_entry = 0;
        }
        self.time_index
            .maybe_append(self.max_timestamp_ms, self.offset_of_max_timestamp);
    }

    /// Writes the index entries that exist only in memory.
    async fn flush_indexes(&self, disk: &Disk) -> Result<()> {
        let index_tail = self.index.encode_from(self.index_persisted_bytes);
        let time_tail = self.time_index.encode_from(self.time_index_persisted_bytes);
        let index_write = write_tail(
            disk,
            &self.index_file,
            self.index_persisted_bytes,
            index_tail,
        );
        let time_write = write_tail(
            disk,
            &self.time_index_file,
            self.time_index_persisted_bytes,
            time_tail,
        );
        let (index_result, time_result) = tokio::join!(index_write, time_write);
        index_result?;
        time_result
    }

    fn mark_indexes_persisted(&mut self) {
        self.index_persisted_bytes = self.index.file_bytes();
        self.time_index_persisted_bytes = self.time_index.file_bytes();
    }
}

impl Segment {
    /// Replaces both index files with the in-memory indexes (after recovery rebuilt or
    /// truncated them).
    pub(crate) async fn rewrite_indexes(&mut self, disk: &Disk) -> Result<()> {
        for (file, bytes) in [
            (&self.index_file, self.index.encode()),
            (&self.time_index_file, self.time_index.encode()),
        ] {
            let len = bytes.len() as u64;
            file.set_len(0)
                .map_err(|e| StorageError::io(file.path(), e))?;
            disk.write_at(file, 0, Bytes::from(bytes))
                .await
                .map_err(|e| StorageError::io(file.path(), e))?;
            file.set_len(len)
                .map_err(|e| StorageError::io(file.path(), e))?;
        }
        self.mark_indexes_persisted();
        Ok(())
    }

    /// Cuts the log at `position` (a batch boundary) whose first offset is `next_offset`,
    /// dropping index entries beyond it. Used for torn tails and truncate-to-offset.
    pub(crate) async fn truncate(
        &mut self,
        disk: &Disk,
        position: u64,
        next_offset: i64,
    ) -> Result<()> {
        self.log
            .set_len(position)
            .map_err(|e| StorageError::io(self.log.path(), e))?;
        disk.sync_data(&self.log)
            .await
            .map_err(|e| StorageError::io(self.log.path(), e))?;
        self.size_bytes = position;
        self.next_offset = next_offset;
        self.index.truncate_to(next_offset);
        self.index.truncate_to_position(position);
        self.time_index.truncate_to(next_offset);
        if self.offset_of_max_timestamp >= next_offset {
            // The batch holding the max timestamp is gone; the time index's last entry is
            // the best remaining bound without rescanning.
            let last = self.time_index.last();
            self.max_timestamp_ms = last.map_or(-1, |e| e.timestamp_ms);
            self.offset_of_max_timestamp = last.map_or(-1, |e| e.offset);
        }
        self.bytes_since_index_entry =
            position.saturating_sub(self.index.last().map_or(0, |e| u64::from(e.position)));
        self.rewrite_indexes(disk).await
    }

    /// Makes a segment that stops being the active one self-describing: a final time-index
    /// entry for its largest timestamp (so retention and timestamp lookups need no scan
    /// after a restart) and every index entry written. Nothing is synced: see
    /// [`Segment::sync_files`] and `log/seal.rs`.
    pub(crate) async fn finish_writes(&mut self, disk: &Disk) -> Result<()> {
        self.time_index
            .maybe_append(self.max_timestamp_ms, self.offset_of_max_timestamp);
        self.flush_indexes(disk).await?;
        self.mark_indexes_persisted();
        Ok(())
    }

    /// The log, offset-index and time-index files, in that order.
    pub(crate) fn files(&self) -> [LogFile; 3] {
        [
            self.log.clone(),
            self.index_file.clone(),
            self.time_index_file.clone(),
        ]
    }

    /// fdatasync of the log and both indexes.
    pub(crate) async fn sync_files(&self, disk: &Disk) -> Result<()> {
        sync_data_all(disk, &self.files()).await
    }

    /// [`Segment::finish_writes`], then [`Segment::sync_files`]: durable and
    /// self-describing before this returns.
    pub(crate) async fn seal(&mut self, disk: &Disk) -> Result<()> {
        self.finish_writes(disk).await?;
        self.sync_files(disk).await
    }

    /// Removes the segment's files. Open [`LogFile`] handles (file regions being sent)
    /// keep working: the inode lives until the last handle closes.
    pub(crate) async fn delete(&self, disk: &Disk) -> Result<()> {
        remove_files_and_sync_dir(
            &self.dir,
            &Self::paths_with_suffix(&self.dir, self.base_offset, self.suffix),
            disk,
        )
        .await
    }

    /// Removes the files of the (unopened) segment based at `base_offset` in `dir`.
    pub(crate) async fn delete_files(dir: &Path, base_offset: i64, disk: &Disk) -> Result<()> {
        remove_files_and_sync_dir(dir, &Self::paths(dir, base_offset), disk).await
    }
}

/// fdatasync of each file in turn, stopping at the first failure.
pub(crate) async fn sync_data_all(disk: &Disk, files: &[LogFile]) -> Result<()> {
    for file in files {
        disk.sync_data(file)
            .await
            .map_err(|e| StorageError::io(file.path(), e))?;
    }
    Ok(())
}

/// Removes `paths` (missing ones are fine), then syncs `dir` so the removal is durable.
async fn remove_files_and_sync_dir(dir: &Path, paths: &[PathBuf], disk: &Disk) -> Result<()> {
    for path in paths {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StorageError::io(path, e)),
        }
    }
    disk.sync_dir(dir)
        .await
        .map_err(|e| StorageError::io(dir, e))
}

/// Writes `bytes` at `position` of an index file (nothing if empty).
async fn write_tail(disk: &Disk, file: &LogFile, position: u64, bytes: Vec<u8>) -> Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    disk.write_at(file, position, Bytes::from(bytes))
        .await
        .map_err(|e| StorageError::io(file.path(), e))
}

/// Reads a whole (small) file.
pub(crate) async fn read_whole(disk: &Disk, file: &LogFile) -> Result<Bytes> {
    let len = file.len().map_err(|e| StorageError::io(file.path(), e))?;
    let len = usize::try_from(len).map_err(|_| StorageError::Corrupt {
        path: file.path().display().to_string(),
        reason: "file too large".into(),
    })?;
    disk.read_at(file, 0, len)
        .await
        .map_err(|e| StorageError::io(file.path(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: index entries written by a flush must count as persisted, or every later
    /// append rewrites the whole unflushed tail again (found by profiling the benchmark).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn flushed_index_entries_are_not_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let disk = Disk::start(crate::io::BackendChoice::Portable, 16).unwrap();
        let mut segment = Segment::create(dir.path(), 0, &disk, 0, 1).await.unwrap();
        let batch = AppendedBatch {
            last_offset: 0,
            max_timestamp_ms: 0,
            bytes: 100,
        };
        for n in 0..2000i64 {
            let b = AppendedBatch {
                last_offset: n,
                max_timestamp_ms: n,
                ..batch
            };
            segment
                .append(&disk, Bytes::from(vec![0u8; 100]), &[b])
                .await
                .unwrap();
            let pending = segment.index.file_bytes() - segment.index_persisted_bytes;
            assert!(
                pending < INDEX_FLUSH_BYTES + 8,
                "{pending} index bytes pending after append {n}"
            );
        }
        // 2000 log writes, plus one write per INDEX_FLUSH_BYTES of each index (8-byte offset
        // entries, 12-byte time entries). Before the fix every append past the first flush
        // rewrote both tails: about 6000 writes.
        let flushes = |entry_bytes: u64| 2000 * entry_bytes / INDEX_FLUSH_BYTES + 1;
        let writes = disk.stats().writes;
        assert!(writes <= 2000 + flushes(8) + flushes(12), "{writes} writes");
    }
}
