//! Background seals of rolled segments and the recovery point, against every I/O set-up:
//! rolled segments get synced and vouched for without an append waiting on it, durable
//! appends and `sync` wait for the seals before them, and recovery rescans exactly the
//! closed segments the recovery point does not cover (cutting the log at a torn one).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{batch, decode, Io};
use petrel_storage::{Durability, LogConfig, PartitionLog, SystemClock};

const T0: i64 = 1_700_000_000_000;

fn small_segments() -> LogConfig {
    LogConfig {
        segment_bytes: 16 * 1024,
        index_interval_bytes: 1024,
        ..LogConfig::default()
    }
}

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

async fn fsync_appends_wait_for_the_seals_before_them(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = open(dir.path(), io).await;
    fill(&log, 0, 60, Durability::PageCache).await;
    // No `sync`: the durable append itself must wait until every segment closed before it
    // is synced, which is when the recovery point has moved up to the active segment.
    fill(&log, 60, 1, Durability::Fsync).await;
    assert_eq!(
        recovery_point(dir.path()),
        segment_bases(dir.path()).last().copied()
    );
}

async fn a_torn_unsynced_closed_segment_ends_the_log(io: Io) {
    let (dir, bases) = written_log(io).await;
    // As after a power loss while the seal of segment 1 (and later ones) was running:
    // segment 1 lost its last batch's end.
    set_recovery_point(dir.path(), bases[1]);
    let path = segment_path(dir.path(), bases[1]);
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 100)
        .unwrap();
    let (log, _) = open(dir.path(), io).await;
    let end_of_whole_batches = bases[2] - 4;
    assert_eq!(log.log_end_offset(), end_of_whole_batches);
    assert_eq!(
        segment_bases(dir.path()),
        bases[..2].to_vec(),
        "the segments after the torn one are deleted"
    );
    assert_whole_log(&log).await;
    assert_eq!(recovery_point(dir.path()), Some(bases[1]));
    // Appends continue where the whole batches end.
    fill(&log, end_of_whole_batches as u64 / 4, 1, Durability::Fsync).await;
    assert_eq!(log.log_end_offset(), end_of_whole_batches + 4);
    assert_whole_log(&log).await;
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
    fsync_appends_wait_for_the_seals_before_them,
    a_torn_unsynced_closed_segment_ends_the_log,
    an_intact_unsynced_closed_segment_is_kept_and_then_vouched_for,
    closed_segments_the_recovery_point_covers_are_not_rescanned,
    a_log_without_a_recovery_point_writes_one_at_its_first_roll,
    rolls_after_a_truncation_below_the_recovery_point,
);
