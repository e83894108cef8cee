//! Reading: whole batches from an offset, up to a byte limit and a visibility bound, as
//! file regions (open file + position + length) that the network layer sends with
//! sendfile, or copied into memory for connections that cannot use sendfile.
//!
//! Under the lock only a snapshot is taken (which files, where to start, how far they are
//! valid); the header scan runs outside it. A region holds its file open, so it stays
//! readable even if retention deletes the segment meanwhile.
//!
//! Timestamp lookups (ListOffsets) also look inside batches, as Kafka does: the records of
//! a compressed batch are decompressed (off the async workers, within
//! [`MAX_DECOMPRESSED_BATCH_BYTES`]) to find the exact record.

use std::ops::ControlFlow;

use bytes::{Bytes, BytesMut};
use petrel_protocol::records::{
    decompress_records, records, BatchHeader, Compression, Record, RecordError, TimestampType,
};
use tracing::warn;

use super::PartitionLog;
use crate::error::{Result, StorageError};
use crate::io::LogFile;
use crate::scan::{scan, ScanEnd};
use crate::segment::Segment;

/// The most a timestamp lookup decompresses from one batch. Kafka has no such bound (it
/// streams the records); a fixed one keeps a crafted batch (a decompression bomb) from
/// taking the broker's memory. Compressed batches are at most `max.message.bytes` (1 MiB
/// by default) on disk, and real producer batches decompress to a few times that, far
/// below this. A batch past it is answered at batch level (see
/// [`PartitionLog::offset_for_timestamp`]).
pub const MAX_DECOMPRESSED_BATCH_BYTES: usize = 64 << 20;

/// A byte range of a segment file holding whole batches.
#[derive(Debug, Clone)]
pub struct FileRegion {
    pub file: LogFile,
    pub position: u64,
    pub len: u64,
}

/// The outcome of a read.
#[derive(Debug, Clone, Default)]
pub struct ReadResult {
    /// Regions in log order; empty when nothing is readable yet.
    pub regions: Vec<FileRegion>,
    /// Sum of the regions' lengths.
    pub bytes: u64,
    /// Offset after the last returned batch (the next fetch offset).
    pub next_offset: i64,
}

/// What a segment looked like when a read began.
struct SegmentView {
    file: LogFile,
    start_position: u64,
    size_bytes: u64,
}

/// A timestamp lookup's answer: the first offset whose timestamp is at or after the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampOffset {
    pub offset: i64,
    pub timestamp_ms: i64,
}

impl PartitionLog {
    /// Reads whole batches starting with the one holding `from`, up to `max_bytes`, and
    /// only batches that end before `visible_up_to` (the high-water mark for consumers, the
    /// log end for followers). With `min_one_batch`, the first batch is returned even if
    /// it is larger than `max_bytes`, so a consumer can always make progress (Kafka's rule).
    pub async fn read(
        &self,
        from: i64,
        max_bytes: u64,
        visible_up_to: i64,
        min_one_batch: bool,
    ) -> Result<ReadResult> {
        let views = self.views_from(from).await?;
        let mut result = ReadResult {
            regions: Vec::new(),
            bytes: 0,
            next_offset: from,
        };
        for view in views {
            let mut region: Option<(u64, u64)> = None;
            let mut full = false;
            let end = scan(
                &self.disk,
                &view.file,
                view.start_position,
                view.size_bytes,
                false,
                |batch| {
                    let last_offset = batch.header.last_offset();
                    if last_offset < from {
                        return ControlFlow::Continue(());
                    }
                    let first_batch = result.bytes == 0 && region.is_none();
                    let fits =
                        result.bytes + region.map_or(0, |r| r.1) + batch.total_bytes <= max_bytes;
                    if last_offset >= visible_up_to || !(fits || (first_batch && min_one_batch)) {
                        full = true;
                        return ControlFlow::Break(());
                    }
                    region.get_or_insert((batch.position, 0)).1 += batch.total_bytes;
                    result.next_offset = last_offset + 1;
                    ControlFlow::Continue(())
                },
            )
            .await?;
            if let Some((position, len)) = region {
                result.bytes += len;
                result.regions.push(FileRegion {
                    file: view.file.clone(),
                    position,
                    len,
                });
            }
            if full || matches!(end, ScanEnd::Stopped) {
                break;
            }
        }
        Ok(result)
    }

    /// [`PartitionLog::read`], copied into memory (for TLS connections and tests).
    pub async fn read_to_memory(
        &self,
        from: i64,
        max_bytes: u64,
        visible_up_to: i64,
        min_one_batch: bool,
    ) -> Result<(Bytes, ReadResult)> {
        let result = self
            .read(from, max_bytes, visible_up_to, min_one_batch)
            .await?;
        let mut bytes = BytesMut::with_capacity(result.bytes as usize);
        for region in &result.regions {
            let chunk = self
                .disk
                .read_at(&region.file, region.position, region.len as usize)
                .await
                .map_err(|e| StorageError::io(region.file.path(), e))?;
            bytes.extend_from_slice(&chunk);
        }
        Ok((bytes.freeze(), result))
    }

    /// Snapshots the segments a read from `from` may touch, with start positions from the
    /// offset index. Refuses offsets outside [log start, log end].
    async fn views_from(&self, from: i64) -> Result<Vec<SegmentView>> {
        let state = self.state.lock().await;
        let log_end_offset = state.log_end_offset();
        if from < state.log_start_offset || from > log_end_offset {
            return Err(StorageError::OffsetOutOfRange {
                offset: from,
                log_start_offset: state.log_start_offset,
                log_end_offset,
            });
        }
        let first_base = state
            .segments
            .range(..=from)
            .next_back()
            .map_or(from, |(base, _)| *base);
        Ok(state
            .segments
            .range(first_base..)
            .map(|(base, segment)| SegmentView {
                file: segment.log_file().clone(),
                start_position: if *base == first_base {
                    u64::from(segment.index.lookup(from).position)
                } else {
                    0
                },
                size_bytes: segment.size_bytes(),
            })
            .collect())
    }

    /// The first offset whose record timestamp is at or after `timestamp_ms`, using the time
    /// index to skip ahead (ListOffsets by timestamp). None if every record is older.
    ///
    /// As Kafka's `FileRecords.searchForTimestamp`: in the first segment whose max timestamp
    /// reaches the target, the first record at or after the log start offset whose
    /// timestamp is at or after the target, looking into batches (decompressing compressed
    /// ones). Records of a LogAppendTime batch all carry its max timestamp, so there the
    /// first record at or after the log start offset is the answer, found without
    /// decompressing unless compaction left gaps in the batch's offsets.
    ///
    /// If a batch's records cannot be read (a compressed stream that fails to decompress,
    /// or exceeds the 64 MiB of `MAX_DECOMPRESSED_BATCH_BYTES`), the answer is the batch's
    /// first offset and max timestamp: a consumer seeking there misses no record at or after
    /// the target.
    pub async fn offset_for_timestamp(&self, timestamp_ms: i64) -> Result<Option<TimestampOffset>> {
        let (view, log_start_offset) = {
            let state = self.state.lock().await;
            let log_start_offset = state.log_start_offset;
            let Some(segment) = state
                .segments
                .values()
                .find(|s| s.max_timestamp_ms() >= timestamp_ms)
            else {
                return Ok(None);
            };
            let from = segment
                .time_index
                .lookup(timestamp_ms)
                .offset
                .max(log_start_offset);
            (
                SegmentView {
                    file: segment.log_file().clone(),
                    start_position: u64::from(segment.index.lookup(from).position),
                    size_bytes: segment.size_bytes(),
                },
                log_start_offset,
            )
        };
        let mut position = view.start_position;
        // A batch whose max timestamp reaches the target may still hold no record that
        // qualifies (all below the log start offset, or a max timestamp no record has): the
        // search then goes on with the next batch, as Kafka's does.
        while let Some(batch) = self
            .find_batch(&view, position, |header| {
                header.max_timestamp >= timestamp_ms && header.last_offset() >= log_start_offset
            })
            .await?
        {
            position = batch.end_position;
            if let Some(found) = batch
                .first_record_at_or_after(timestamp_ms, log_start_offset)
                .await
            {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// ListOffsets MAX_TIMESTAMP (-3): the largest timestamp in the log and the offset of
    /// the first record that has it, or None for a log without timestamps.
    ///
    /// As Kafka since KAFKA-16310 (3.7.1, 3.8; `UnifiedLog.fetchOffsetByTimestamp`): the
    /// first segment with the largest max timestamp, in it the first batch from the segment's
    /// `offset_of_max_timestamp` whose max timestamp is that, and in that batch the first
    /// record with that timestamp (`RecordBatch.offsetOfMaxTimestamp`, which decompresses).
    /// For a LogAppendTime batch that is its first record. Before that fix Kafka answered
    /// the last offset of the batch (the "shallow" offset the segment keeps); that is the
    /// answer here too when the batch's records cannot be read or none has its max
    /// timestamp (Kafka rewrites a produced batch's max timestamp from its records; Petrel
    /// keeps the producer's).
    pub async fn max_timestamp(&self) -> Result<Option<TimestampOffset>> {
        let (view, shallow) = {
            let state = self.state.lock().await;
            // Strictly greater replaces: on a tie the earliest segment wins, as in Kafka.
            let mut latest: Option<&Segment> = None;
            for segment in state
                .segments
                .values()
                .filter(|s| !s.is_empty() && s.max_timestamp_ms() >= 0)
            {
                if latest.is_none_or(|l| segment.max_timestamp_ms() > l.max_timestamp_ms()) {
                    latest = Some(segment);
                }
            }
            let Some(segment) = latest else {
                return Ok(None);
            };
            (
                SegmentView {
                    file: segment.log_file().clone(),
                    start_position: u64::from(
                        segment
                            .index
                            .lookup(segment.offset_of_max_timestamp)
                            .position,
                    ),
                    size_bytes: segment.size_bytes(),
                },
                TimestampOffset {
                    offset: segment.offset_of_max_timestamp,
                    timestamp_ms: segment.max_timestamp_ms(),
                },
            )
        };
        let max_timestamp_ms = shallow.timestamp_ms;
        let Some(batch) = self
            .find_batch(&view, view.start_position, |header| {
                header.max_timestamp == max_timestamp_ms
            })
            .await?
        else {
            return Ok(Some(shallow));
        };
        Ok(Some(
            batch.offset_of_max_timestamp().await.unwrap_or(shallow),
        ))
    }

    /// The first batch of `view`, from `position`, whose header satisfies `wanted`, with
    /// its bytes (the scan validates each batch's CRC and structure, as Kafka's reads of a
    /// segment do). None if no batch qualifies or the scan meets a damaged batch first.
    async fn find_batch(
        &self,
        view: &SegmentView,
        position: u64,
        wanted: impl Fn(&BatchHeader) -> bool,
    ) -> Result<Option<FoundBatch>> {
        let mut found = None;
        scan(
            &self.disk,
            &view.file,
            position,
            view.size_bytes,
            true,
            |batch| {
                if !wanted(&batch.header) {
                    return ControlFlow::Continue(());
                }
                found = Some(FoundBatch {
                    header: batch.header,
                    bytes: batch.bytes,
                    end_position: batch.position + batch.total_bytes,
                });
                ControlFlow::Break(())
            },
        )
        .await?;
        Ok(found)
    }
}

/// A batch a timestamp lookup stopped at.
struct FoundBatch {
    header: BatchHeader,
    /// The whole batch (present: [`PartitionLog::find_batch`] scans with validation).
    bytes: Option<Bytes>,
    /// Where the next batch starts.
    end_position: u64,
}

/// Why a batch's records could not be searched; the lookup then answers at batch level.
#[derive(Debug, thiserror::Error)]
enum SearchError {
    #[error("batch bytes were not read")]
    NoBytes,
    #[error(transparent)]
    Records(#[from] RecordError),
    #[error("decompression task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl FoundBatch {
    /// The first record at or after both `timestamp_ms` and `log_start_offset` (the batch's
    /// max timestamp is known to reach `timestamp_ms`), or None if no record qualifies.
    async fn first_record_at_or_after(
        self,
        timestamp_ms: i64,
        log_start_offset: i64,
    ) -> Option<TimestampOffset> {
        let header = self.header;
        // The batch's first offset still in the log (`find_batch` picked a batch that ends
        // at or after the log start). Without gaps it is a record's; with them it is at or
        // before the first remaining record, so a consumer seeking there misses nothing.
        let batch_answer = TimestampOffset {
            offset: header.base_offset.max(log_start_offset),
            timestamp_ms: header.max_timestamp,
        };
        if header.timestamp_type() == TimestampType::LogAppendTime && has_no_gaps(&header) {
            return Some(batch_answer);
        }
        match self
            .find_record(move |offset, timestamp| {
                timestamp >= timestamp_ms && offset >= log_start_offset
            })
            .await
        {
            Ok(found) => found,
            Err(error) => {
                warn!(
                    base_offset = header.base_offset,
                    %error,
                    "timestamp lookup cannot read the batch's records; answering with its first offset"
                );
                Some(batch_answer)
            }
        }
    }

    /// The offset of the first record holding the batch's max timestamp, or None if its
    /// records cannot be read or none holds it.
    async fn offset_of_max_timestamp(self) -> Option<TimestampOffset> {
        let header = self.header;
        let max_timestamp_ms = header.max_timestamp;
        if header.timestamp_type() == TimestampType::LogAppendTime && has_no_gaps(&header) {
            // Every record has the max timestamp, so the first record has it.
            return Some(TimestampOffset {
                offset: header.base_offset,
                timestamp_ms: max_timestamp_ms,
            });
        }
        match self
            .find_record(move |_, timestamp| timestamp == max_timestamp_ms)
            .await
        {
            Ok(found) => found,
            Err(error) => {
                warn!(
                    base_offset = header.base_offset,
                    %error,
                    "MAX_TIMESTAMP lookup cannot read the batch's records; answering with its last offset"
                );
                None
            }
        }
    }

    /// The offset and timestamp of the first record for which `wanted(offset, timestamp)`
    /// holds. Compressed batches are decompressed on the blocking pool: up to
    /// [`MAX_DECOMPRESSED_BATCH_BYTES`] of CPU work must not stall the async workers that
    /// serve every connection.
    async fn find_record(
        self,
        wanted: impl Fn(i64, i64) -> bool + Send + 'static,
    ) -> std::result::Result<Option<TimestampOffset>, SearchError> {
        let header = self.header;
        let bytes = self.bytes.ok_or(SearchError::NoBytes)?;
        if header.compression() == Compression::None {
            return Ok(first_match(&header, records(&bytes), &wanted)?);
        }
        let found = tokio::task::spawn_blocking(move || {
            let decompressed = decompress_records(&bytes, MAX_DECOMPRESSED_BATCH_BYTES)?;
            first_match(&header, decompressed.records(), &wanted)
        })
        .await??;
        Ok(found)
    }
}

/// Whether the batch holds a record for every offset it spans: always so for produced
/// batches; compaction keeps a batch's base and last offsets but drops records from it.
fn has_no_gaps(header: &BatchHeader) -> bool {
    header.records_count > 0
        && i64::from(header.last_offset_delta) + 1 == i64::from(header.records_count)
}

/// The first of `records` (of the batch `header` heads) for which `wanted(offset,
/// timestamp)` holds, with each record's timestamp as Kafka's record iterators give it (a
/// LogAppendTime batch's max timestamp for all its records). A record that does not parse
/// ends the search with its error.
fn first_match<'a>(
    header: &BatchHeader,
    records: impl Iterator<Item = std::result::Result<Record<'a>, RecordError>>,
    wanted: &impl Fn(i64, i64) -> bool,
) -> std::result::Result<Option<TimestampOffset>, RecordError> {
    for record in records {
        let record = record?;
        let offset = header
            .base_offset
            .saturating_add(i64::from(record.offset_delta));
        let timestamp_ms = match header.timestamp_type() {
            TimestampType::LogAppendTime => header.max_timestamp,
            TimestampType::CreateTime => {
                header.base_timestamp.saturating_add(record.timestamp_delta)
            }
        };
        if wanted(offset, timestamp_ms) {
            return Ok(Some(TimestampOffset {
                offset,
                timestamp_ms,
            }));
        }
    }
    Ok(None)
}
