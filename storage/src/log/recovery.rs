//! Opening a partition directory, after a clean stop or a crash.
//!
//! Closed segments that end at or below the recovery point (see `seal.rs`) were synced
//! after they rolled, so they are trusted as far as their file length; only a missing or
//! corrupt index sends recovery through the whole segment. The active segment is
//! rescanned from its last index entry, validating every batch (CRC included): a torn or
//! corrupt tail is truncated and the indexes are rebuilt for the rescanned part. A closed
//! segment whose background seal had not finished is rescanned whole, as Kafka rescans
//! every segment past its recovery point (a power loss may drop any of its unsynced pages,
//! not only the last). If it lost records, at its end or by the rescan's cut, it ends the
//! log: the segments after it are deleted, since offsets must not jump over lost records.
//! Start-up time is therefore proportional to the unsynced, unindexed tail, not to the
//! data size.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::Path;

use tracing::{info, warn};

use super::seal::{read_recovery_point, write_recovery_point};
use super::LogState;
use crate::config::LogConfig;
use crate::error::{Result, StorageError};
use crate::io::Disk;
use crate::leader_epoch::{write_atomically, LeaderEpochCache};
use crate::scan::{scan, ScanEnd};
use crate::segment::{base_offset_of, Segment};

/// File holding the log start offset when DeleteRecords moved it inside a segment.
pub(super) const LOG_START_FILE: &str = "log-start-offset";

/// Opens the log's state; also returns the recovery point now on disk.
pub(super) async fn open_state(
    dir: &Path,
    disk: &Disk,
    config: LogConfig,
    now_ms: i64,
) -> Result<(LogState, Option<i64>)> {
    std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
    // Before listing segments: a compaction swap that reached its commit point replaces
    // its segment now; one that did not is rolled back (`.cleaned` files go below).
    super::compact::finish_interrupted_swaps(dir, disk).await?;
    let mut recovery_point = read_recovery_point(dir)?;
    let bases = segment_bases(dir)?;
    let mut segments = BTreeMap::new();
    // Closed segments rescanned because their seal may not have finished, and that stay
    // closed (one that lost records becomes the last segment).
    let mut unsealed = Vec::new();
    for (i, base) in bases.iter().enumerate() {
        let (mut segment, indexes_valid) =
            Segment::open_files(dir, *base, disk, now_ms, config.index_interval_bytes).await?;
        let Some(next_base) = bases.get(i + 1).copied() else {
            recover_active(disk, &mut segment, indexes_valid).await?;
            segments.insert(*base, segment);
            break;
        };
        if recovery_point.is_none_or(|point| next_base <= point) {
            load_closed(disk, &mut segment, indexes_valid, next_base).await?;
            segments.insert(*base, segment);
            continue;
        }
        rebuild_from(disk, &mut segment, 0, true).await?;
        // Segments past the recovery point were never compacted (compaction waits for
        // seals), so a whole one ends exactly where the next begins. One that ends earlier
        // lost records: cut by this scan, lost whole at its end (a power loss can drop
        // pages at a batch boundary), or cut by an earlier recovery that stopped before
        // it deleted the segments after it.
        let lost_records = segment.next_offset() != next_base;
        if !lost_records {
            unsealed.push(*base);
        }
        segments.insert(*base, segment);
        if lost_records {
            let later = bases.get(i + 1..).unwrap_or_default();
            warn!(
                dir = %dir.display(),
                segment = base,
                deleted_segments = later.len(),
                "an unsynced closed segment lost records; the segments after it are deleted"
            );
            for later_base in later {
                Segment::delete_files(dir, *later_base, disk).await?;
            }
            break;
        }
    }
    // Whatever the rescans kept is made durable now, so the recovery point can vouch for it.
    if let (false, Some(&last_base)) = (unsealed.is_empty(), segments.keys().next_back()) {
        for base in &unsealed {
            if let Some(segment) = segments.get(base) {
                segment.sync_files(disk).await?;
            }
        }
        write_recovery_point(dir, last_base).await?;
        recovery_point = Some(last_base);
    }
    let stored_start = read_log_start(dir)?;
    let first_base = segments.keys().next().copied();
    let log_start_offset = match (first_base, stored_start) {
        (Some(base), Some(stored)) => base.max(stored),
        (Some(base), None) => base,
        (None, stored) => stored.unwrap_or(0),
    };
    if segments.is_empty() {
        let segment = Segment::create(
            dir,
            log_start_offset,
            disk,
            now_ms,
            config.index_interval_bytes,
        )
        .await?;
        segments.insert(log_start_offset, segment);
    }
    let mut epochs = match LeaderEpochCache::load(dir) {
        Ok(epochs) => epochs,
        Err(error) => {
            warn!(dir = %dir.display(), %error, "leader-epoch checkpoint unreadable; starting it afresh");
            LeaderEpochCache::empty(dir)
        }
    };
    let log_end_offset = segments
        .values()
        .next_back()
        .map_or(log_start_offset, Segment::next_offset);
    let changed =
        epochs.truncate_from_end(log_end_offset) | epochs.truncate_from_start(log_start_offset);
    if changed {
        epochs.save()?;
    }
    let state = LogState {
        config,
        segments,
        log_start_offset,
        epochs,
    };
    Ok((state, recovery_point))
}

/// Base offsets of the segments in `dir`, sorted; removes leftovers of interrupted work.
fn segment_bases(dir: &Path) -> Result<Vec<i64>> {
    let mut bases = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| StorageError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(base) = base_offset_of(&name) {
            bases.push(base);
        } else if name.ends_with(".tmp") || name.ends_with(".deleted") || name.ends_with(".cleaned")
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    bases.sort_unstable();
    Ok(bases)
}

/// A closed segment: trust its length; rebuild indexes only if they are unusable.
pub(super) async fn load_closed(
    disk: &Disk,
    segment: &mut Segment,
    indexes_valid: bool,
    next_base: i64,
) -> Result<()> {
    segment.next_offset = next_base;
    let last_time = segment.time_index.last();
    if indexes_valid && last_time.is_some() {
        if let Some(entry) = last_time {
            segment.max_timestamp_ms = entry.timestamp_ms;
            segment.offset_of_max_timestamp = entry.offset;
        }
        return Ok(());
    }
    info!(
        segment = segment.base_offset,
        "rebuilding indexes of a closed segment"
    );
    rebuild_from(disk, segment, 0, false).await
}

/// The active segment: rescan and validate from the last index entry. If the batch that
/// entry points at is itself damaged, the entry is dropped and the scan starts from the one
/// before (the entry's offset cannot be trusted once its batch is gone).
async fn recover_active(disk: &Disk, segment: &mut Segment, indexes_valid: bool) -> Result<()> {
    if !indexes_valid {
        return rebuild_from(disk, segment, 0, true).await;
    }
    loop {
        let start = segment.index.last().map_or(0, |e| u64::from(e.position));
        if let Some(entry) = segment.time_index.last() {
            segment.max_timestamp_ms = entry.timestamp_ms;
            segment.offset_of_max_timestamp = entry.offset;
        }
        if start == 0 || batch_at_is_valid(disk, segment, start).await? {
            return rebuild_from(disk, segment, start, true).await;
        }
        segment.index.truncate_to_position(start);
        let keep_below = segment
            .index
            .last()
            .map_or(segment.base_offset, |e| e.offset + 1);
        segment.time_index.truncate_to(keep_below);
    }
}

/// Whether a whole, valid batch starts at `position`.
async fn batch_at_is_valid(disk: &Disk, segment: &Segment, position: u64) -> Result<bool> {
    let mut valid = false;
    scan(
        disk,
        &segment.log,
        position,
        segment.size_bytes,
        true,
        |_| {
            valid = true;
            ControlFlow::Break(())
        },
    )
    .await?;
    Ok(valid)
}

/// Scans from `start` to the end of the file, re-adding index entries, setting next offset
/// and max timestamp, and truncating at the first torn or invalid batch.
async fn rebuild_from(
    disk: &Disk,
    segment: &mut Segment,
    start: u64,
    validate: bool,
) -> Result<()> {
    if start == 0 {
        segment.index.truncate_to(segment.base_offset);
        segment.time_index.truncate_to(segment.base_offset);
        segment.max_timestamp_ms = -1;
        segment.offset_of_max_timestamp = -1;
    }
    let file_bytes = segment.size_bytes;
    let mut next_offset = segment.base_offset;
    let mut position_end = start;
    let mut found = Vec::new();
    let end = scan(
        disk,
        &segment.log.clone(),
        start,
        file_bytes,
        validate,
        |batch| {
            found.push((
                batch.position,
                batch.header.last_offset(),
                batch.header.max_timestamp,
                batch.total_bytes,
            ));
            next_offset = batch.header.last_offset() + 1;
            position_end = batch.position + batch.total_bytes;
            ControlFlow::Continue(())
        },
    )
    .await?;
    segment.bytes_since_index_entry =
        start.saturating_sub(segment.index.last().map_or(0, |e| u64::from(e.position)));
    for (position, last_offset, max_timestamp, bytes) in found {
        if max_timestamp > segment.max_timestamp_ms {
            segment.max_timestamp_ms = max_timestamp;
            segment.offset_of_max_timestamp = last_offset;
        }
        if segment.bytes_since_index_entry >= segment.index_interval_bytes {
            if let Ok(position) = u32::try_from(position) {
                if segment.index.append(last_offset, position).is_some() {
                    segment.bytes_since_index_entry = 0;
                }
                segment
                    .time_index
                    .maybe_append(segment.max_timestamp_ms, segment.offset_of_max_timestamp);
            }
        }
        segment.bytes_since_index_entry += bytes;
    }
    match end {
        ScanEnd::Complete | ScanEnd::Stopped => {
            segment.next_offset = next_offset;
            segment.rewrite_indexes(disk).await
        }
        ScanEnd::Torn { position } | ScanEnd::Corrupt { position, .. } => {
            warn!(
                segment = segment.base_offset,
                position,
                dropped_bytes = file_bytes - position,
                reason = ?end,
                "truncating torn or corrupt log tail"
            );
            segment
                .truncate(disk, position_end.min(position), next_offset)
                .await
        }
    }
}

fn read_log_start(dir: &Path) -> Result<Option<i64>> {
    let path = dir.join(LOG_START_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.trim().parse().ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StorageError::io(&path, e)),
    }
}

pub(super) fn write_log_start(dir: &Path, offset: i64) -> Result<()> {
    write_atomically(&dir.join(LOG_START_FILE), format!("{offset}\n").as_bytes())
}
