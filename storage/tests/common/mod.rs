//! Helpers for the storage tests: batches built by `kafka-protocol`'s encoder (an
//! implementation independent of ours), logs opened on a chosen I/O backend, and decoding
//! of what a read returned.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use petrel_storage::io::{BackendChoice, Disk};
use petrel_storage::{Clock, LogConfig, PartitionLog};

/// A batch of `records` records of about `record_bytes` each; record i has key
/// `"{seq}-{i}"` and a value derived from (seq, i), timestamps `timestamp_ms + i`.
pub fn batch(seq: u64, records: usize, record_bytes: usize, timestamp_ms: i64) -> BytesMut {
    let records: Vec<Record> = (0..records)
        .map(|i| Record {
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
            timestamp: timestamp_ms + i as i64,
            key: Some(Bytes::from(format!("{seq}-{i}"))),
            value: Some(value_of(seq, i, record_bytes)),
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
    .expect("oracle encodes");
    buf
}

pub fn value_of(seq: u64, i: usize, len: usize) -> Bytes {
    let seed = format!("value of batch {seq} record {i};");
    Bytes::from(seed.bytes().cycle().take(len).collect::<Vec<u8>>())
}

/// (offset, key, value) of every record in `bytes`, decoded by the oracle.
pub fn decode(bytes: &Bytes) -> Vec<(i64, Bytes, Bytes)> {
    let mut buf = bytes.clone();
    let sets = RecordBatchDecoder::decode_all(&mut buf).expect("oracle decodes what we stored");
    sets.into_iter()
        .flat_map(|set| set.records)
        .map(|r| {
            (
                r.offset,
                r.key.unwrap_or_default(),
                r.value.unwrap_or_default(),
            )
        })
        .collect()
}

/// How a test's disk does I/O: which backend, and whether inline page-cache writes are on (off means every write goes through the backend).
#[derive(Debug, Clone, Copy)]
pub struct Io {
    pub backend: BackendChoice,
    pub inline_writes: bool,
}

pub fn disk(io: Io) -> Disk {
    let disk = Disk::start(io.backend, 256).expect("disk starts");
    disk.set_inline_writes(io.inline_writes);
    disk
}

pub async fn open(dir: &Path, io: Io, config: LogConfig, clock: Arc<dyn Clock>) -> PartitionLog {
    PartitionLog::open(dir, disk(io), config, clock)
        .await
        .expect("log opens")
}

/// Runs the listed async test functions once per I/O set-up: `portable::name` and
/// `io_uring::name` send every write through that backend; `io_uring_inline::name` is the
/// production set-up (io_uring plus the inline page-cache writes). Each function
/// takes the [`Io`] to use.
#[macro_export]
macro_rules! for_each_backend {
    ($($name:ident),* $(,)?) => {
        mod portable {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Io { backend: petrel_storage::io::BackendChoice::Portable, inline_writes: false }).await
                }
            )*
        }
        mod io_uring {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Io { backend: petrel_storage::io::BackendChoice::IoUring, inline_writes: false }).await
                }
            )*
        }
        mod io_uring_inline {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Io { backend: petrel_storage::io::BackendChoice::IoUring, inline_writes: true }).await
                }
            )*
        }
    };
}
