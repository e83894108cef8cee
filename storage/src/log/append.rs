//! Appending batches: offsets are assigned by patching `baseOffset` and
//! `partitionLeaderEpoch` in place (neither is covered by the CRC), LogAppendTime is stamped
//! if configured, the active segment rolls by size or age, and with `Durability::Fsync` the
//! call completes only after a (group-committed) fdatasync covering the write.

use bytes::BytesMut;
use petrel_protocol::records::{
    set_base_offset, set_log_append_time, set_partition_leader_epoch, BatchIter,
};

use super::{LogState, PartitionLog};
use crate::config::TimestampType;
use crate::error::{Result, StorageError};
use crate::segment::{AppendedBatch, Segment};

/// When an append is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// After fdatasync: survives power loss.
    Fsync,
    /// After the write reached the page cache: survives a process crash, not power loss.
    PageCache,
}

/// What an append did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    /// Offset given to the first record.
    pub base_offset: i64,
    /// Offset of the last record.
    pub last_offset: i64,
    /// The broker time stamped on the batches, when `message.timestamp.type` is LogAppendTime.
    pub log_append_time_ms: Option<i64>,
    pub log_start_offset: i64,
}

impl PartitionLog {
    /// Appends one or more validated v2 batches (validation with CRC is the caller's job:
    /// `petrel_protocol::records::validate_batch`, which maps failures to Kafka error codes).
    pub async fn append(
        &self,
        mut batches: BytesMut,
        leader_epoch: i32,
        durability: Durability,
    ) -> Result<AppendInfo> {
        let mut state = self.state.lock().await;
        let now_ms = self.clock.now_ms();
        let base_offset = state.log_end_offset();
        let log_append_time_ms =
            (state.config.timestamp_type == TimestampType::LogAppendTime).then_some(now_ms);
        let appended = assign_offsets(&mut batches, base_offset, leader_epoch, log_append_time_ms)?;
        let Some(last) = appended.last() else {
            return Err(StorageError::InvalidAppend("no record batches".into()));
        };
        let last_offset = last.last_offset;
        let total_bytes: u64 = appended.iter().map(|b| b.bytes).sum();
        self.roll_if_needed(&mut state, total_bytes, last_offset, now_ms)
            .await?;
        let active = active_mut(&mut state)?;
        active
            .append(&self.disk, batches.freeze(), &appended)
            .await?;
        let log_file = active.log_file().clone();
        let seals_issued = self.seals.issued();
        if state.epochs.assign(leader_epoch, base_offset) {
            state.epochs.save()?;
        }
        let log_start_offset = state.log_start_offset;
        // Published while the lock is held, so concurrent appends publish in offset order
        // (publishing after the unlock let an older end overwrite a newer one).
        self.publish_end_offset(last_offset + 1);
        drop(state);
        if durability == Durability::Fsync {
            self.sync_appended(&log_file, seals_issued).await?;
        }
        Ok(AppendInfo {
            base_offset,
            last_offset,
            log_append_time_ms,
            log_start_offset,
        })
    }

    /// Starts a new segment when the active one would grow past `segment.bytes`, is older
    /// than `segment.ms`, or could not index `last_offset` (relative offsets are 32-bit).
    /// The closed segment is synced in the background (see `seal.rs`).
    async fn roll_if_needed(
        &self,
        state: &mut LogState,
        incoming_bytes: u64,
        last_offset: i64,
        now_ms: i64,
    ) -> Result<()> {
        let config = state.config.clone();
        let active = active_mut(state)?;
        let too_big = active.size_bytes() + incoming_bytes > config.segment_bytes;
        let too_old = now_ms - active.created_ms > config.segment_ms;
        let offsets_overflow = last_offset - active.base_offset > i64::from(i32::MAX);
        if active.is_empty() || !(too_big || too_old || offsets_overflow) {
            return Ok(());
        }
        active.finish_writes(&self.disk).await?;
        let closing_base = active.base_offset;
        let base_offset = active.next_offset();
        let job = super::seal::SealJob {
            files: active.files(),
            next_base: base_offset,
        };
        let mode = self
            .seals
            .prepare_roll(&self.disk, closing_base, &job)
            .await?;
        let created = Segment::create(
            &self.dir,
            base_offset,
            &self.disk,
            now_ms,
            config.index_interval_bytes,
        )
        .await;
        let segment = match created {
            Ok(segment) => segment,
            Err(error) => {
                // The append fails and the old segment stays active; files left at the new
                // base would later claim offsets that the old segment goes on to hold.
                let _ = Segment::delete_files(&self.dir, base_offset, &self.disk).await;
                return Err(error);
            }
        };
        state.segments.insert(base_offset, segment);
        if mode == super::seal::SealMode::Background {
            self.seals.start(&self.disk, job).await;
        }
        Ok(())
    }
}

pub(super) fn active_mut(state: &mut LogState) -> Result<&mut Segment> {
    state
        .segments
        .values_mut()
        .next_back()
        .ok_or_else(|| StorageError::InvalidAppend("log has no segment".into()))
}

/// Patches offsets (and epoch, and LogAppendTime) into each batch; returns their extents.
fn assign_offsets(
    batches: &mut BytesMut,
    base_offset: i64,
    leader_epoch: i32,
    log_append_time_ms: Option<i64>,
) -> Result<Vec<AppendedBatch>> {
    let mut ranges = Vec::new();
    for item in BatchIter::new(batches) {
        let (header, range) = item?;
        ranges.push((header, range));
    }
    let mut next_offset = base_offset;
    let mut appended = Vec::with_capacity(ranges.len());
    for (header, range) in ranges {
        if header.last_offset_delta < 0 {
            return Err(StorageError::InvalidAppend(format!(
                "lastOffsetDelta {} is negative",
                header.last_offset_delta
            )));
        }
        let len = (range.end - range.start) as u64;
        let batch = batches
            .get_mut(range)
            .ok_or_else(|| StorageError::InvalidAppend("batch range outside input".into()))?;
        set_base_offset(batch, next_offset)?;
        set_partition_leader_epoch(batch, leader_epoch)?;
        let max_timestamp_ms = match log_append_time_ms {
            Some(now_ms) => {
                set_log_append_time(batch, now_ms)?;
                now_ms
            }
            None => header.max_timestamp,
        };
        let last_offset = next_offset + i64::from(header.last_offset_delta);
        appended.push(AppendedBatch {
            last_offset,
            max_timestamp_ms,
            bytes: len,
        });
        next_offset = last_offset + 1;
    }
    Ok(appended)
}
