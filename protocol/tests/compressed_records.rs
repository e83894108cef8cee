//! Records of compressed batches: batches written by Apache Kafka's Java client (fixtures in
//! `tests/fixtures/compressed/`, see its README), and a differential test against
//! `kafka-protocol`'s encoder (the oracle), whose uncompressed batches are recompressed with
//! each codec and must read back record for record.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::Write;
use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{
    Compression as OracleCompression, Record as OracleRecord, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType as OracleTimestampType,
};
use petrel_protocol::records::{
    decompress_records, offsets, records, validate_batch, Compression, Record, RecordError,
    TimestampType, BATCH_HEADER_BYTES,
};
use proptest::prelude::*;

const LIMIT: usize = 1 << 20;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compressed")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The generator's rule (GenCompressedBatches.java).
const BASE: i64 = 1_700_000_000_000;

fn expected_value(i: usize) -> Vec<u8> {
    let word = format!("value {i} ");
    word.bytes().cycle().take(600).collect()
}

#[test]
fn java_client_batches_decompress_to_the_records_it_wrote() {
    for (file, codec) in [
        ("java-gzip.bin", Compression::Gzip),
        ("java-snappy.bin", Compression::Snappy),
        ("java-lz4.bin", Compression::Lz4),
        ("java-zstd.bin", Compression::Zstd),
    ] {
        let batch = fixture(file);
        let header = validate_batch(&batch).unwrap();
        assert_eq!(header.compression(), codec, "{file}");
        assert_eq!(header.timestamp_type(), TimestampType::CreateTime);
        assert_eq!(header.records_count, 64);
        assert_eq!(header.base_timestamp, BASE);
        assert_eq!(header.max_timestamp, BASE + 10_000);
        if codec == Compression::Snappy {
            // snappy-java's framing, as Kafka's Java producer writes it.
            assert_eq!(&batch[BATCH_HEADER_BYTES..][..8], b"\x82SNAPPY\x00");
        }

        let decompressed = decompress_records(&batch, LIMIT).unwrap();
        assert_eq!(decompressed.header(), &header);
        let read: Vec<Record<'_>> = decompressed
            .records()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(read.len(), 64, "{file}");
        for (i, record) in read.iter().enumerate() {
            let timestamp = if i == 40 {
                BASE + 10_000
            } else {
                BASE + 10 * i as i64
            };
            assert_eq!(record.offset_delta, i as i32, "{file} record {i}");
            assert_eq!(header.base_timestamp + record.timestamp_delta, timestamp);
            let key = format!("key-{i}");
            assert_eq!(record.key, (i != 3).then_some(key.as_bytes()), "{file} {i}");
            assert_eq!(record.value, Some(&expected_value(i)[..]), "{file} {i}");
            let header_value = i.to_string();
            let headers: Vec<(&[u8], Option<&[u8]>)> = if i % 5 == 0 {
                vec![(b"h", Some(header_value.as_bytes()))]
            } else {
                vec![]
            };
            assert_eq!(record.headers, headers, "{file} {i}");
        }
        // The first record holding the max timestamp, as MAX_TIMESTAMP must report it.
        let at_max = read
            .iter()
            .position(|r| header.base_timestamp + r.timestamp_delta == header.max_timestamp);
        assert_eq!(at_max, Some(40));
    }
}

#[test]
fn java_client_batches_refuse_a_small_limit_and_damage() {
    for file in [
        "java-gzip.bin",
        "java-snappy.bin",
        "java-lz4.bin",
        "java-zstd.bin",
    ] {
        let batch = fixture(file);
        let size = decompress_records(&batch, LIMIT).unwrap().as_bytes().len();
        assert!(matches!(
            decompress_records(&batch, size - 1),
            Err(RecordError::DecompressedTooLarge { .. })
        ));
        // Damage inside the compressed stream (the CRC is not checked here, by design).
        // gzip's CRC-32 trailer must catch it; Kafka's lz4 and zstd frames carry no content
        // checksum and snappy none at all, so there it may decode to other bytes: it must
        // only never panic nor pass the limit.
        let mut damaged = batch.clone();
        let middle = BATCH_HEADER_BYTES + (batch.len() - BATCH_HEADER_BYTES) / 2;
        damaged[middle] ^= 0x5a;
        damaged[middle + 1] ^= 0xa5;
        match decompress_records(&damaged, LIMIT) {
            Ok(decompressed) => {
                assert_ne!(file, "java-gzip.bin", "gzip damage went unnoticed");
                assert!(decompressed.as_bytes().len() <= LIMIT);
                let _ = decompressed.records().count();
            }
            Err(error) => assert!(
                matches!(
                    error,
                    RecordError::Decompression { .. } | RecordError::DecompressedTooLarge { .. }
                ),
                "{file}: {error:?}"
            ),
        }
        // Cut short.
        let mut cut = batch[..batch.len() - 3].to_vec();
        let length = (cut.len() - 12) as i32;
        cut[offsets::BATCH_LENGTH..offsets::PARTITION_LEADER_EPOCH]
            .copy_from_slice(&length.to_be_bytes());
        assert!(
            matches!(
                decompress_records(&cut, LIMIT),
                Err(RecordError::Decompression { .. })
            ),
            "{file}"
        );
    }
}

// --- differential against the kafka-protocol oracle ---

#[derive(Debug, Clone)]
struct RecordSpec {
    timestamp_delta: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
}

fn record_spec() -> impl Strategy<Value = RecordSpec> {
    (
        0i64..100_000,
        prop::option::of(prop::collection::vec(any::<u8>(), 0..32)),
        prop::option::of(prop::collection::vec(0u8..4, 0..300)),
    )
        .prop_map(|(timestamp_delta, key, value)| RecordSpec {
            timestamp_delta,
            key,
            value,
        })
}

/// An uncompressed batch of `specs`, by the oracle.
fn oracle_batch(specs: &[RecordSpec]) -> Vec<u8> {
    let records: Vec<OracleRecord> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| OracleRecord {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: 0,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: OracleTimestampType::Creation,
            offset: i as i64,
            sequence: i as i32 - 1,
            timestamp: 1_000_000 + spec.timestamp_delta,
            key: spec.key.clone().map(Bytes::from),
            value: spec.value.clone().map(Bytes::from),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &records,
        &RecordEncodeOptions {
            version: 2,
            compression: OracleCompression::None,
        },
    )
    .unwrap();
    buf.to_vec()
}

/// `batch` with its records section compressed by `codec`, as a client would send it.
fn recompress(batch: &[u8], codec: Compression) -> Vec<u8> {
    let section = &batch[BATCH_HEADER_BYTES..];
    let compressed = match codec {
        Compression::None => section.to_vec(),
        Compression::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), Default::default());
            encoder.write_all(section).unwrap();
            encoder.finish().unwrap()
        }
        Compression::Snappy => {
            let mut out = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01".to_vec();
            for block in section.chunks(32 * 1024) {
                let raw = snap::raw::Encoder::new().compress_vec(block).unwrap();
                out.extend_from_slice(&(raw.len() as u32).to_be_bytes());
                out.extend_from_slice(&raw);
            }
            out
        }
        Compression::Lz4 => {
            let mut encoder = lz4_flex::frame::FrameEncoder::new(Vec::new());
            encoder.write_all(section).unwrap();
            encoder.finish().unwrap()
        }
        Compression::Zstd => {
            ruzstd::encoding::compress_to_vec(section, ruzstd::encoding::CompressionLevel::Fastest)
        }
    };
    let mut out = batch[..BATCH_HEADER_BYTES].to_vec();
    out.extend_from_slice(&compressed);
    let length = (out.len() - 12) as i32;
    out[offsets::BATCH_LENGTH..offsets::PARTITION_LEADER_EPOCH]
        .copy_from_slice(&length.to_be_bytes());
    let attributes = i16::from_be_bytes([out[21], out[22]]) & !7 | i16::from(codec.id());
    out[offsets::ATTRIBUTES..offsets::LAST_OFFSET_DELTA].copy_from_slice(&attributes.to_be_bytes());
    let crc = crc32c::crc32c(&out[offsets::ATTRIBUTES..]);
    out[offsets::CRC..offsets::ATTRIBUTES].copy_from_slice(&crc.to_be_bytes());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn compressed_records_read_like_uncompressed_ones(
        specs in prop::collection::vec(record_spec(), 1..200),
    ) {
        let plain = oracle_batch(&specs);
        let expected: Vec<Record<'_>> = records(&plain).collect::<Result<_, _>>().unwrap();
        for codec in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let batch = recompress(&plain, codec);
            let header = validate_batch(&batch).unwrap();
            prop_assert_eq!(header.compression(), codec);
            let decompressed = decompress_records(&batch, LIMIT).unwrap();
            prop_assert_eq!(decompressed.as_bytes(), &plain[BATCH_HEADER_BYTES..]);
            let read: Vec<Record<'_>> = decompressed.records().collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(&read, &expected);
        }
    }
}
