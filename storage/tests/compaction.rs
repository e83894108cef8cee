//! Log compaction against every I/O backend: latest values survive at their original
//! offsets, reads across the gaps, tombstones and their delete horizon, the active segment,
//! restart after compaction, interrupted swaps, producer state and the retention hook.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use common::{open, Io};
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use petrel_protocol::records::{validate_stored_batch, BatchIter};
use petrel_storage::{Clock, Durability, LogConfig, ManualClock, PartitionLog, SystemClock};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// (offset, key, value) of a record as read back; a tombstone's value is None.
type Rec = (i64, Option<String>, Option<String>);

fn compact_config() -> LogConfig {
    LogConfig {
        segment_bytes: 2048,
        index_interval_bytes: 256,
        compact: true,
        retention_ms: -1,
        ..LogConfig::default()
    }
}

/// One uncompressed batch of `(key, value)` records (None value = tombstone), encoded by
/// the oracle; `producer` gives it an idempotent producer id and sequences.
fn keyed_batch(entries: &[(Option<&str>, Option<&str>)], producer: Option<(i64, i32)>) -> BytesMut {
    let records: Vec<Record> = entries
        .iter()
        .enumerate()
        .map(|(i, (key, value))| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: producer.map_or(-1, |p| p.0),
            producer_epoch: if producer.is_some() { 0 } else { -1 },
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            sequence: producer.map_or(i as i32 - 1, |p| p.1 + i as i32),
            timestamp: 1_700_000_000_000 + i as i64,
            key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
            value: value.map(|v| Bytes::copy_from_slice(v.as_bytes())),
            headers: indexmap::IndexMap::new(),
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &records,
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )
    .unwrap();
    buf
}

/// Every record of `bytes`, decoded by the oracle (which checks the CRCs), after checking
/// every batch with the stored-batch rules.
fn decode(bytes: &Bytes) -> Vec<Rec> {
    for item in BatchIter::new(bytes) {
        let (_, range) = item.unwrap();
        validate_stored_batch(&bytes[range]).unwrap();
    }
    let mut buf = bytes.clone();
    RecordBatchDecoder::decode_all(&mut buf)
        .unwrap()
        .into_iter()
        .flat_map(|set| set.records)
        .map(|r| {
            let text = |b: Option<Bytes>| b.map(|b| String::from_utf8(b.to_vec()).unwrap());
            (r.offset, text(r.key), text(r.value))
        })
        .collect()
}

async fn read_all(log: &PartitionLog, from: i64) -> Vec<Rec> {
    let (bytes, result) = log
        .read_to_memory(from, u64::MAX, log.log_end_offset(), true)
        .await
        .unwrap();
    assert_eq!(result.next_offset, log.log_end_offset());
    decode(&bytes)
}

/// Base offset of the active (last) segment, from the file names.
fn active_base(dir: &Path) -> i64 {
    segment_bases(dir).into_iter().max().unwrap()
}

fn segment_bases(dir: &Path) -> Vec<i64> {
    let mut bases: Vec<i64> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".log").and_then(|s| s.parse().ok())
        })
        .collect();
    bases.sort_unstable();
    bases
}

/// What compaction must leave: below `clean_end`, each key's latest record (and keyless
/// ones); from `clean_end` on, everything.
fn expected_after_compaction(all: &[Rec], clean_end: i64) -> Vec<Rec> {
    let mut latest = BTreeMap::new();
    for (offset, key, _) in all.iter().filter(|r| r.0 < clean_end) {
        if let Some(key) = key {
            latest.insert(key.clone(), *offset);
        }
    }
    all.iter()
        .filter(|(offset, key, _)| {
            *offset >= clean_end || key.as_ref().is_none_or(|k| latest.get(k) == Some(offset))
        })
        .cloned()
        .collect()
}

/// Appends `batches` batches of 5 records over 10 keys, each value naming its batch.
async fn fill_overwrites(log: &PartitionLog, batches: usize) {
    for b in 0..batches {
        let keys: Vec<String> = (0..5)
            .map(|j| format!("key-{}", (b * 5 + j) % 10))
            .collect();
        let values: Vec<String> = (0..5)
            .map(|j| format!("value-{b}-{j}-{}", "x".repeat(40)))
            .collect();
        let entries: Vec<(Option<&str>, Option<&str>)> = keys
            .iter()
            .zip(&values)
            .map(|(k, v)| (Some(k.as_str()), Some(v.as_str())))
            .collect();
        log.append(keyed_batch(&entries, None), 0, Durability::PageCache)
            .await
            .unwrap();
    }
}

async fn keeps_only_latest_values_at_their_offsets(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), io, compact_config(), Arc::new(SystemClock)).await;
    fill_overwrites(&log, 60).await;
    assert!(log.segment_count().await > 4);
    let before = read_all(&log, 0).await;
    assert_eq!(before.len(), 300);
    let clean_end = active_base(dir.path());
    let end_before = log.log_end_offset();

    let stats = log.compact(DAY_MS).await.unwrap();
    assert!(stats.segments_rewritten > 0, "{stats:?}");
    assert!(stats.records_removed > 0);
    assert!(stats.bytes_after < stats.bytes_before);
    let expected = expected_after_compaction(&before, clean_end);
    assert_eq!(read_all(&log, 0).await, expected);
    assert_eq!(log.log_end_offset(), end_before);
    assert_eq!(log.log_start_offset().await, 0);

    // A second pass finds nothing more to do.
    let again = log.compact(DAY_MS).await.unwrap();
    assert_eq!(again.segments_rewritten, 0, "{again:?}");
    // Compacted batches (with offset gaps) pass the validating scans.
    assert_eq!(again.segments_skipped, 0, "{again:?}");
    assert_eq!(read_all(&log, 0).await, expected);

    // Appends go on after the compacted segments, at the right offsets.
    let info = log
        .append(
            keyed_batch(&[(Some("key-1"), Some("new"))], None),
            0,
            Durability::PageCache,
        )
        .await
        .unwrap();
    assert_eq!(info.base_offset, end_before);
}

async fn reads_from_inside_a_removed_range_return_the_next_records(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), io, compact_config(), Arc::new(SystemClock)).await;
    fill_overwrites(&log, 60).await;
    let before = read_all(&log, 0).await;
    let clean_end = active_base(dir.path());
    log.compact(DAY_MS).await.unwrap();
    let expected = expected_after_compaction(&before, clean_end);
    let surviving: Vec<i64> = expected.iter().map(|r| r.0).collect();

    for from in 0..log.log_end_offset() {
        let next = expected.iter().find(|r| r.0 >= from).cloned();
        // A small fetch (one batch): its first record at or after `from` is the next
        // surviving one; earlier records of the same batch may precede it, as in Kafka.
        let (bytes, result) = log
            .read_to_memory(from, 1, log.log_end_offset(), true)
            .await
            .unwrap();
        let got = decode(&bytes);
        assert_eq!(
            got.iter().find(|r| r.0 >= from).cloned(),
            next,
            "fetch from {from} (surviving: {surviving:?})"
        );
        assert!(result.next_offset > from);
        // And a full read from there returns exactly what survives from there on.
        let all_from: Vec<Rec> = read_all(&log, from)
            .await
            .into_iter()
            .filter(|r| r.0 >= from)
            .collect();
        let want: Vec<Rec> = expected.iter().filter(|r| r.0 >= from).cloned().collect();
        assert_eq!(all_from, want, "read from {from}");
    }
}

async fn tombstones_are_kept_then_dropped_after_delete_retention(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(SystemClock.now_ms());
    let log = open(dir.path(), io, compact_config(), Arc::new(clock.clone())).await;
    let payload = "p".repeat(300);
    log.append(
        keyed_batch(
            &[
                (Some("gone"), Some(&payload)),
                (Some("stays"), Some(&payload)),
                (Some("gone"), None),
            ],
            None,
        ),
        0,
        Durability::PageCache,
    )
    .await
    .unwrap();
    // Roll the segment holding the tombstone, then one more so its successor is closed too.
    fill_overwrites(&log, 20).await;
    assert!(log.segment_count().await > 2);

    let stats = log.compact(DAY_MS).await.unwrap();
    assert_eq!(stats.tombstones_removed, 0, "{stats:?}");
    let after = read_all(&log, 0).await;
    assert_eq!(
        after
            .iter()
            .filter(|r| r.0 < 3)
            .cloned()
            .collect::<Vec<_>>(),
        vec![
            (1, Some("stays".into()), Some(payload.clone())),
            (2, Some("gone".into()), None),
        ]
    );

    // Not yet due: nothing changes.
    clock.advance_ms(DAY_MS / 2);
    log.compact(DAY_MS).await.unwrap();
    assert!(read_all(&log, 0).await.iter().any(|r| r.0 == 2));

    // Past the delete horizon (counted from the segment's last modification, which the
    // first rewrite kept): the tombstone goes.
    clock.advance_ms(DAY_MS);
    let stats = log.compact(DAY_MS).await.unwrap();
    assert_eq!(stats.tombstones_removed, 1, "{stats:?}");
    let after = read_all(&log, 0).await;
    assert_eq!(
        after
            .iter()
            .filter(|r| r.0 < 3)
            .cloned()
            .collect::<Vec<_>>(),
        vec![(1, Some("stays".into()), Some(payload.clone()))]
    );
}

async fn the_active_segment_is_untouched(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let config = LogConfig {
        segment_bytes: 1 << 20,
        ..compact_config()
    };
    let log = open(dir.path(), io, config, Arc::new(SystemClock)).await;
    fill_overwrites(&log, 30).await;
    assert_eq!(log.segment_count().await, 1);
    log.close().await.unwrap();
    let path = dir.path().join(format!("{:020}.log", 0));
    let bytes_before = std::fs::read(&path).unwrap();
    let stats = log.compact(0).await.unwrap();
    assert_eq!(stats.segments_scanned, 0);
    assert_eq!(std::fs::read(&path).unwrap(), bytes_before);
    assert_eq!(read_all(&log, 0).await.len(), 150);
}

async fn compacted_data_survives_a_restart(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), io, compact_config(), Arc::new(SystemClock)).await;
    fill_overwrites(&log, 60).await;
    log.compact(DAY_MS).await.unwrap();
    let compacted = read_all(&log, 0).await;
    let end = log.log_end_offset();
    drop(log);
    // Not closed: the active segment is recovered by a rescan; closed compacted segments
    // are trusted, or rebuilt when their indexes are missing.
    for name in ["index", "timeindex"] {
        std::fs::remove_file(dir.path().join(format!("{:020}.{name}", 0))).unwrap();
    }
    let log = open(dir.path(), io, compact_config(), Arc::new(SystemClock)).await;
    assert_eq!(log.log_end_offset(), end);
    assert_eq!(read_all(&log, 0).await, compacted);
    for from in [1, 7, 33, 101] {
        let want: Vec<Rec> = compacted.iter().filter(|r| r.0 >= from).cloned().collect();
        let got: Vec<Rec> = read_all(&log, from)
            .await
            .into_iter()
            .filter(|r| r.0 >= from)
            .collect();
        assert_eq!(got, want);
    }
    // Timestamp lookups read compacted batches too (their scans validate each batch).
    let first = log.offset_for_timestamp(0).await.unwrap().unwrap();
    assert_eq!(first.offset, compacted[0].0);
    assert_eq!(log.compact(DAY_MS).await.unwrap().segments_skipped, 0);
}

/// Copies the partition directory's regular files.
fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

async fn interrupted_swaps_are_finished_or_rolled_back(io: Io) {
    // Two identical logs; one is compacted, and its cleaned first segment is planted in the
    // other as a swap interrupted at various points.
    let original = tempfile::tempdir().unwrap();
    let log = open(original.path(), io, compact_config(), Arc::new(SystemClock)).await;
    fill_overwrites(&log, 60).await;
    log.close().await.unwrap();
    let uncompacted = read_all(&log, 0).await;
    drop(log);
    let compacted_dir = tempfile::tempdir().unwrap();
    copy_dir(original.path(), compacted_dir.path());
    let log = open(
        compacted_dir.path(),
        io,
        compact_config(),
        Arc::new(SystemClock),
    )
    .await;
    log.compact(DAY_MS).await.unwrap();
    log.close().await.unwrap();
    let compacted = read_all(&log, 0).await;
    drop(log);
    let stem = format!("{:020}", 0);
    let cleaned = |ext: &str| compacted_dir.path().join(format!("{stem}.{ext}"));
    // Only the first segment is swapped: the rest stays as it was.
    let second_base = segment_bases(original.path())[1];
    let first_swapped: Vec<Rec> = compacted
        .iter()
        .filter(|r| r.0 < second_base)
        .chain(uncompacted.iter().filter(|r| r.0 >= second_base))
        .cloned()
        .collect();
    assert_ne!(first_swapped, uncompacted);

    // Committed (the log's .swap exists), crashed before or between the final renames.
    for swapped in [
        &["log", "index", "timeindex"][..],
        &["log", "timeindex"],
        &["log"],
    ] {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(original.path(), dir.path());
        for ext in ["log", "index", "timeindex"] {
            let target = if swapped.contains(&ext) {
                dir.path().join(format!("{stem}.{ext}.swap"))
            } else {
                dir.path().join(format!("{stem}.{ext}"))
            };
            std::fs::copy(cleaned(ext), target).unwrap();
        }
        let log = open(dir.path(), io, compact_config(), Arc::new(SystemClock)).await;
        assert_eq!(
            read_all(&log, 0).await,
            first_swapped,
            "swapped {swapped:?}"
        );
        drop(log);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(!names.iter().any(|n| n.ends_with(".swap")), "{names:?}");
    }

    // Not committed: cleaned files, or index swaps without the log's.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(original.path(), dir.path());
    for (ext, suffix) in [("log", "cleaned"), ("index", "swap"), ("timeindex", "swap")] {
        std::fs::copy(
            cleaned(ext),
            dir.path().join(format!("{stem}.{ext}.{suffix}")),
        )
        .unwrap();
    }
    let log = open(dir.path(), io, compact_config(), Arc::new(SystemClock)).await;
    assert_eq!(read_all(&log, 0).await, uncompacted);
    drop(log);
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".swap") || n.ends_with(".cleaned"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

async fn the_last_batch_of_each_producer_is_kept_whole(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), io, compact_config(), Arc::new(SystemClock)).await;
    let payload = "q".repeat(200);
    // Producer 7 writes key "a" twice; its last batch is then shadowed by a later
    // non-idempotent write, but must stay (producer state lives in it).
    for seq in 0..2 {
        log.append(
            keyed_batch(&[(Some("a"), Some(&payload))], Some((7, seq))),
            0,
            Durability::PageCache,
        )
        .await
        .unwrap();
    }
    log.append(
        keyed_batch(&[(Some("a"), Some("last"))], None),
        0,
        Durability::PageCache,
    )
    .await
    .unwrap();
    fill_overwrites(&log, 30).await;
    log.compact(DAY_MS).await.unwrap();
    let offsets: Vec<i64> = read_all(&log, 0)
        .await
        .iter()
        .map(|r| r.0)
        .take_while(|o| *o < 3)
        .collect();
    assert_eq!(offsets, vec![1, 2]);
    let mut producers = Vec::new();
    log.visit_headers_from(0, |h| {
        if h.producer_id == 7 {
            producers.push((h.base_offset, h.base_sequence));
        }
    })
    .await
    .unwrap();
    assert_eq!(producers, vec![(1, 1)]);
}

async fn retention_runs_compaction_only_for_compact_logs(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let plain = LogConfig {
        compact: false,
        ..compact_config()
    };
    let log = open(dir.path(), io, plain, Arc::new(SystemClock)).await;
    fill_overwrites(&log, 60).await;
    log.apply_retention().await.unwrap();
    assert_eq!(read_all(&log, 0).await.len(), 300);
    assert_eq!(log.compact_if_due().await.unwrap(), None);

    log.set_config(compact_config()).await;
    log.apply_retention().await.unwrap();
    assert!(read_all(&log, 0).await.len() < 300);
    // Nothing rolled since: the next check does not run a pass.
    assert_eq!(log.compact_if_due().await.unwrap(), None);
    fill_overwrites(&log, 20).await;
    assert!(log.compact_if_due().await.unwrap().is_some());
}

for_each_backend!(
    keeps_only_latest_values_at_their_offsets,
    reads_from_inside_a_removed_range_return_the_next_records,
    tombstones_are_kept_then_dropped_after_delete_retention,
    the_active_segment_is_untouched,
    compacted_data_survives_a_restart,
    interrupted_swaps_are_finished_or_rolled_back,
    the_last_batch_of_each_producer_is_kept_whole,
    retention_runs_compaction_only_for_compact_logs,
);
