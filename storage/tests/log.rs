//! The partition log against both I/O backends: append/read, rolling, restart and
//! recovery from damaged files, retention, truncation, timestamps, epochs, group commit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use common::{batch, decode, open, small_segments, value_of, Io};
use petrel_storage::leader_epoch::EpochEntry;
use petrel_storage::{
    Durability, LogConfig, ManualClock, StorageError, SystemClock, TimestampType,
};

const T0: i64 = 1_700_000_000_000;

/// Appends `n` batches of 4 records x 300 bytes; returns the base offset of each.
async fn fill(log: &petrel_storage::PartitionLog, first_seq: u64, n: u64) -> Vec<i64> {
    let mut bases = Vec::new();
    for seq in first_seq..first_seq + n {
        let info = log
            .append(
                batch(seq, 4, 300, T0 + seq as i64 * 10),
                0,
                Durability::PageCache,
            )
            .await
            .unwrap();
        assert_eq!(info.last_offset, info.base_offset + 3);
        bases.push(info.base_offset);
    }
    bases
}

/// Checks that reading everything returns batches 0..n with their original contents.
async fn assert_contents(log: &petrel_storage::PartitionLog, from_seq: u64, n: u64) {
    let end = log.log_end_offset();
    let start = log.log_start_offset().await;
    let (bytes, result) = log
        .read_to_memory(start, u64::MAX, end, true)
        .await
        .unwrap();
    assert_eq!(result.next_offset, end);
    let records = decode(&bytes);
    assert_eq!(records.len() as u64, n * 4);
    for (k, (offset, key, value)) in records.iter().enumerate() {
        let seq = from_seq + k as u64 / 4;
        let i = k % 4;
        assert_eq!(*offset, start + k as i64);
        assert_eq!(key, &Bytes::from(format!("{seq}-{i}")));
        assert_eq!(value, &value_of(seq, i, 300));
    }
}

async fn append_assigns_offsets_and_reads_back(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), io, small_segments(), Arc::new(SystemClock)).await;
    let bases = fill(&log, 0, 50).await;
    assert_eq!(bases, (0..50).map(|b| b * 4).collect::<Vec<_>>());
    assert_eq!(log.log_end_offset(), 200);
    assert!(
        log.segment_count().await > 3,
        "16 KiB segments must have rolled"
    );
    assert_contents(&log, 0, 50).await;
    // A read from inside a batch returns that whole batch first.
    let (bytes, result) = log.read_to_memory(41, u64::MAX, 200, true).await.unwrap();
    assert_eq!(decode(&bytes)[0].0, 40);
    assert_eq!(result.next_offset, 200);
}

async fn reads_respect_max_bytes_visibility_and_min_one_batch(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
    fill(&log, 0, 10).await;
    let one_batch = log.read(0, u64::MAX, 4, true).await.unwrap();
    assert_eq!(
        one_batch.next_offset, 4,
        "visible_up_to 4 admits only the first batch"
    );
    let batch_bytes = one_batch.bytes;
    let two = log
        .read(0, batch_bytes * 2 + batch_bytes / 2, 40, true)
        .await
        .unwrap();
    assert_eq!((two.bytes, two.next_offset), (batch_bytes * 2, 8));
    let tiny = log.read(8, 10, 40, true).await.unwrap();
    assert_eq!(
        (tiny.bytes, tiny.next_offset),
        (batch_bytes, 12),
        "first batch returned whole despite max_bytes"
    );
    let none = log.read(8, 10, 40, false).await.unwrap();
    assert_eq!(none.bytes, 0);
    let at_end = log.read(40, u64::MAX, 40, true).await.unwrap();
    assert!(at_end.regions.is_empty());
    assert!(matches!(
        log.read(41, 100, 41, true).await,
        Err(StorageError::OffsetOutOfRange { .. })
    ));
}

async fn data_and_offsets_survive_a_restart(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path(), io, small_segments(), Arc::new(SystemClock)).await;
        fill(&log, 0, 30).await;
    }
    let log = open(dir.path(), io, small_segments(), Arc::new(SystemClock)).await;
    assert_eq!(log.log_end_offset(), 120);
    assert_contents(&log, 0, 30).await;
    fill(&log, 30, 5).await;
    assert_contents(&log, 0, 35).await;
}

async fn segment_files_use_kafka_names(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), io, small_segments(), Arc::new(SystemClock)).await;
    fill(&log, 0, 60).await;
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(
        names.contains(&"00000000000000000000.log".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"00000000000000000000.index".to_string()));
    assert!(names.contains(&"00000000000000000000.timeindex".to_string()));
    let logs: Vec<&String> = names.iter().filter(|n| n.ends_with(".log")).collect();
    assert!(logs.len() > 3);
    for name in logs {
        assert_eq!(name.len(), 24);
    }
}

async fn torn_tail_is_truncated_on_recovery(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
        fill(&log, 0, 10).await;
    }
    let path = dir.path().join("00000000000000000000.log");
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len - 100).unwrap(); // the last batch loses its end
    let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
    assert_eq!(log.log_end_offset(), 36, "the torn tenth batch is gone");
    assert_contents(&log, 0, 9).await;
    assert!(
        std::fs::metadata(&path).unwrap().len() < len - 100,
        "file truncated to the last whole batch"
    );
    // The log accepts appends after recovery, continuing at offset 36.
    assert_eq!(fill(&log, 9, 1).await, vec![36]);
}

/// Writes 10 batches, flips one byte inside batch `corrupt_batch`, optionally deletes the
/// indexes, reopens, and returns the recovered log end offset.
async fn recover_after_flip(
    io: Io,
    corrupt_batch: usize,
    delete_indexes: bool,
) -> (tempfile::TempDir, i64) {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
        fill(&log, 0, 10).await;
    }
    let path = dir.path().join("00000000000000000000.log");
    let mut bytes = std::fs::read(&path).unwrap();
    let per_batch = bytes.len() / 10;
    bytes[per_batch * corrupt_batch + 200] ^= 0x40; // inside that batch's records
    std::fs::write(&path, &bytes).unwrap();
    if delete_indexes {
        std::fs::remove_file(dir.path().join("00000000000000000000.index")).unwrap();
        std::fs::remove_file(dir.path().join("00000000000000000000.timeindex")).unwrap();
    }
    let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
    let end = log.log_end_offset();
    assert_contents(&log, 0, end as u64 / 4).await;
    (dir, end)
}

async fn flipped_byte_in_the_tail_truncates_from_the_corrupt_batch(io: Io) {
    // The tail after the last index entry is what recovery validates (CRC included).
    let (_dir, end) = recover_after_flip(io, 9, false).await;
    assert_eq!(end, 36, "the corrupt last batch is dropped");
}

async fn flipped_byte_anywhere_is_found_when_the_index_is_rebuilt(io: Io) {
    // Without an index the whole active segment is rescanned and validated.
    let (_dir, end) = recover_after_flip(io, 7, true).await;
    assert_eq!(end, 28, "batches from the corrupt one on are dropped");
}

async fn missing_or_garbled_indexes_are_rebuilt(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        index_interval_bytes: 512,
        ..small_segments()
    };
    let before: Vec<_>;
    {
        let log = open(dir.path(), io, config.clone(), Arc::new(SystemClock)).await;
        fill(&log, 0, 40).await;
        before = first_offsets_read_from_each(&log).await;
    }
    let mut damaged = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("index") if damaged % 2 == 0 => std::fs::remove_file(&path).unwrap(),
            Some("index") => std::fs::write(&path, b"\xff\xff\xff\xff garbage").unwrap(),
            Some("timeindex") => std::fs::remove_file(&path).unwrap(),
            _ => continue,
        }
        damaged += 1;
    }
    assert!(damaged > 4);
    let log = open(dir.path(), io, config, Arc::new(SystemClock)).await;
    assert_eq!(first_offsets_read_from_each(&log).await, before);
    assert_contents(&log, 0, 40).await;
    let index = std::fs::metadata(dir.path().join("00000000000000000000.index"))
        .unwrap()
        .len();
    assert!(
        index > 0 && index.is_multiple_of(8),
        "index rewritten ({index} bytes)"
    );
}

/// The first offset returned when reading from every offset.
async fn first_offsets_read_from_each(log: &petrel_storage::PartitionLog) -> Vec<i64> {
    let end = log.log_end_offset();
    let mut firsts = Vec::new();
    for from in 0..end {
        let (bytes, _) = log.read_to_memory(from, 1, end, true).await.unwrap();
        firsts.push(decode(&bytes)[0].0);
    }
    firsts
}

async fn retention_by_size_and_time_deletes_old_segments(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let config = LogConfig {
        retention_bytes: 40 * 1024,
        retention_ms: -1,
        ..small_segments()
    };
    let log = open(dir.path(), io, config.clone(), Arc::new(clock.clone())).await;
    fill(&log, 0, 100).await;
    let before = log.size_bytes().await;
    let outcome = log.apply_retention().await.unwrap();
    assert!(outcome.segments_deleted > 0);
    assert!(log.size_bytes().await <= 40 * 1024 + 16 * 1024);
    assert_eq!(log.size_bytes().await, before - outcome.bytes_deleted);
    let start = log.log_start_offset().await;
    assert_eq!(start, outcome.log_start_offset);
    assert!(matches!(
        log.read(0, 1, 400, true).await,
        Err(StorageError::OffsetOutOfRange { .. })
    ));
    assert_contents(&log, start as u64 / 4, 100 - start as u64 / 4).await;
    // Time: every closed segment's newest record is older than retention.ms.
    log.set_config(LogConfig {
        retention_ms: 60_000,
        retention_bytes: -1,
        ..config
    })
    .await;
    clock.advance_ms(3_600_000);
    log.apply_retention().await.unwrap();
    assert_eq!(
        log.segment_count().await,
        1,
        "only the active segment remains"
    );
    assert_eq!(log.log_end_offset(), 400);
}

async fn advancing_log_start_and_truncating(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), io, small_segments(), Arc::new(SystemClock)).await;
    fill(&log, 0, 50).await;
    assert_eq!(log.advance_log_start_offset(101).await.unwrap(), 101);
    assert!(matches!(
        log.read(100, 1, 200, true).await,
        Err(StorageError::OffsetOutOfRange { .. })
    ));
    assert!(log.advance_log_start_offset(1000).await.is_err());
    // Truncating into the middle of a batch cuts at that batch's start, as Kafka does.
    assert_eq!(log.truncate_to(150).await.unwrap(), 148);
    assert_eq!(log.log_end_offset(), 148);
    assert_eq!(fill(&log, 37, 1).await, vec![148]);
    drop(log);
    let log = open(dir.path(), io, small_segments(), Arc::new(SystemClock)).await;
    assert_eq!(
        log.log_start_offset().await,
        101,
        "log start offset survives a restart"
    );
    assert_eq!(log.log_end_offset(), 152);
}

async fn log_append_time_is_stamped(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0 + 5_000);
    let config = LogConfig {
        timestamp_type: TimestampType::LogAppendTime,
        ..LogConfig::default()
    };
    let log = open(dir.path(), io, config, Arc::new(clock)).await;
    let info = log
        .append(batch(0, 3, 100, T0), 0, Durability::PageCache)
        .await
        .unwrap();
    assert_eq!(info.log_append_time_ms, Some(T0 + 5_000));
    let (bytes, _) = log.read_to_memory(0, u64::MAX, 3, true).await.unwrap();
    let header =
        petrel_protocol::records::validate_batch(&bytes).expect("CRC still valid after stamping");
    assert_eq!(header.max_timestamp, T0 + 5_000);
    assert_eq!(
        header.timestamp_type(),
        petrel_protocol::records::TimestampType::LogAppendTime
    );
    // The oracle agrees on the type (it does not apply maxTimestamp to records itself).
    let mut buf = bytes.clone();
    let sets = kafka_protocol::records::RecordBatchDecoder::decode_all(&mut buf).unwrap();
    assert!(sets[0]
        .records
        .iter()
        .all(|r| r.timestamp_type == kafka_protocol::records::TimestampType::LogAppend));
}

async fn offset_for_timestamp_finds_the_first_record_at_or_after(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), io, small_segments(), Arc::new(SystemClock)).await;
    fill(&log, 0, 60).await; // batch seq has timestamps T0 + 10*seq + 0..3
    let found = log
        .offset_for_timestamp(T0 + 10 * 33 + 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.offset, found.timestamp_ms), (33 * 4 + 2, T0 + 332));
    let between = log
        .offset_for_timestamp(T0 + 10 * 20 + 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(between.offset, 21 * 4, "first record of the next batch");
    assert_eq!(
        log.offset_for_timestamp(T0 - 1)
            .await
            .unwrap()
            .unwrap()
            .offset,
        0
    );
    assert!(log
        .offset_for_timestamp(T0 + 10_000)
        .await
        .unwrap()
        .is_none());
}

async fn leader_epochs_are_checkpointed(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
        log.append(batch(0, 2, 10, T0), 0, Durability::PageCache)
            .await
            .unwrap();
        log.append(batch(1, 2, 10, T0), 3, Durability::PageCache)
            .await
            .unwrap();
        log.append(batch(2, 2, 10, T0), 3, Durability::PageCache)
            .await
            .unwrap();
        log.append(batch(3, 2, 10, T0), 7, Durability::PageCache)
            .await
            .unwrap();
    }
    let text = std::fs::read_to_string(dir.path().join("leader-epoch-checkpoint")).unwrap();
    assert_eq!(text, "0\n3\n0 0\n3 2\n7 6\n");
    let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
    log.truncate_to(4).await.unwrap();
    assert_eq!(
        log.leader_epochs().await,
        vec![
            EpochEntry {
                epoch: 0,
                start_offset: 0
            },
            EpochEntry {
                epoch: 3,
                start_offset: 2
            }
        ]
    );
}

async fn concurrent_fsync_appends_share_fdatasyncs(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let disk = common::disk(io);
    let log = Arc::new(
        petrel_storage::PartitionLog::open(
            dir.path(),
            disk.clone(),
            LogConfig::default(),
            Arc::new(SystemClock),
        )
        .await
        .unwrap(),
    );
    let before = disk.stats().fdatasync_calls;
    let tasks: Vec<_> = (0..64u64)
        .map(|seq| {
            let log = log.clone();
            tokio::spawn(async move {
                log.append(batch(seq, 4, 1000, T0), 0, Durability::Fsync)
                    .await
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let fsyncs = disk.stats().fdatasync_calls - before;
    println!("{io:?}: 64 concurrent Fsync appends used {fsyncs} fdatasync calls");
    assert!(
        (1..64).contains(&fsyncs),
        "{fsyncs} fdatasyncs for 64 appends"
    );
    assert_eq!(log.log_end_offset(), 256);
}

async fn regions_stay_readable_after_their_segment_is_deleted(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let log = open(
        dir.path(),
        io,
        LogConfig {
            retention_bytes: 0,
            ..small_segments()
        },
        Arc::new(SystemClock),
    )
    .await;
    fill(&log, 0, 40).await;
    let result = log.read(0, 4096, 160, true).await.unwrap();
    let region = result.regions[0].clone();
    log.apply_retention().await.unwrap();
    assert!(!dir.path().join("00000000000000000000.log").exists());
    let mut buf = vec![0u8; region.len as usize];
    std::os::unix::fs::FileExt::read_exact_at(region.file.as_std(), &mut buf, region.position)
        .unwrap();
    assert_eq!(decode(&Bytes::from(buf))[0].0, 0);
}

async fn close_leaves_complete_indexes_and_nothing_to_rescan(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    {
        let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
        fill(&log, 0, 20).await;
        log.close().await.unwrap();
    }
    let time_index = std::fs::read(dir.path().join("00000000000000000000.timeindex")).unwrap();
    assert!(
        time_index.len() >= 12,
        "the active segment's final time-index entry is written"
    );
    let last = &time_index[time_index.len() - 12..];
    assert_eq!(
        i64::from_be_bytes(last[..8].try_into().unwrap()),
        T0 + 19 * 10 + 3,
        "largest timestamp"
    );
    let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
    assert_contents(&log, 0, 20).await;
}

/// Regression: the log end offset was published after the lock was released, so a slower
/// appender could publish an older end over a newer one (seen as 252 after 256).
async fn log_end_offset_never_goes_backwards_under_concurrent_appends(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await);
    let mut watch = log.subscribe_end_offset();
    let watcher = tokio::spawn(async move {
        let mut last = *watch.borrow_and_update();
        while watch.changed().await.is_ok() {
            let now = *watch.borrow_and_update();
            assert!(now >= last, "log end went back from {last} to {now}");
            last = now;
            if now == 4 * 200 {
                break;
            }
        }
    });
    let appenders: Vec<_> = (0..8u64)
        .map(|a| {
            let log = log.clone();
            tokio::spawn(async move {
                for seq in 0..25 {
                    log.append(batch(a * 100 + seq, 4, 100, T0), 0, Durability::Fsync)
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for appender in appenders {
        appender.await.unwrap();
    }
    tokio::time::timeout(std::time::Duration::from_secs(10), watcher)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(log.log_end_offset(), 800);
}

for_each_backend!(
    log_end_offset_never_goes_backwards_under_concurrent_appends,
    close_leaves_complete_indexes_and_nothing_to_rescan,
    append_assigns_offsets_and_reads_back,
    reads_respect_max_bytes_visibility_and_min_one_batch,
    data_and_offsets_survive_a_restart,
    segment_files_use_kafka_names,
    torn_tail_is_truncated_on_recovery,
    flipped_byte_in_the_tail_truncates_from_the_corrupt_batch,
    flipped_byte_anywhere_is_found_when_the_index_is_rebuilt,
    missing_or_garbled_indexes_are_rebuilt,
    retention_by_size_and_time_deletes_old_segments,
    advancing_log_start_and_truncating,
    log_append_time_is_stamped,
    offset_for_timestamp_finds_the_first_record_at_or_after,
    leader_epochs_are_checkpointed,
    concurrent_fsync_appends_share_fdatasyncs,
    regions_stay_readable_after_their_segment_is_deleted,
);
