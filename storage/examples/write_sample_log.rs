//! Writes a small partition log with known contents, for checking that other tools read
//! Petrel's segments (compat-tests/dumplog runs Apache Kafka's DumpLogSegments on it).
//!
//! ```text
//! cargo run -p petrel-storage --example write_sample_log -- DIR
//! ```
//! Creates `DIR/sample-0/` with three segments (small `segment.bytes`), 40 batches of 5
//! records; record `i` of batch `b` has key `key-b-i`, value `value-b-i` and a header
//! `h=b`; leader epochs 0 then 1 (from batch 20 on). Prints a summary line per batch as
//! `offset=<o> key=<k> value=<v>` for the checker to compare against.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use petrel_storage::io::{BackendChoice, Disk};
use petrel_storage::{Durability, LogConfig, PartitionLog, SystemClock};

const BATCHES: usize = 40;
const RECORDS_PER_BATCH: usize = 5;

fn main() {
    let root = std::env::args()
        .nth(1)
        .expect("usage: write_sample_log DIR");
    let dir = std::path::Path::new(&root).join("sample-0");
    let _ = std::fs::remove_dir_all(&dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let disk = Disk::start(BackendChoice::Auto, 64).unwrap();
        let config = LogConfig {
            segment_bytes: 4096,
            index_interval_bytes: 256,
            ..LogConfig::default()
        };
        let log = PartitionLog::open(&dir, disk, config, Arc::new(SystemClock))
            .await
            .unwrap();
        for b in 0..BATCHES {
            let records: Vec<Record> = (0..RECORDS_PER_BATCH)
                .map(|i| {
                    let mut headers = indexmap::IndexMap::new();
                    headers.insert(
                        StrBytes::from_static_str("h"),
                        Some(Bytes::from(b.to_string())),
                    );
                    Record {
                        transactional: false,
                        control: false,
                        delete_horizon: false,
                        partition_leader_epoch: -1,
                        producer_id: -1,
                        producer_epoch: -1,
                        timestamp_type: TimestampType::Creation,
                        offset: i as i64,
                        // kafka-protocol's encoder keeps records in one batch while offset - sequence
                        // stays constant; this gives one batch whose base sequence is -1 (no idempotence).
                        sequence: i as i32 - 1,
                        timestamp: 1_700_000_000_000 + (b * RECORDS_PER_BATCH + i) as i64,
                        key: Some(Bytes::from(format!("key-{b}-{i}"))),
                        value: Some(Bytes::from(format!("value-{b}-{i}"))),
                        headers,
                    }
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
            let epoch = if b < 20 { 0 } else { 1 };
            let info = log.append(buf, epoch, Durability::Fsync).await.unwrap();
            for i in 0..RECORDS_PER_BATCH {
                println!(
                    "offset={} key=key-{b}-{i} value=value-{b}-{i}",
                    info.base_offset + i as i64
                );
            }
        }
        log.close().await.unwrap();
        eprintln!(
            "wrote {} records in {} segments to {}",
            log.log_end_offset(),
            log.segment_count().await,
            dir.display()
        );
    });
}
