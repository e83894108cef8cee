//! Background seals of rolled segments and the recovery point, against every I/O set-up:
//! rolled segments get synced and vouched for, and recovery rescans exactly the closed
//! segments the recovery point does not cover (cutting the log where one lost records).
//! That durable appends, `sync`, `close` and compaction wait for unfinished seals is
//! tested in `src/log/seal.rs`, where a seal can be held unfinished.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{batch, decode, small_segments, Io};
use petrel_storage::{Durability, PartitionLog, SystemClock};

const T0: i64 = 1_700_000_000_000;

async fn open(dir: &Path, io: Io) -> (PartitionLog, petrel_storage::io::Disk) {
    let disk = common::disk(io);
    let log = PartitionLog::open(dir, disk.clone(), small_segments(), Arc::new(SystemClock))
        .await
        .unwrap();
    (log, disk)
}

/// Appends batches `first..first + n` (4 records of 300 bytes each) with `durability`.
async fn fill(log: &PartitionLog, first: u64, n: u64, durability: Durability) {
    for seq in first..first + n {
        log.append(batch(seq, 4, 300, T0 + seq as i64), 0, durability)
            .await
            .unwrap();
    }
}

/// Base offsets of the segment files in `dir`, sorted.
fn segment_bases(dir: &Path) -> Vec<i64> {
    let mut bases: Vec<i64> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".log").map(|stem| stem.parse().unwrap())
        })
        .collect();
    bases.sort_unstable();
    bases
}

fn recovery_point(dir: &Path) -> Option<i64> {
    std::fs::read_to_string(dir.join("recovery-point"))
        .ok()
        .map(|text| text.trim().parse().unwrap())
}

fn set_recovery_point(dir: &Path, offset: i64) {
    std::fs::write(dir.join("recovery-point"), format!("{offset}\n")).unwrap();
}

fn segment_path(dir: &Path, base: i64) -> std::path::PathBuf {
    dir.join(format!("{base:020}.log"))
}

/// Every record from the log start to its end, checked to be batch `offset / 4`'s.
async fn assert_whole_log(log: &PartitionLog) {
    let end = log.log_end_offset();
    let (bytes, _) = log.read_to_memory(0, u64::MAX, end, true).await.unwrap();
    let records = decode(&bytes);
    assert_eq!(records.len() as i64, end);
    for (k, (offset, key, _)) in records.iter().enumerate() {
        assert_eq!(*offset, k as i64);
        assert_eq!(key, &bytes::Bytes::from(format!("{}-{}", k / 4, k % 4)));
    }
}

/// A log of 60 batches (240 offsets) over several 16 KiB segments, closed cleanly.
async fn written_log(io: Io) -> (tempfile::TempDir, Vec<i64>) {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = open(dir.path(), io).await;
    fill(&log, 0, 60, Durability::PageCache).await;
    log.close().await.unwrap();
    let bases = segment_bases(dir.path());
    assert!(bases.len() >= 4, "{bases:?}");
    (dir, bases)
}

async fn rolled_segments_are_synced_in_the_background(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let (log, disk) = open(dir.path(), io).await;
    fill(&log, 0, 60, Durability::PageCache).await;
    log.sync().await.unwrap();
    let bases = segment_bases(dir.path());
    let closed = bases.len() as u64 - 1;
    assert!(closed >= 3, "{bases:?}");
    // Each closed segment's log and two indexes, plus the active log for `sync`.
    assert!(
        disk.stats().fdatasync_calls > 3 * closed,
        "{:?} for {closed} closed segments",
        disk.stats()
    );
    assert_eq!(
        recovery_point(dir.path()),
        bases.last().copied(),
        "the recovery point vouches for every closed segment"
    );
}

/// Start position of each batch in a segment file.
fn batch_positions(path: &Path) -> Vec<u64> {
    let bytes = std::fs::read(path).unwrap();
    let mut positions = Vec::new();
    let mut at = 0usize;
    while at + 12 <= bytes.len() {
        positions.push(at as u64);
        let length = i32::from_be_bytes(bytes[at + 8..at + 12].try_into().unwrap());
        at += 12 + length as usize;
    }
    positions
}

/// As after a power loss while the seals of segment 1 and later were running: segment 1
/// is cut to `keep_bytes(its batch positions, its length)`. Checks that the log then ends
/// after the last whole batch kept, that the segments after it are gone, and that appends
/// continue from there.
async fn unsynced_segment_1_loses_its_end(io: Io, keep_bytes: fn(&[u64], u64) -> u64) {
    let (dir, bases) = written_log(io).await;
    set_recovery_point(dir.path(), bases[1]);
    let path = segment_path(dir.path(), bases[1]);
    let positions = batch_positions(&path);
    let len = std::fs::metadata(&path).unwrap().len();
    let keep = keep_bytes(&positions, len);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(keep)
        .unwrap();
    let whole_batches = positions.iter().filter(|p| **p + 12 < keep).count() as i64
        - i64::from(!positions.contains(&keep) && keep < len);
    let end = bases[1] + 4 * whole_batches;
    let (log, _) = open(dir.path(), io).await;
    assert_eq!(log.log_end_offset(), end);
    assert_eq!(
        segment_bases(dir.path()),
        bases[..2].to_vec(),
        "the segments after the damaged one are deleted"
    );
    assert_whole_log(&log).await;
    assert_eq!(recovery_point(dir.path()), Some(bases[1]));
    fill(&log, end as u64 / 4, 1, Durability::Fsync).await;
    assert_eq!(log.log_end_offset(), end + 4);
    assert_whole_log(&log).await;
    drop(log);
    let (log, _) = open(dir.path(), io).await;
    assert_eq!(log.log_end_offset(), end + 4);
}

async fn a_torn_unsynced_closed_segment_ends_the_log(io: Io) {
    // The last batch loses its end: the scan finds it torn.
    unsynced_segment_1_loses_its_end(io, |_, len| len - 100).await;
}

async fn an_unsynced_closed_segment_cut_at_a_batch_boundary_ends_the_log(io: Io) {
    // Whole batches lost: nothing torn to find, only the offsets that do not reach the
    // next segment's base.
    unsynced_segment_1_loses_its_end(io, |positions, _| positions[positions.len() - 2]).await;
}

async fn an_unsynced_closed_segment_with_no_data_left_ends_the_log(io: Io) {
    unsynced_segment_1_loses_its_end(io, |_, _| 0).await;
}

async fn an_intact_unsynced_closed_segment_is_kept_and_then_vouched_for(io: Io) {
    let (dir, bases) = written_log(io).await;
    set_recovery_point(dir.path(), bases[1]);
    let (log, _) = open(dir.path(), io).await;
    assert_eq!(log.log_end_offset(), 240);
    assert_eq!(segment_bases(dir.path()), bases);
    assert_whole_log(&log).await;
    // Recovery synced the rescanned segments and moved the point to the active one.
    assert_eq!(recovery_point(dir.path()), bases.last().copied());
}

async fn closed_segments_the_recovery_point_covers_are_not_rescanned(io: Io) {
    // The same damage as above, but the point says segment 1 was synced: it is trusted
    // as far as its length (start-up work does not grow with the synced data).
    let (dir, bases) = written_log(io).await;
    assert_eq!(recovery_point(dir.path()), bases.last().copied());
    let path = segment_path(dir.path(), bases[1]);
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 100)
        .unwrap();
    let (log, _) = open(dir.path(), io).await;
    assert_eq!(log.log_end_offset(), 240);
    assert_eq!(segment_bases(dir.path()), bases);
}

async fn a_log_without_a_recovery_point_writes_one_at_its_first_roll(io: Io) {
    // A directory written before the recovery point existed: its closed segments were
    // synced when they rolled, so they are trusted; the first roll records a point that
    // no longer vouches for the segment it closes, before the next segment exists.
    let (dir, bases) = written_log(io).await;
    std::fs::remove_file(dir.path().join("recovery-point")).unwrap();
    let (log, _) = open(dir.path(), io).await;
    assert_eq!(log.log_end_offset(), 240);
    assert_eq!(recovery_point(dir.path()), None);
    fill(&log, 60, 20, Durability::PageCache).await;
    log.sync().await.unwrap();
    let now = segment_bases(dir.path());
    assert!(now.len() > bases.len(), "{now:?}");
    assert_eq!(recovery_point(dir.path()), now.last().copied());
    assert_whole_log(&log).await;
}

async fn rolls_after_a_truncation_below_the_recovery_point(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = open(dir.path(), io).await;
    fill(&log, 0, 60, Durability::PageCache).await;
    log.sync().await.unwrap();
    let bases = segment_bases(dir.path());
    // Back into segment 1: it is active again, below the recovery point.
    log.truncate_to(bases[1] + 4).await.unwrap();
    assert_eq!(segment_bases(dir.path()), bases[..2].to_vec());
    fill(&log, (bases[1] as u64 + 4) / 4, 40, Durability::PageCache).await;
    let now = segment_bases(dir.path());
    assert!(now.len() > 2, "{now:?}");
    log.sync().await.unwrap();
    assert_eq!(recovery_point(dir.path()), now.last().copied());
    drop(log);
    let (log, _) = open(dir.path(), io).await;
    assert_whole_log(&log).await;
}

for_each_backend!(
    rolled_segments_are_synced_in_the_background,
    a_torn_unsynced_closed_segment_ends_the_log,
    an_unsynced_closed_segment_cut_at_a_batch_boundary_ends_the_log,
    an_unsynced_closed_segment_with_no_data_left_ends_the_log,
    an_intact_unsynced_closed_segment_is_kept_and_then_vouched_for,
    closed_segments_the_recovery_point_covers_are_not_rescanned,
    a_log_without_a_recovery_point_writes_one_at_its_first_roll,
    rolls_after_a_truncation_below_the_recovery_point,
);
