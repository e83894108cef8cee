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
    /// `index.interval.bytes` of the log this segment belongs to.
    pub(crate) index_interval_bytes: u64,
    /// When the segment was created (for `segment.ms` rolls).
    pub(crate) created_ms: i64,
}

impl Segment {
    fn paths(dir: &Path, base_offset: i64) -> [PathBuf; 3] {
        let stem = file_stem(base_offset);
        [
            dir.join(format!("{stem}.log")),
            dir.join(format!("{stem}.index")),
            dir.join(format!("{stem}.timeindex")),
        ]
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
        let [log_path, index_path, time_path] = Self::paths(dir, base_offset);
        let open = |path: &Path| -> Result<LogFile> {
            let file =
                LogFile::open(path, OpenMode::Create).map_err(|e| StorageError::io(path, e))?;
            file.set_len(0).map_err(|e| StorageError::io(path, e))?;
            Ok(file)
        };
        let segment = Segment {
            base_offset,
            dir: dir.to_path_buf(),
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
            index_interval_bytes,
            created_ms: now_ms,
        };
        disk.sync_dir(dir)
            .await
            .map_err(|e| StorageError::io(dir, e))?;
        Ok(segment)
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
        let segment = Segment {
            base_offset,
            dir: dir.to_path_buf(),
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
    /// in order. The log bytes and any new index entries are written together.
    pub async fn append(
        &mut self,
        disk: &Disk,
        bytes: Bytes,
        batches: &[AppendedBatch],
    ) -> Result<()> {
        let start = self.size_bytes;
        let mut position = start;
        let mut index_writes = Vec::new();
        let mut time_writes = Vec::new();
        for batch in batches {
            if batch.max_timestamp_ms > self.max_timestamp_ms {
                self.max_timestamp_ms = batch.max_timestamp_ms;
                self.offset_of_max_timestamp = batch.last_offset;
            }
            if self.bytes_since_index_entry >= self.index_interval_bytes {
                self.add_index_entries(
                    batch.last_offset,
                    position,
                    &mut index_writes,
                    &mut time_writes,
                );
            }
            self.bytes_since_index_entry += batch.bytes;
            position += batch.bytes;
            self.next_offset = batch.last_offset + 1;
        }
        let log_write = disk.write_at(&self.log, start, bytes);
        let index_write = write_entries(disk, &self.index_file, index_writes);
        let time_write = write_entries(disk, &self.time_index_file, time_writes);
        let (log_result, index_result, time_result) =
            tokio::join!(log_write, index_write, time_write);
        log_result.map_err(|e| StorageError::io(self.log.path(), e))?;
        index_result?;
        time_result?;
        self.size_bytes = position;
        Ok(())
    }

    fn add_index_entries(
        &mut self,
        last_offset: i64,
        position: u64,
        index_writes: &mut Vec<(u64, Vec<u8>)>,
        time_writes: &mut Vec<(u64, Vec<u8>)>,
    ) {
        let Ok(position_u32) = u32::try_from(position) else {
            return;
        };
        let index_at = self.index.file_bytes();
        if let Some(entry) = self.index.append(last_offset, position_u32) {
            index_writes.push((index_at, entry.to_vec()));
            self.bytes_since_index_entry = 0;
        }
        let time_at = self.time_index.file_bytes();
        if let Some(entry) = self
            .time_index
            .maybe_append(self.max_timestamp_ms, self.offset_of_max_timestamp)
        {
            time_writes.push((time_at, entry.to_vec()));
        }
    }
}

impl Segment {
    /// Replaces both index files with the in-memory indexes (after recovery rebuilt or
    /// truncated them).
    pub(crate) async fn rewrite_indexes(&self, disk: &Disk) -> Result<()> {
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

    /// Makes a segment that stops being the active one durable and self-describing: a final
    /// time-index entry for its largest timestamp (so retention and timestamp lookups need
    /// no scan after a restart), then fdatasync of the log and both indexes.
    pub(crate) async fn seal(&mut self, disk: &Disk) -> Result<()> {
        let time_at = self.time_index.file_bytes();
        if let Some(entry) = self
            .time_index
            .maybe_append(self.max_timestamp_ms, self.offset_of_max_timestamp)
        {
            disk.write_at(
                &self.time_index_file,
                time_at,
                Bytes::copy_from_slice(&entry),
            )
            .await
            .map_err(|e| StorageError::io(self.time_index_file.path(), e))?;
        }
        for file in [&self.log, &self.index_file, &self.time_index_file] {
            disk.sync_data(file)
                .await
                .map_err(|e| StorageError::io(file.path(), e))?;
        }
        Ok(())
    }

    /// Removes the segment's files. Open [`LogFile`] handles (file regions being sent)
    /// keep working: the inode lives until the last handle closes.
    pub(crate) async fn delete(&self, disk: &Disk) -> Result<()> {
        for path in Self::paths(&self.dir, self.base_offset) {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StorageError::io(&path, e)),
            }
        }
        disk.sync_dir(&self.dir)
            .await
            .map_err(|e| StorageError::io(&self.dir, e))
    }
}

/// Writes index entries (each at its own position; contiguous in practice).
async fn write_entries(disk: &Disk, file: &LogFile, entries: Vec<(u64, Vec<u8>)>) -> Result<()> {
    let Some((first_position, _)) = entries.first() else {
        return Ok(());
    };
    let first_position = *first_position;
    let bytes: Vec<u8> = entries.into_iter().flat_map(|(_, b)| b).collect();
    disk.write_at(file, first_position, Bytes::from(bytes))
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
