//! Reading: whole batches from an offset, up to a byte limit and a visibility bound, as
//! file regions (open file + position + length) that the network layer sends with
//! sendfile, or copied into memory for connections that cannot use sendfile.
//!
//! Under the lock only a snapshot is taken (which files, where to start, how far they are
//! valid); the header scan runs outside it. A region holds its file open, so it stays
//! readable even if retention deletes the segment meanwhile.

use std::ops::ControlFlow;

use bytes::{Bytes, BytesMut};
use petrel_protocol::records::records;

use super::PartitionLog;
use crate::error::{Result, StorageError};
use crate::io::LogFile;
use crate::scan::{scan, ScanEnd};

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
    /// Within an uncompressed batch the exact record is found; for a compressed batch the
    /// batch's first offset and max timestamp are returned (finding the record would need
    /// decompression, which the produce/fetch work adds).
    pub async fn offset_for_timestamp(&self, timestamp_ms: i64) -> Result<Option<TimestampOffset>> {
        let view = {
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
            SegmentView {
                file: segment.log_file().clone(),
                start_position: u64::from(segment.index.lookup(from).position),
                size_bytes: segment.size_bytes(),
            }
        };
        let mut found = None;
        scan(
            &self.disk,
            &view.file,
            view.start_position,
            view.size_bytes,
            true,
            |batch| {
                if batch.header.max_timestamp < timestamp_ms {
                    return ControlFlow::Continue(());
                }
                found = Some(first_record_at_or_after(
                    &batch.header,
                    batch.bytes.as_deref(),
                    timestamp_ms,
                ));
                ControlFlow::Break(())
            },
        )
        .await?;
        Ok(found)
    }
}

fn first_record_at_or_after(
    header: &petrel_protocol::records::BatchHeader,
    bytes: Option<&[u8]>,
    timestamp_ms: i64,
) -> TimestampOffset {
    let batch_answer = TimestampOffset {
        offset: header.base_offset,
        timestamp_ms: header.max_timestamp,
    };
    let log_append_time =
        header.timestamp_type() == petrel_protocol::records::TimestampType::LogAppendTime;
    let Some(bytes) = bytes.filter(|_| {
        !log_append_time && header.compression() == petrel_protocol::records::Compression::None
    }) else {
        return batch_answer;
    };
    for record in records(bytes).flatten() {
        let record_timestamp = header.base_timestamp + record.timestamp_delta;
        if record_timestamp >= timestamp_ms {
            return TimestampOffset {
                offset: header.base_offset + i64::from(record.offset_delta),
                timestamp_ms: record_timestamp,
            };
        }
    }
    batch_answer
}
