//! Removing data: retention by time (`retention.ms`) and size (`retention.bytes`) deletes
//! whole closed segments, oldest first; DeleteRecords advances the log start offset
//! explicitly; replication truncates the tail back to a batch boundary.

use std::ops::ControlFlow;

use tracing::info;

use super::recovery::write_log_start;
use super::{LogState, PartitionLog};
use crate::error::{Result, StorageError};
use crate::scan::scan;

/// What a retention pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionOutcome {
    pub segments_deleted: usize,
    pub bytes_deleted: u64,
    pub log_start_offset: i64,
}

impl PartitionLog {
    /// Deletes closed segments past `retention.ms` (by their newest record) or beyond
    /// `retention.bytes` (oldest first); the active segment is never deleted. Then, for a
    /// `compact` log, runs a compaction pass if one is due ([`PartitionLog::compact_if_due`]).
    pub async fn apply_retention(&self) -> Result<RetentionOutcome> {
        let now_ms = self.clock.now_ms();
        let mut state = self.state.lock().await;
        let config = state.config.clone();
        let mut total_bytes: u64 = state.segments.values().map(|s| s.size_bytes()).sum();
        let mut doomed = Vec::new();
        let closed: Vec<(i64, u64, i64)> = state
            .segments
            .values()
            .rev()
            .skip(1)
            .rev()
            .map(|s| (s.base_offset, s.size_bytes(), s.max_timestamp_ms()))
            .collect();
        for (base, size, max_timestamp_ms) in closed {
            // A segment compaction emptied holds nothing to retain; without this its
            // missing timestamp would hold back time retention of every later segment.
            let expired = config.retention_ms >= 0
                && (size == 0
                    || (max_timestamp_ms >= 0 && now_ms - max_timestamp_ms > config.retention_ms));
            let over_size = config.retention_bytes >= 0
                && total_bytes.saturating_sub(size) >= config.retention_bytes as u64;
            if !(expired || over_size) {
                break;
            }
            total_bytes -= size;
            doomed.push(base);
        }
        let outcome = self.delete_segments(&mut state, &doomed).await?;
        if outcome.segments_deleted > 0 {
            info!(dir = %self.dir.display(), segments = outcome.segments_deleted, bytes = outcome.bytes_deleted, log_start_offset = outcome.log_start_offset, "retention deleted segments");
        }
        drop(state);
        // Compaction rides on the retention schedule, as Kafka's cleaner and retention both
        // run in the background; it does nothing unless the log is `compact` and a pass
        // is due (see `compact_if_due`).
        self.compact_if_due().await?;
        Ok(outcome)
    }

    /// Moves the log start offset forward (DeleteRecords), deleting segments wholly below it.
    pub async fn advance_log_start_offset(&self, offset: i64) -> Result<i64> {
        let mut state = self.state.lock().await;
        let log_end_offset = state.log_end_offset();
        if offset > log_end_offset {
            return Err(StorageError::OffsetOutOfRange {
                offset,
                log_start_offset: state.log_start_offset,
                log_end_offset,
            });
        }
        if offset <= state.log_start_offset {
            return Ok(state.log_start_offset);
        }
        let doomed: Vec<i64> = state
            .segments
            .values()
            .filter(|s| s.next_offset() <= offset && s.next_offset() < log_end_offset)
            .map(|s| s.base_offset)
            .collect();
        self.delete_segments(&mut state, &doomed).await?;
        state.log_start_offset = offset;
        write_log_start(&self.dir, offset)?;
        if state.epochs.truncate_from_start(offset) {
            state.epochs.save()?;
        }
        Ok(offset)
    }

    /// Removes every batch holding an offset at or after `offset` (a follower truncating
    /// after a leader change). The cut is at a batch boundary, so the new log end may be
    /// below `offset` if it fell inside a batch, as in Kafka. Returns the new log end.
    pub async fn truncate_to(&self, offset: i64) -> Result<i64> {
        let mut state = self.state.lock().await;
        if offset >= state.log_end_offset() {
            return Ok(state.log_end_offset());
        }
        // No seal job may move the recovery point while segments are cut (see `seal.rs`).
        self.seals.wait_all().await?;
        let offset = offset.max(state.log_start_offset);
        let later: Vec<i64> = state
            .segments
            .range(offset + 1..)
            .map(|(base, _)| *base)
            .collect();
        let keep_active = state
            .segments
            .range(..=offset)
            .next_back()
            .map(|(base, _)| *base);
        // Newest first: a crash part-way leaves a shorter log, never a hole that recovery
        // would take for the end of a trusted closed segment.
        for base in later.into_iter().rev().filter(|b| Some(*b) != keep_active) {
            if let Some(segment) = state.segments.remove(&base) {
                segment.delete(&self.disk).await?;
            }
        }
        let Some(segment) = state.segments.values_mut().next_back() else {
            return Ok(state.log_start_offset);
        };
        let start = u64::from(segment.index.lookup(offset).position);
        let mut cut = (segment.size_bytes(), segment.next_offset());
        scan(
            &self.disk,
            &segment.log_file().clone(),
            start,
            segment.size_bytes(),
            false,
            |batch| {
                if batch.header.last_offset() >= offset {
                    cut = (batch.position, batch.header.base_offset);
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            },
        )
        .await?;
        segment.truncate(&self.disk, cut.0, cut.1).await?;
        let end = state.log_end_offset();
        if state.epochs.truncate_from_end(end) {
            state.epochs.save()?;
        }
        self.publish_end_offset(end);
        drop(state);
        Ok(end)
    }

    async fn delete_segments(
        &self,
        state: &mut LogState,
        bases: &[i64],
    ) -> Result<RetentionOutcome> {
        let mut outcome = RetentionOutcome {
            log_start_offset: state.log_start_offset,
            ..Default::default()
        };
        for base in bases {
            if let Some(segment) = state.segments.remove(base) {
                outcome.segments_deleted += 1;
                outcome.bytes_deleted += segment.size_bytes();
                segment.delete(&self.disk).await?;
            }
        }
        if let Some(first) = state.segments.keys().next() {
            state.log_start_offset = state.log_start_offset.max(*first);
        }
        outcome.log_start_offset = state.log_start_offset;
        if outcome.segments_deleted > 0 && state.epochs.truncate_from_start(state.log_start_offset)
        {
            state.epochs.save()?;
        }
        Ok(outcome)
    }
}
