//! Log compaction (`cleanup.policy=compact`), after Kafka's log cleaner: closed segments
//! are rewritten to keep only the latest record of each key, at its original offset.
//!
//! A pass ([`PartitionLog::compact`]):
//!
//! 1. **Map.** Every closed segment is scanned (validating CRCs) and each key's latest
//!    offset is recorded, along with the last batch of each producer id (the active
//!    segment's headers included). The active segment's records are not mapped, as in
//!    Kafka: it is still being written, and keys overwritten there are cleaned once it rolls.
//! 2. **Filter.** Each closed segment, oldest first, is scanned again and each batch is
//!    kept whole, dropped, or rewritten with its surviving records only. A record survives
//!    if it has no key (Kafka refuses keyless records on compacted topics at produce, so
//!    there should be none) or is its key's latest; a tombstone (null value) survives only
//!    until `delete_retention_ms` after its segment's last modification, so that consumers
//!    see the delete first. A rewritten batch keeps `baseOffset`, `lastOffsetDelta`,
//!    `baseTimestamp`, the producer fields and the records' bytes as they were (records
//!    are copied, not re-encoded, so their offset and timestamp deltas stay valid); only
//!    `batchLength`, `recordsCount`, `maxTimestamp` (CreateTime: the survivors' largest)
//!    and the CRC change. Offsets therefore get gaps, and the next offset after each batch
//!    stays right, exactly as with Kafka's cleaner.
//! 3. **Swap.** A segment with any change is written as `<base>.log.cleaned` (with
//!    `.index.cleaned` and `.timeindex.cleaned`), fsynced, then renamed to `.swap` (the
//!    commit point is the log file's rename), then renamed over the live files. Recovery
//!    ([`finish_interrupted_swaps`]) completes a swap whose `.log.swap` exists and rolls
//!    back any other leftovers. The renames and the replacement of the segment in the log
//!    state happen under the state lock, after checking that the segment is still the one
//!    that was read; readers holding the old files (sendfile regions) keep reading the old
//!    inodes, which live until their last handle closes.
//!
//! Kept whole, never filtered:
//! - control batches and transactional batches (aborted data would need the transaction
//!   index to be removed safely; their keys do not enter the map either, so a transactional
//!   write never shadows an earlier committed value);
//! - compressed batches: rewriting them needs a compressor, which `petrel_protocol` does
//!   not have. Their records are decompressed for the map (so they shadow older records),
//!   but the batches themselves stay as they are;
//! - the last batch of each idempotent producer id, so that the producer state rebuilt from
//!   the log (sequence numbers, epoch) is unchanged. Kafka keeps an empty batch with the
//!   header instead; keeping the whole batch is simpler and costs at most one batch each.
//!
//! Limits of this first version: segments are compacted one by one, never merged (small
//! segments stay small); every pass maps all closed segments (no cleaner checkpoint), so
//! [`PartitionLog::compact_if_due`] runs one only when the active segment rolled or a kept
//! tombstone's time is up; the map keeps whole keys in memory (Kafka bounds it with
//! hashes); the CPU work (record parsing, decompression) runs on the calling task, between
//! the scans' reads.

use std::collections::{HashMap, HashSet};
use std::ops::{ControlFlow, Range};
use std::path::Path;
use std::time::UNIX_EPOCH;

use bytes::{Bytes, BytesMut};
use petrel_protocol::records::{
    decompress_records, offsets, records, BatchHeader, Compression, TimestampType,
    BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES,
};
use tracing::{info, warn};

use super::recovery::load_closed;
use super::PartitionLog;
use crate::error::{Result, StorageError};
use crate::io::{Disk, LogFile};
use crate::scan::{scan, ScanEnd};
use crate::segment::{AppendedBatch, Segment};

/// The most the map decompresses from one batch: a crafted batch (a decompression bomb)
/// must not take the broker's memory. A batch past it does not enter the map, which only
/// means the records it shadows are kept.
const MAX_DECOMPRESSED_BATCH_BYTES: usize = 64 << 20;

/// Cleaned bytes gathered before each write of the cleaned segment: one scan window's
/// worth of batches per write, and a bounded buffer whatever the segment size.
const WRITE_CHUNK_BYTES: usize = 1 << 20;

/// Suffix of the files a compaction is writing (recovery deletes them).
const CLEANED: &str = ".cleaned";
/// Suffix of cleaned files past the commit point (recovery renames them over the segment).
const SWAP: &str = ".swap";

/// What a compaction pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactionStats {
    /// Closed segments scanned.
    pub segments_scanned: usize,
    /// Segments replaced by a cleaned copy.
    pub segments_rewritten: usize,
    /// Segments left alone because they could not be read whole (a corrupt batch) or
    /// changed during the pass (retention deleted or truncation cut them).
    pub segments_skipped: usize,
    /// Records removed (tombstones included).
    pub records_removed: u64,
    /// Of those, tombstones (null values).
    pub tombstones_removed: u64,
    /// Batches that lost every record and disappeared.
    pub batches_removed: u64,
    /// Sizes of the rewritten segments before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// The cleaner's memory between passes (in memory only: after a restart the first
/// retention check runs a pass).
#[derive(Debug, Default)]
pub(super) struct CleanerState {
    /// Whether a pass has run, and the active segment's base offset then: closed segments
    /// only appear when the active one rolls, so an unchanged base means nothing new to map.
    active_base_at_last_pass: Option<Option<i64>>,
    /// The earliest time a tombstone kept by the last pass may be dropped.
    tombstone_due_ms: Option<i64>,
}

/// A segment as the pass saw it when it started.
struct SegmentSnapshot {
    base: i64,
    file: LogFile,
    size: u64,
    next_offset: i64,
}

/// What the map pass learns.
#[derive(Default)]
struct OffsetMap {
    /// The latest offset of each key (non-transactional batches of closed segments).
    latest: HashMap<Vec<u8>, i64>,
    /// Base offsets of the last batch of each producer id, in the whole log.
    producer_last: HashMap<i64, i64>,
}

/// The fate of one batch.
enum Decision {
    Keep,
    Drop,
    Rewrite { batch: BytesMut, max_timestamp: i64 },
}

/// A batch's decision, with the record counts behind it.
struct Filtered {
    decision: Decision,
    removed: u64,
    tombstones_removed: u64,
    tombstones_kept: u64,
}

/// What the filter found in a segment without writing anything.
#[derive(Default)]
struct SegmentPlan {
    readable: bool,
    changed: bool,
    removed: u64,
    tombstones_removed: u64,
    tombstones_kept: u64,
    batches_removed: u64,
}

impl PartitionLog {
    /// Compacts the closed segments (never the active one); see the module docs. Safe to
    /// call at any time: appends, reads and retention go on meanwhile, and concurrent calls
    /// run one after the other.
    pub async fn compact(&self, delete_retention_ms: i64) -> Result<CompactionStats> {
        let mut cleaner = self.cleaner.lock().await;
        self.compact_locked(&mut cleaner, delete_retention_ms).await
    }

    /// Runs [`PartitionLog::compact`] with the log's `delete_retention_ms` if the log is
    /// configured `compact` and a pass can achieve something: the active segment rolled
    /// since the last pass (or none ran since the log was opened), or a tombstone the last
    /// pass kept has reached its delete horizon. Called by
    /// [`PartitionLog::apply_retention`].
    pub async fn compact_if_due(&self) -> Result<Option<CompactionStats>> {
        let (config, active_base) = {
            let state = self.state.lock().await;
            (state.config.clone(), state.active().map(|s| s.base_offset))
        };
        if !config.compact {
            return Ok(None);
        }
        let mut cleaner = self.cleaner.lock().await;
        let now_ms = self.clock.now_ms();
        let rolled = cleaner.active_base_at_last_pass != Some(active_base);
        let tombstones_due = cleaner.tombstone_due_ms.is_some_and(|due| now_ms >= due);
        if !(rolled || tombstones_due) {
            return Ok(None);
        }
        let stats = self
            .compact_locked(&mut cleaner, config.delete_retention_ms)
            .await?;
        if stats.segments_rewritten > 0 {
            info!(
                dir = %self.dir.display(),
                segments = stats.segments_rewritten,
                records_removed = stats.records_removed,
                bytes_before = stats.bytes_before,
                bytes_after = stats.bytes_after,
                "compacted log"
            );
        }
        Ok(Some(stats))
    }

    async fn compact_locked(
        &self,
        cleaner: &mut CleanerState,
        delete_retention_ms: i64,
    ) -> Result<CompactionStats> {
        let now_ms = self.clock.now_ms();
        let (mut closed, index_interval_bytes, seals_issued) = {
            let state = self.state.lock().await;
            let snapshots: Vec<SegmentSnapshot> = state
                .segments
                .values()
                .map(|s| SegmentSnapshot {
                    base: s.base_offset,
                    file: s.log_file().clone(),
                    size: s.size_bytes(),
                    next_offset: s.next_offset(),
                })
                .collect();
            (
                snapshots,
                state.config.index_interval_bytes,
                self.seals.issued(),
            )
        };
        // Only durable segments are compacted: a record that only reached the page cache
        // must not remove an older, synced record of its key (after a power loss both
        // would be gone). The segments closed so far are durable once their seals finish.
        self.seals.wait_for(seals_issued).await?;
        let active = closed.pop();
        cleaner.active_base_at_last_pass = Some(active.as_ref().map(|a| a.base));
        cleaner.tombstone_due_ms = None;
        let mut stats = CompactionStats::default();

        let mut map = OffsetMap::default();
        for segment in &closed {
            self.map_segment(segment, &mut map).await?;
        }
        if let Some(active) = &active {
            self.map_producers(active, &mut map).await?;
        }

        // Dropping a tombstone is only safe once every older record of its key is gone: if
        // an older segment could not be cleaned in this pass, later tombstones stay.
        let mut tombstones_safe = true;
        for segment in &closed {
            stats.segments_scanned += 1;
            let horizon_ms = modified_ms(&segment.file)?.saturating_add(delete_retention_ms.max(0));
            let drop_tombstones = tombstones_safe && now_ms >= horizon_ms;
            let plan = self.plan_segment(segment, &map, drop_tombstones).await?;
            if !plan.readable {
                warn!(dir = %self.dir.display(), segment = segment.base, "compaction skips a segment it cannot read whole");
                stats.segments_skipped += 1;
                tombstones_safe = false;
                continue;
            }
            if plan.tombstones_kept > 0 {
                cleaner.tombstone_due_ms = Some(
                    cleaner
                        .tombstone_due_ms
                        .map_or(horizon_ms, |due| due.min(horizon_ms)),
                );
            }
            if !plan.changed {
                continue;
            }
            let swapped = self
                .rewrite_segment(segment, &map, drop_tombstones, index_interval_bytes, now_ms)
                .await?;
            match swapped {
                Some(bytes_after) => {
                    stats.segments_rewritten += 1;
                    stats.records_removed += plan.removed;
                    stats.tombstones_removed += plan.tombstones_removed;
                    stats.batches_removed += plan.batches_removed;
                    stats.bytes_before += segment.size;
                    stats.bytes_after += bytes_after;
                }
                None => {
                    stats.segments_skipped += 1;
                    tombstones_safe = false;
                }
            }
        }
        Ok(stats)
    }

    /// Adds a closed segment's keys and producer ids to the map.
    async fn map_segment(&self, segment: &SegmentSnapshot, map: &mut OffsetMap) -> Result<()> {
        let end = scan(&self.disk, &segment.file, 0, segment.size, true, |batch| {
            let header = batch.header;
            if header.producer_id >= 0 {
                map.producer_last
                    .insert(header.producer_id, header.base_offset);
            }
            if header.is_control() || header.is_transactional() {
                return ControlFlow::Continue(());
            }
            if let Some(bytes) = &batch.bytes {
                map_keys(&header, bytes, &mut map.latest);
            }
            ControlFlow::Continue(())
        })
        .await?;
        if end != ScanEnd::Complete {
            // The filter pass meets the same damage and leaves the segment alone.
            warn!(dir = %self.dir.display(), segment = segment.base, reason = ?end, "compaction cannot map a whole segment");
        }
        Ok(())
    }

    /// Adds the active segment's producer ids (headers only) to the map.
    async fn map_producers(&self, active: &SegmentSnapshot, map: &mut OffsetMap) -> Result<()> {
        scan(&self.disk, &active.file, 0, active.size, false, |batch| {
            if batch.header.producer_id >= 0 {
                map.producer_last
                    .insert(batch.header.producer_id, batch.header.base_offset);
            }
            ControlFlow::Continue(())
        })
        .await?;
        Ok(())
    }

    /// Decides every batch of a segment without writing, to learn whether it changes.
    async fn plan_segment(
        &self,
        segment: &SegmentSnapshot,
        map: &OffsetMap,
        drop_tombstones: bool,
    ) -> Result<SegmentPlan> {
        let mut plan = SegmentPlan::default();
        let end = scan(&self.disk, &segment.file, 0, segment.size, true, |batch| {
            let Some(bytes) = &batch.bytes else {
                return ControlFlow::Continue(());
            };
            let filtered = filter_batch(&batch.header, bytes, map, drop_tombstones);
            plan.removed += filtered.removed;
            plan.tombstones_removed += filtered.tombstones_removed;
            plan.tombstones_kept += filtered.tombstones_kept;
            match filtered.decision {
                Decision::Keep => {}
                Decision::Drop => {
                    plan.changed = true;
                    plan.batches_removed += 1;
                }
                Decision::Rewrite { .. } => plan.changed = true,
            }
            ControlFlow::Continue(())
        })
        .await?;
        plan.readable = end == ScanEnd::Complete;
        Ok(plan)
    }

    /// Writes the cleaned copy of a segment and swaps it in. Returns its size, or None if
    /// the segment changed meanwhile (the copy is then discarded).
    async fn rewrite_segment(
        &self,
        segment: &SegmentSnapshot,
        map: &OffsetMap,
        drop_tombstones: bool,
        index_interval_bytes: u64,
        now_ms: i64,
    ) -> Result<Option<u64>> {
        let mut cleaned = Segment::create_with_suffix(
            &self.dir,
            segment.base,
            &self.disk,
            now_ms,
            index_interval_bytes,
            CLEANED,
        )
        .await?;
        match self
            .write_cleaned(segment, map, drop_tombstones, &mut cleaned)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                cleaned.delete(&self.disk).await?;
                return Ok(None);
            }
            Err(error) => {
                let _ = cleaned.delete(&self.disk).await;
                return Err(error);
            }
        }
        let size = cleaned.size_bytes();
        drop(cleaned);
        let swapped = self.swap_in(segment, index_interval_bytes, now_ms).await?;
        Ok(swapped.then_some(size))
    }

    /// Fills `cleaned` with the segment's surviving batches, a chunk at a time (the scan
    /// stops after each [`WRITE_CHUNK_BYTES`] and resumes after the write), then seals it
    /// and gives it the original's modification time: tombstones' delete horizon counts
    /// from the data's last change, not from its compaction. False if the segment could not
    /// be read whole.
    async fn write_cleaned(
        &self,
        segment: &SegmentSnapshot,
        map: &OffsetMap,
        drop_tombstones: bool,
        cleaned: &mut Segment,
    ) -> Result<bool> {
        let modified = segment
            .file
            .as_std()
            .metadata()
            .and_then(|m| m.modified())
            .map_err(|e| StorageError::io(segment.file.path(), e))?;
        let mut position = 0;
        loop {
            let mut chunk = BytesMut::new();
            let mut appended = Vec::new();
            let mut resume_at = position;
            let end = scan(
                &self.disk,
                &segment.file,
                position,
                segment.size,
                true,
                |batch| {
                    resume_at = batch.position + batch.total_bytes;
                    let Some(bytes) = &batch.bytes else {
                        return ControlFlow::Continue(());
                    };
                    let header = &batch.header;
                    match filter_batch(header, bytes, map, drop_tombstones).decision {
                        Decision::Keep => {
                            chunk.extend_from_slice(bytes);
                            appended.push(AppendedBatch {
                                last_offset: header.last_offset(),
                                max_timestamp_ms: header.max_timestamp,
                                bytes: batch.total_bytes,
                            });
                        }
                        Decision::Drop => {}
                        Decision::Rewrite {
                            batch,
                            max_timestamp,
                        } => {
                            appended.push(AppendedBatch {
                                last_offset: header.last_offset(),
                                max_timestamp_ms: max_timestamp,
                                bytes: batch.len() as u64,
                            });
                            chunk.extend_from_slice(&batch);
                        }
                    }
                    if chunk.len() >= WRITE_CHUNK_BYTES {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                },
            )
            .await?;
            if !appended.is_empty() {
                cleaned
                    .append(&self.disk, chunk.freeze(), &appended)
                    .await?;
            }
            match end {
                ScanEnd::Complete => break,
                ScanEnd::Stopped => position = resume_at,
                ScanEnd::Torn { .. } | ScanEnd::Corrupt { .. } => return Ok(false),
            }
        }
        cleaned
            .log_file()
            .as_std()
            .set_modified(modified)
            .map_err(|e| StorageError::io(cleaned.log_file().path(), e))?;
        cleaned.seal(&self.disk).await?;
        Ok(true)
    }

    /// Replaces the segment's files by the `.cleaned` ones and the segment in the log
    /// state, under the state lock so that no retention, truncation or read snapshot sees
    /// a half-swapped segment. False (cleaned files removed) if the segment is gone, grew
    /// or became the active one since it was read.
    async fn swap_in(
        &self,
        snapshot: &SegmentSnapshot,
        index_interval_bytes: u64,
        now_ms: i64,
    ) -> Result<bool> {
        let base = snapshot.base;
        let cleaned = Segment::paths_with_suffix(&self.dir, base, CLEANED);
        let swap = Segment::paths_with_suffix(&self.dir, base, SWAP);
        let live = Segment::paths_with_suffix(&self.dir, base, "");
        let mut state = self.state.lock().await;
        let unchanged = state.segments.get(&base).is_some_and(|current| {
            std::ptr::eq(current.log_file().as_std(), snapshot.file.as_std())
                && current.size_bytes() == snapshot.size
        }) && state
            .segments
            .range(base.saturating_add(1)..)
            .next()
            .is_some();
        if !unchanged {
            drop(state);
            remove_all(&cleaned);
            return Ok(false);
        }
        // Indexes first and the log last, in both renames: the log's `.swap` name is the
        // commit point recovery goes by (see `finish_interrupted_swaps`).
        let order = [1, 2, 0];
        for i in order {
            if let (Some(from), Some(to)) = (cleaned.get(i), swap.get(i)) {
                if let Err(e) = std::fs::rename(from, to) {
                    remove_all(&cleaned);
                    remove_all(&swap);
                    return Err(StorageError::io(from, e));
                }
            }
        }
        self.disk
            .sync_dir(&self.dir)
            .await
            .map_err(|e| StorageError::io(&self.dir, e))?;
        // Committed. An error from here on leaves the old segment in the state (its open
        // files still read the old data) and the swap for recovery to finish.
        for i in order {
            if let (Some(from), Some(to)) = (swap.get(i), live.get(i)) {
                std::fs::rename(from, to).map_err(|e| StorageError::io(from, e))?;
            }
        }
        self.disk
            .sync_dir(&self.dir)
            .await
            .map_err(|e| StorageError::io(&self.dir, e))?;
        let (mut segment, indexes_valid) =
            Segment::open_files(&self.dir, base, &self.disk, now_ms, index_interval_bytes).await?;
        load_closed(
            &self.disk,
            &mut segment,
            indexes_valid,
            snapshot.next_offset,
        )
        .await?;
        // The next offset of a closed segment is the next one's base, whatever the cleaner
        // removed from its end (load_closed derives it from the data if it had to rescan).
        segment.next_offset = snapshot.next_offset;
        state.segments.insert(base, segment);
        Ok(true)
    }
}

/// Records the key of every record of a non-transactional batch in `latest`.
fn map_keys(header: &BatchHeader, bytes: &Bytes, latest: &mut HashMap<Vec<u8>, i64>) {
    let mut note = |key: &[u8], offset: i64| match latest.get_mut(key) {
        Some(known) => *known = offset,
        None => {
            latest.insert(key.to_vec(), offset);
        }
    };
    if header.compression() == Compression::None {
        for record in records(bytes) {
            let Ok(record) = record else { return };
            if let Some(key) = record.key {
                note(
                    key,
                    header
                        .base_offset
                        .saturating_add(i64::from(record.offset_delta)),
                );
            }
        }
        return;
    }
    match decompress_records(bytes, MAX_DECOMPRESSED_BATCH_BYTES) {
        Ok(decompressed) => {
            for record in decompressed.records() {
                let Ok(record) = record else { return };
                if let Some(key) = record.key {
                    note(
                        key,
                        header
                            .base_offset
                            .saturating_add(i64::from(record.offset_delta)),
                    );
                }
            }
        }
        Err(error) => {
            warn!(base_offset = header.base_offset, %error, "compaction cannot decompress a batch; the records it shadows are kept");
        }
    }
}

/// Decides one batch's fate (see the module docs for the rules).
fn filter_batch(
    header: &BatchHeader,
    batch: &[u8],
    map: &OffsetMap,
    drop_tombstones: bool,
) -> Filtered {
    let keep_whole = |tombstones_kept| Filtered {
        decision: Decision::Keep,
        removed: 0,
        tombstones_removed: 0,
        tombstones_kept,
    };
    let is_producers_last = header.producer_id >= 0
        && map.producer_last.get(&header.producer_id) == Some(&header.base_offset);
    if header.is_control()
        || header.is_transactional()
        || header.compression() != Compression::None
        || header.records_count <= 0
        || is_producers_last
    {
        return keep_whole(0);
    }
    let Some(ranges) = record_ranges(batch, header.records_count) else {
        return keep_whole(0);
    };
    let mut kept: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    let mut max_timestamp = i64::MIN;
    let (mut removed, mut tombstones_removed, mut tombstones_kept) = (0, 0, 0);
    for (range, record) in ranges.into_iter().zip(records(batch)) {
        let Ok(record) = record else {
            return keep_whole(0);
        };
        let offset = header
            .base_offset
            .saturating_add(i64::from(record.offset_delta));
        let tombstone = record.value.is_none();
        let keep = match record.key.and_then(|key| map.latest.get(key)) {
            // No key, or a key the map missed (its batch failed to parse there): kept.
            None => true,
            Some(&latest) if latest > offset => false,
            Some(_) => !(tombstone && drop_tombstones),
        };
        if keep {
            tombstones_kept += u64::from(tombstone);
            max_timestamp =
                max_timestamp.max(header.base_timestamp.saturating_add(record.timestamp_delta));
            kept.push(range);
        } else {
            removed += 1;
            tombstones_removed += u64::from(tombstone);
        }
    }
    let decision = if removed == 0 {
        Decision::Keep
    } else if kept.is_empty() {
        Decision::Drop
    } else {
        // LogAppendTime records all carry the batch's max timestamp, whatever survives.
        if header.timestamp_type() == TimestampType::LogAppendTime {
            max_timestamp = header.max_timestamp;
        }
        match rebuild_batch(batch, &kept, max_timestamp) {
            Some(batch) => Decision::Rewrite {
                batch,
                max_timestamp,
            },
            None => return keep_whole(tombstones_kept),
        }
    };
    Filtered {
        decision,
        removed,
        tombstones_removed,
        tombstones_kept,
    }
}

/// The byte range of each record of an uncompressed batch (length varint included), or
/// None if the records section does not hold `records_count` records.
fn record_ranges(batch: &[u8], records_count: i32) -> Option<Vec<Range<usize>>> {
    let count = usize::try_from(records_count).ok()?;
    let mut ranges = Vec::with_capacity(count.min(batch.len()));
    let mut position = BATCH_HEADER_BYTES;
    for _ in 0..count {
        let (length, length_bytes) = read_varint(batch.get(position..)?)?;
        let length = usize::try_from(length).ok()?;
        let end = position.checked_add(length_bytes)?.checked_add(length)?;
        if end > batch.len() {
            return None;
        }
        ranges.push(position..end);
        position = end;
    }
    (position == batch.len()).then_some(ranges)
}

/// A zigzag varint (a record's length) and the bytes it took.
fn read_varint(bytes: &[u8]) -> Option<(i64, usize)> {
    let mut raw: u64 = 0;
    for (i, byte) in bytes.iter().take(5).enumerate() {
        raw |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            let magnitude = i64::try_from(raw >> 1).ok()?;
            let value = if raw & 1 == 0 {
                magnitude
            } else {
                -magnitude - 1
            };
            return Some((value, i + 1));
        }
    }
    None
}

/// The batch's header followed by the `kept` records, with `batchLength`, `recordsCount`,
/// `maxTimestamp` and the CRC made to match. Everything else in the header is kept (see
/// the module docs for why `baseOffset`, `lastOffsetDelta` and `baseTimestamp` stay).
fn rebuild_batch(batch: &[u8], kept: &[Range<usize>], max_timestamp: i64) -> Option<BytesMut> {
    let records_bytes: usize = kept.iter().map(|r| r.len()).sum();
    let mut out = BytesMut::with_capacity(BATCH_HEADER_BYTES + records_bytes);
    out.extend_from_slice(batch.get(..BATCH_HEADER_BYTES)?);
    for range in kept {
        out.extend_from_slice(batch.get(range.clone())?);
    }
    let batch_length = i32::try_from(out.len().checked_sub(LOG_OVERHEAD_BYTES)?).ok()?;
    let records_count = i32::try_from(kept.len()).ok()?;
    put(&mut out, offsets::BATCH_LENGTH, &batch_length.to_be_bytes())?;
    put(
        &mut out,
        offsets::RECORDS_COUNT,
        &records_count.to_be_bytes(),
    )?;
    put(
        &mut out,
        offsets::MAX_TIMESTAMP,
        &max_timestamp.to_be_bytes(),
    )?;
    let crc = crc32c::crc32c(out.get(offsets::ATTRIBUTES..)?);
    put(&mut out, offsets::CRC, &crc.to_be_bytes())?;
    Some(out)
}

fn put(out: &mut [u8], at: usize, bytes: &[u8]) -> Option<()> {
    out.get_mut(at..at.checked_add(bytes.len())?)?
        .copy_from_slice(bytes);
    Some(())
}

/// The file's modification time in milliseconds since the epoch (0 if before it).
fn modified_ms(file: &LogFile) -> Result<i64> {
    let modified = file
        .as_std()
        .metadata()
        .and_then(|m| m.modified())
        .map_err(|e| StorageError::io(file.path(), e))?;
    Ok(modified
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
}

/// Removes files, ignoring failures: clean-up of a swap that did not happen (recovery
/// removes anything left).
fn remove_all(paths: &[std::path::PathBuf]) {
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
}

/// Finishes or rolls back compaction swaps interrupted by a crash, before recovery lists
/// the segments. A `<base>.log.swap` means the swap was committed: its index `.swap` files
/// (if still there) and then the log are renamed over the live files. Index `.swap` files
/// without a log `.swap` belong to a swap that never committed and are removed (the
/// `.cleaned` files are removed by the segment listing).
pub(super) async fn finish_interrupted_swaps(dir: &Path, disk: &Disk) -> Result<()> {
    let mut swaps = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| StorageError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(SWAP) {
            swaps.push(name);
        }
    }
    if swaps.is_empty() {
        return Ok(());
    }
    // Logs last, as the swap itself does.
    swaps.sort_by_key(|name| name.ends_with(".log.swap"));
    let committed: HashSet<&str> = swaps
        .iter()
        .filter_map(|name| name.strip_suffix(".log.swap"))
        .collect();
    for name in &swaps {
        let path = dir.join(name);
        let stem = name.split('.').next().unwrap_or_default();
        let target = name.strip_suffix(SWAP).unwrap_or_default();
        if committed.contains(stem) && !target.is_empty() {
            info!(dir = %dir.display(), file = %name, "completing an interrupted compaction swap");
            std::fs::rename(&path, dir.join(target)).map_err(|e| StorageError::io(&path, e))?;
        } else {
            info!(dir = %dir.display(), file = %name, "rolling back an uncommitted compaction swap");
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StorageError::io(&path, e)),
            }
        }
    }
    disk.sync_dir(dir)
        .await
        .map_err(|e| StorageError::io(dir, e))
}
