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

/// One CreateTime batch with a record per timestamp in `timestamps` (key `"{seq}-{i}"`, a
/// `record_bytes` value), uncompressed, as the oracle encodes it.
pub fn batch_with_timestamps(seq: u64, timestamps: &[i64], record_bytes: usize) -> BytesMut {
    let records: Vec<(i64, i64)> = timestamps
        .iter()
        .enumerate()
        .map(|(i, &timestamp)| (i as i64, timestamp))
        .collect();
    batch_with_offsets(seq, &records, record_bytes)
}

/// As [`batch_with_timestamps`], with (offset delta, timestamp) per record: deltas with gaps
/// make a batch as compaction leaves it (base and last offsets kept, records dropped).
pub fn batch_with_offsets(seq: u64, records: &[(i64, i64)], record_bytes: usize) -> BytesMut {
    let records: Vec<Record> = records
        .iter()
        .enumerate()
        .map(|(i, &(offset, timestamp))| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset,
            // Kept at offset - 1 so that the oracle keeps the records in one batch.
            sequence: offset as i32 - 1,
            timestamp,
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

/// `batch` (one uncompressed batch) with its records section compressed by `codec` as
/// Kafka's clients write it (snappy in snappy-java's xerial framing), with its length,
/// attributes and CRC fixed up. The workspace builds kafka-protocol without its codecs (its
/// lz4 and zstd ones are C libraries), so the codec crates compress directly.
pub fn compress(batch: &[u8], codec: petrel_protocol::records::Compression) -> BytesMut {
    use petrel_protocol::records::{Compression as Codec, BATCH_HEADER_BYTES};
    use std::io::Write;

    let section = &batch[BATCH_HEADER_BYTES..];
    let compressed = match codec {
        Codec::None => section.to_vec(),
        Codec::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), Default::default());
            encoder.write_all(section).unwrap();
            encoder.finish().unwrap()
        }
        Codec::Snappy => {
            let mut out = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01".to_vec();
            for block in section.chunks(32 * 1024) {
                let raw = snap::raw::Encoder::new().compress_vec(block).unwrap();
                out.extend_from_slice(&(raw.len() as u32).to_be_bytes());
                out.extend_from_slice(&raw);
            }
            out
        }
        Codec::Lz4 => {
            let mut encoder = lz4_flex::frame::FrameEncoder::new(Vec::new());
            encoder.write_all(section).unwrap();
            encoder.finish().unwrap()
        }
        Codec::Zstd => {
            ruzstd::encoding::compress_to_vec(section, ruzstd::encoding::CompressionLevel::Fastest)
        }
    };
    with_section(batch, codec, &compressed)
}

/// `batch`'s header with `section` as its records, marked as compressed by `codec`, with
/// length and CRC made to match (so garbage sections pass the CRC check too).
pub fn with_section(
    batch: &[u8],
    codec: petrel_protocol::records::Compression,
    section: &[u8],
) -> BytesMut {
    use petrel_protocol::records::{offsets, BATCH_HEADER_BYTES};

    let mut out = BytesMut::from(&batch[..BATCH_HEADER_BYTES]);
    out.extend_from_slice(section);
    let length = (out.len() - 12) as i32;
    out[offsets::BATCH_LENGTH..offsets::PARTITION_LEADER_EPOCH]
        .copy_from_slice(&length.to_be_bytes());
    let attributes = i16::from_be_bytes([out[offsets::ATTRIBUTES], out[offsets::ATTRIBUTES + 1]]);
    let attributes = (attributes & !7) | i16::from(codec.id());
    out[offsets::ATTRIBUTES..offsets::LAST_OFFSET_DELTA].copy_from_slice(&attributes.to_be_bytes());
    let crc = crc32c::crc32c(&out[offsets::ATTRIBUTES..]);
    out[offsets::CRC..offsets::ATTRIBUTES].copy_from_slice(&crc.to_be_bytes());
    out
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

/// 16 KiB segments with an index entry per KiB: many rolls from little data.
pub fn small_segments() -> LogConfig {
    LogConfig {
        segment_bytes: 16 * 1024,
        index_interval_bytes: 1024,
        ..LogConfig::default()
    }
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
