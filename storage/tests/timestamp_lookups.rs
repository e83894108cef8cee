//! ListOffsets' timestamp lookups against compressed batches, as Kafka answers them:
//! `offset_for_timestamp` finds the first record at or after the target inside a
//! compressed batch (Kafka's `FileRecords.searchForTimestamp` decompresses), and
//! `max_timestamp` (MAX_TIMESTAMP, -3) gives the first record holding the largest timestamp
//! (`RecordBatch.offsetOfMaxTimestamp`, KAFKA-16310), not the batch's last offset.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::BytesMut;
use common::{batch, batch_with_offsets, batch_with_timestamps, compress, open, with_section, Io};
use petrel_protocol::records::Compression;
use petrel_storage::{
    Durability, LogConfig, ManualClock, PartitionLog, SystemClock, TimestampOffset, TimestampType,
};

const T0: i64 = 1_700_000_000_000;

const CODECS: [Compression; 4] = [
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

async fn append(log: &PartitionLog, batch: BytesMut) -> (i64, i64) {
    let info = log.append(batch, 0, Durability::PageCache).await.unwrap();
    (info.base_offset, info.last_offset)
}

async fn lookup(log: &PartitionLog, timestamp_ms: i64) -> Option<(i64, i64)> {
    log.offset_for_timestamp(timestamp_ms).await.unwrap().map(
        |TimestampOffset {
             offset,
             timestamp_ms,
         }| (offset, timestamp_ms),
    )
}

async fn max_timestamp(log: &PartitionLog) -> Option<(i64, i64)> {
    log.max_timestamp().await.unwrap().map(
        |TimestampOffset {
             offset,
             timestamp_ms,
         }| (offset, timestamp_ms),
    )
}

async fn compressed_batches_are_searched_per_record(io: Io) {
    for codec in CODECS {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
        assert_eq!(append(&log, batch(0, 4, 100, T0)).await, (0, 3));
        let timestamps: Vec<i64> = (0..10).map(|i| T0 + 100 + 10 * i).collect();
        let compressed = compress(&batch_with_timestamps(1, &timestamps, 200), codec);
        assert_eq!(append(&log, compressed).await, (4, 13));
        assert_eq!(append(&log, batch(2, 4, 100, T0 + 1000)).await, (14, 17));

        // An inner record's own timestamp, and one between two records: the record, not
        // the batch's (base offset, max timestamp) as before.
        assert_eq!(
            lookup(&log, T0 + 130).await,
            Some((7, T0 + 130)),
            "{codec:?}"
        );
        assert_eq!(
            lookup(&log, T0 + 145).await,
            Some((9, T0 + 150)),
            "{codec:?}"
        );
        assert_eq!(
            lookup(&log, T0 + 190).await,
            Some((13, T0 + 190)),
            "{codec:?}"
        );
        // Before the batch's first record: that record.
        assert_eq!(
            lookup(&log, T0 + 50).await,
            Some((4, T0 + 100)),
            "{codec:?}"
        );
        // Past the batch: the next batch's first record; past everything: none.
        assert_eq!(
            lookup(&log, T0 + 191).await,
            Some((14, T0 + 1000)),
            "{codec:?}"
        );
        assert_eq!(lookup(&log, T0 + 2000).await, None);
    }
}

async fn max_timestamp_is_the_first_record_that_has_it(io: Io) {
    // Out of order, the max twice: Kafka reports the first record holding it.
    let timestamps = [T0 + 50, T0 + 10, T0 + 70, T0 + 20, T0 + 70, T0 + 30];
    for codec in CODECS.into_iter().chain([Compression::None]) {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
            assert_eq!(append(&log, batch(0, 4, 100, T0)).await, (0, 3));
            let inner = compress(&batch_with_timestamps(1, &timestamps, 100), codec);
            assert_eq!(append(&log, inner).await, (4, 9));
            assert_eq!(append(&log, batch(2, 2, 100, T0 + 40)).await, (10, 11));

            assert_eq!(max_timestamp(&log).await, Some((6, T0 + 70)), "{codec:?}");
            // Lookups take records in offset order, whatever their timestamps.
            assert_eq!(lookup(&log, T0 + 15).await, Some((4, T0 + 50)), "{codec:?}");
            assert_eq!(lookup(&log, T0 + 55).await, Some((6, T0 + 70)), "{codec:?}");
            log.close().await.unwrap();
        }
        // The same after a restart (the segment's max comes back from the time index).
        let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
        assert_eq!(max_timestamp(&log).await, Some((6, T0 + 70)), "{codec:?}");
    }
}

async fn max_timestamp_ties_go_to_the_earliest_segment(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    // Every append rolls: one batch per segment.
    let config = LogConfig {
        segment_bytes: 1,
        ..LogConfig::default()
    };
    let log = open(dir.path(), io, config, Arc::new(SystemClock)).await;
    let first = compress(
        &batch_with_timestamps(0, &[T0 + 5, T0 + 9, T0 + 1], 50),
        Compression::Lz4,
    );
    assert_eq!(append(&log, first).await, (0, 2));
    assert_eq!(
        append(&log, batch_with_timestamps(1, &[T0 + 9, T0 + 2], 50)).await,
        (3, 4)
    );
    assert!(log.segment_count().await >= 2);
    assert_eq!(max_timestamp(&log).await, Some((1, T0 + 9)));
}

async fn log_append_time_batches_answer_with_their_first_record(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0 + 5_000));
    let config = LogConfig {
        timestamp_type: TimestampType::LogAppendTime,
        ..LogConfig::default()
    };
    let log = open(dir.path(), io, config, clock.clone()).await;
    assert_eq!(append(&log, batch(0, 4, 100, T0)).await, (0, 3));
    clock.advance_ms(1_000);
    let timestamps: Vec<i64> = (0..10).map(|i| T0 + 10 * i).collect();
    let compressed = compress(
        &batch_with_timestamps(1, &timestamps, 100),
        Compression::Zstd,
    );
    assert_eq!(append(&log, compressed).await, (4, 13));

    // Every record of the batch carries the append time.
    assert_eq!(lookup(&log, T0 + 5_500).await, Some((4, T0 + 6_000)));
    assert_eq!(lookup(&log, T0).await, Some((0, T0 + 5_000)));
    assert_eq!(max_timestamp(&log).await, Some((4, T0 + 6_000)));
}

async fn records_before_the_log_start_offset_are_skipped(io: Io) {
    for codec in [Compression::None, Compression::Gzip] {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
        let timestamps: Vec<i64> = (0..10).map(|i| T0 + 10 * i).collect();
        let compressed = compress(&batch_with_timestamps(0, &timestamps, 100), codec);
        assert_eq!(append(&log, compressed).await, (0, 9));
        assert_eq!(log.advance_log_start_offset(6).await.unwrap(), 6);
        assert_eq!(lookup(&log, T0).await, Some((6, T0 + 60)), "{codec:?}");
        assert_eq!(lookup(&log, T0 + 75).await, Some((8, T0 + 80)), "{codec:?}");
    }
}

async fn compacted_batches_are_searched_per_record(io: Io) {
    // Records at offset deltas 0, 2 and 5 of a batch spanning 6 offsets, as compaction
    // leaves it. With the log start offset in a gap, the answer is the next record, not the
    // log start offset (no record has it), for CreateTime and LogAppendTime alike.
    let records = [(0, T0 + 10), (2, T0 + 20), (5, T0 + 30)];
    for (timestamp_type, codec) in [
        (TimestampType::CreateTime, Compression::None),
        (TimestampType::CreateTime, Compression::Snappy),
        (TimestampType::LogAppendTime, Compression::None),
        (TimestampType::LogAppendTime, Compression::Zstd),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = LogConfig {
            timestamp_type,
            ..LogConfig::default()
        };
        let clock = Arc::new(ManualClock::new(T0 + 1_000));
        let log = open(dir.path(), io, config, clock).await;
        let gapped = compress(&batch_with_offsets(0, &records, 100), codec);
        assert_eq!(append(&log, gapped).await, (0, 5));
        assert_eq!(append(&log, batch(1, 2, 100, T0 + 40)).await, (6, 7));
        assert_eq!(log.advance_log_start_offset(1).await.unwrap(), 1);
        let expected = match timestamp_type {
            TimestampType::CreateTime => (2, T0 + 20),
            TimestampType::LogAppendTime => (2, T0 + 1_000),
        };
        assert_eq!(
            lookup(&log, T0).await,
            Some(expected),
            "{timestamp_type:?} {codec:?}"
        );
        if timestamp_type == TimestampType::CreateTime {
            assert_eq!(lookup(&log, T0 + 21).await, Some((5, T0 + 30)), "{codec:?}");
        }
    }
}

async fn unreadable_compressed_records_fall_back_to_the_batch(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
    assert_eq!(append(&log, batch(0, 2, 100, T0)).await, (0, 1));
    // A valid CRC over a records section that is no zstd stream: the broker accepts such a
    // batch without decompressing it, so a lookup must cope.
    let timestamps: Vec<i64> = (0..5).map(|i| T0 + 100 + 10 * i).collect();
    let garbage = with_section(
        &batch_with_timestamps(1, &timestamps, 100),
        Compression::Zstd,
        b"these bytes are not a zstd frame",
    );
    assert_eq!(append(&log, garbage).await, (2, 6));
    // The batch's first offset and max timestamp (no record at or after the target is
    // skipped by seeking there), and for MAX_TIMESTAMP its last offset (Kafka's shallow
    // answer before KAFKA-16310).
    assert_eq!(lookup(&log, T0 + 125).await, Some((2, T0 + 140)));
    assert_eq!(max_timestamp(&log).await, Some((6, T0 + 140)));
}

async fn java_client_batches_are_searched_per_record(io: Io) {
    // Batches written by Apache Kafka's Java client (see the README beside them): 64
    // records, record i at BASE + 10 i except record 40 at BASE + 10_000.
    const BASE: i64 = 1_700_000_000_000;
    let fixtures =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../protocol/tests/fixtures/compressed");
    for file in [
        "java-gzip.bin",
        "java-snappy.bin",
        "java-lz4.bin",
        "java-zstd.bin",
    ] {
        let bytes = std::fs::read(fixtures.join(file)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
        assert_eq!(append(&log, BytesMut::from(&bytes[..])).await, (0, 63));
        assert_eq!(
            lookup(&log, BASE + 201).await,
            Some((21, BASE + 210)),
            "{file}"
        );
        assert_eq!(
            lookup(&log, BASE + 395).await,
            Some((40, BASE + 10_000)),
            "{file}"
        );
        // Offset order, not timestamp order: record 40 comes before record 63.
        assert_eq!(
            lookup(&log, BASE + 630).await,
            Some((40, BASE + 10_000)),
            "{file}"
        );
        assert_eq!(lookup(&log, BASE + 10_001).await, None, "{file}");
        assert_eq!(
            max_timestamp(&log).await,
            Some((40, BASE + 10_000)),
            "{file}"
        );
    }
}

async fn empty_log_has_no_max_timestamp(io: Io) {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), io, LogConfig::default(), Arc::new(SystemClock)).await;
    assert_eq!(max_timestamp(&log).await, None);
    assert_eq!(lookup(&log, 0).await, None);
}

for_each_backend!(
    compressed_batches_are_searched_per_record,
    max_timestamp_is_the_first_record_that_has_it,
    max_timestamp_ties_go_to_the_earliest_segment,
    log_append_time_batches_answer_with_their_first_record,
    records_before_the_log_start_offset_are_skipped,
    compacted_batches_are_searched_per_record,
    unreadable_compressed_records_fall_back_to_the_batch,
    java_client_batches_are_searched_per_record,
    empty_log_has_no_max_timestamp,
);
