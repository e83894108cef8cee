//! Differential tests of `petrel_protocol::records` against `kafka-protocol`'s record batch
//! encoder and decoder (the oracle): random record sets are encoded by the oracle, then
//! validated, read, patched and iterated by our code; what we read must be what was encoded,
//! and what we patch must be what the oracle decodes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use bytes::{Bytes, BytesMut};
use indexmap::IndexMap;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression as OracleCompression, Record as OracleRecord, RecordBatchDecoder,
    RecordBatchEncoder, RecordEncodeOptions, TimestampType as OracleTimestampType,
};
use petrel_protocol::records::{
    offsets, parse_batch_header, records, set_base_offset, set_log_append_time, set_max_timestamp,
    set_partition_leader_epoch, validate_batch, BatchIter, Compression, RecordError, TimestampType,
    BATCH_HEADER_BYTES,
};
use proptest::prelude::*;

/// The batch-level fields of a generated batch.
#[derive(Debug, Clone)]
struct BatchSpec {
    base_offset: i64,
    partition_leader_epoch: i32,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    transactional: bool,
    control: bool,
    delete_horizon: bool,
    records: Vec<RecordSpec>,
}

#[derive(Debug, Clone)]
struct RecordSpec {
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: IndexMap<String, Option<Vec<u8>>>,
}

fn maybe_bytes(max: usize) -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::of(prop::collection::vec(any::<u8>(), 0..max))
}

fn record_spec() -> impl Strategy<Value = RecordSpec> {
    (
        -1i64..(1i64 << 45),
        maybe_bytes(24),
        maybe_bytes(64),
        prop::collection::vec(("\\PC{0,6}", maybe_bytes(8)), 0..4),
    )
        .prop_map(|(timestamp, key, value, headers)| RecordSpec {
            timestamp,
            key,
            value,
            // Header keys are unique in the oracle's model (an IndexMap); a repeated key
            // keeps its first position and takes the last value.
            headers: headers.into_iter().collect(),
        })
}

fn batch_spec(records: std::ops::Range<usize>) -> impl Strategy<Value = BatchSpec> {
    (
        (
            0i64..(1i64 << 62),
            any::<i32>(),
            any::<i64>(),
            any::<i16>(),
            any::<i32>(),
        ),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        prop::collection::vec(record_spec(), records),
    )
        .prop_map(
            |(
                (base_offset, partition_leader_epoch, producer_id, producer_epoch, base_sequence),
                (transactional, control, delete_horizon),
                records,
            )| BatchSpec {
                base_offset,
                partition_leader_epoch,
                producer_id,
                producer_epoch,
                base_sequence,
                transactional,
                control,
                delete_horizon,
                records,
            },
        )
}

fn oracle_records(spec: &BatchSpec) -> Vec<OracleRecord> {
    spec.records
        .iter()
        .enumerate()
        .map(|(i, record)| OracleRecord {
            transactional: spec.transactional,
            control: spec.control,
            delete_horizon: spec.delete_horizon,
            partition_leader_epoch: spec.partition_leader_epoch,
            producer_id: spec.producer_id,
            producer_epoch: spec.producer_epoch,
            timestamp_type: OracleTimestampType::Creation,
            offset: spec.base_offset + i as i64,
            sequence: spec.base_sequence.wrapping_add(i as i32),
            timestamp: record.timestamp,
            key: record.key.clone().map(Bytes::from),
            value: record.value.clone().map(Bytes::from),
            headers: record
                .headers
                .iter()
                .map(|(k, v)| (StrBytes::from_string(k.clone()), v.clone().map(Bytes::from)))
                .collect(),
        })
        .collect()
}

/// One batch holding all of `spec`'s records, encoded by the oracle.
fn encode(spec: &BatchSpec) -> Vec<u8> {
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &oracle_records(spec),
        &RecordEncodeOptions {
            version: 2,
            compression: OracleCompression::None,
        },
    )
    .unwrap();
    buf.to_vec()
}

fn oracle_decode(batch: &[u8]) -> Vec<OracleRecord> {
    let mut buf = Bytes::copy_from_slice(batch);
    let set = RecordBatchDecoder::decode(&mut buf).unwrap();
    assert!(buf.is_empty(), "the oracle left bytes undecoded");
    set.records
}

fn min_max_timestamp(spec: &BatchSpec) -> (i64, i64) {
    let stamps = spec.records.iter().map(|r| r.timestamp);
    (stamps.clone().min().unwrap(), stamps.max().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn oracle_batches_validate_and_headers_match(spec in batch_spec(1..50)) {
        let batch = encode(&spec);
        let header = validate_batch(&batch).unwrap();
        let count = spec.records.len() as i32;
        let (min_ts, max_ts) = min_max_timestamp(&spec);
        prop_assert_eq!(header.base_offset, spec.base_offset);
        prop_assert_eq!(header.total_bytes(), batch.len());
        prop_assert_eq!(header.partition_leader_epoch, spec.partition_leader_epoch);
        prop_assert_eq!(header.magic, 2);
        prop_assert_eq!(header.last_offset_delta, count - 1);
        prop_assert_eq!(header.last_offset(), spec.base_offset + i64::from(count) - 1);
        prop_assert_eq!(header.base_timestamp, min_ts);
        prop_assert_eq!(header.max_timestamp, max_ts);
        prop_assert_eq!(header.producer_id, spec.producer_id);
        prop_assert_eq!(header.producer_epoch, spec.producer_epoch);
        prop_assert_eq!(header.base_sequence, spec.base_sequence);
        prop_assert_eq!(header.records_count, count);
        prop_assert_eq!(header.compression(), Compression::None);
        prop_assert_eq!(header.timestamp_type(), TimestampType::CreateTime);
        prop_assert_eq!(header.is_transactional(), spec.transactional);
        prop_assert_eq!(header.is_control(), spec.control);
        prop_assert_eq!(header.has_delete_horizon(), spec.delete_horizon);
        prop_assert_eq!(parse_batch_header(&batch).unwrap(), header);

        let all: Vec<_> = BatchIter::new(&batch).collect();
        prop_assert_eq!(all, vec![Ok((header, 0..batch.len()))]);
    }

    #[test]
    fn records_read_back_what_the_oracle_encoded(spec in batch_spec(1..50)) {
        let batch = encode(&spec);
        let (min_ts, _) = min_max_timestamp(&spec);
        let ours: Vec<_> = records(&batch).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(ours.len(), spec.records.len());
        let decoded = oracle_decode(&batch);
        for (i, ((record, expected), oracle)) in
            ours.iter().zip(&spec.records).zip(&decoded).enumerate()
        {
            prop_assert_eq!(record.offset_delta, i as i32);
            prop_assert_eq!(record.timestamp_delta, expected.timestamp - min_ts);
            prop_assert_eq!(record.attributes, 0);
            prop_assert_eq!(record.key, expected.key.as_deref());
            prop_assert_eq!(record.value, expected.value.as_deref());
            let headers: Vec<(&[u8], Option<&[u8]>)> = expected
                .headers
                .iter()
                .map(|(k, v)| (k.as_bytes(), v.as_deref()))
                .collect();
            prop_assert_eq!(&record.headers, &headers);
            // And the oracle's reading of the same bytes agrees.
            prop_assert_eq!(record.key, oracle.key.as_deref());
            prop_assert_eq!(record.value, oracle.value.as_deref());
            prop_assert_eq!(oracle.offset, spec.base_offset + i as i64);
            prop_assert_eq!(oracle.timestamp, expected.timestamp);
        }
    }

    #[test]
    fn every_single_byte_change_under_the_crc_is_rejected(
        spec in batch_spec(1..8),
        mask in 1u8..=255,
    ) {
        let batch = encode(&spec);
        let mut copy = batch.clone();
        for position in offsets::ATTRIBUTES..batch.len() {
            copy[position] ^= mask;
            let result = validate_batch(&copy);
            prop_assert!(result.is_err(), "flip at {} accepted", position);
            copy[position] ^= mask;
        }
        // Changing the stored CRC itself is a mismatch too.
        for position in offsets::CRC..offsets::ATTRIBUTES {
            copy[position] ^= mask;
            let is_crc_mismatch = matches!(
                validate_batch(&copy),
                Err(RecordError::CrcMismatch { .. })
            );
            prop_assert!(is_crc_mismatch);
            copy[position] ^= mask;
        }
        // Bytes before the CRC: never a panic (some, like baseOffset, are fine to change).
        for position in 0..offsets::CRC {
            copy[position] ^= mask;
            let _ = validate_batch(&copy);
            let _ = records(&copy).count();
            copy[position] ^= mask;
        }
        prop_assert_eq!(copy, batch);
    }

    #[test]
    fn offset_and_epoch_patches_keep_the_batch_valid(
        spec in batch_spec(1..20),
        new_base in 0i64..(1i64 << 62),
        new_epoch in any::<i32>(),
    ) {
        let mut batch = encode(&spec);
        let before = validate_batch(&batch).unwrap();
        set_base_offset(&mut batch, new_base).unwrap();
        set_partition_leader_epoch(&mut batch, new_epoch).unwrap();
        let after = validate_batch(&batch).unwrap();
        prop_assert_eq!(after.base_offset, new_base);
        prop_assert_eq!(after.partition_leader_epoch, new_epoch);
        prop_assert_eq!(after.crc, before.crc);
        for (i, record) in oracle_decode(&batch).iter().enumerate() {
            prop_assert_eq!(record.offset, new_base + i as i64);
            prop_assert_eq!(record.partition_leader_epoch, new_epoch);
        }
    }

    #[test]
    fn log_append_time_patch_keeps_the_crc_valid(
        spec in batch_spec(1..20),
        now in any::<i64>(),
    ) {
        let original = encode(&spec);
        let before = validate_batch(&original).unwrap();
        let mut batch = original.clone();
        set_log_append_time(&mut batch, now).unwrap();
        let after = validate_batch(&batch).unwrap();
        prop_assert_eq!(after.timestamp_type(), TimestampType::LogAppendTime);
        prop_assert_eq!(after.max_timestamp, now);
        prop_assert_eq!(after.base_timestamp, before.base_timestamp);
        prop_assert_eq!(after.attributes, before.attributes | 0x08);
        // Independent of our parser: the raw field, and a full CRC recomputation.
        prop_assert_eq!(&batch[35..43], &now.to_be_bytes()[..]);
        let crc = crc32c::crc32c(&batch[offsets::ATTRIBUTES..]);
        prop_assert_eq!(&batch[17..21], &crc.to_be_bytes()[..]);
        for record in oracle_decode(&batch) {
            prop_assert_eq!(record.timestamp_type, OracleTimestampType::LogAppend);
        }
        // Back to CreateTime with the old maximum: the original bytes exactly.
        set_max_timestamp(&mut batch, TimestampType::CreateTime, before.max_timestamp).unwrap();
        prop_assert_eq!(batch, original);
    }

    #[test]
    fn a_crc_patch_never_makes_a_corrupt_batch_valid(
        spec in batch_spec(1..10),
        position in any::<prop::sample::Index>(),
        mask in 1u8..=255,
        now in any::<i64>(),
    ) {
        let mut batch = encode(&spec);
        // Corrupt a byte the patch does not touch (after maxTimestamp).
        let position = offsets::PRODUCER_ID + position.index(batch.len() - offsets::PRODUCER_ID);
        batch[position] ^= mask;
        set_log_append_time(&mut batch, now).unwrap();
        let is_crc_mismatch = matches!(
            validate_batch(&batch),
            Err(RecordError::CrcMismatch { .. })
        );
        prop_assert!(is_crc_mismatch);
    }

    #[test]
    fn batch_iter_returns_every_batch_and_truncations_are_reported_where_they_start(
        specs in prop::collection::vec(batch_spec(1..5), 1..5),
    ) {
        let mut bytes = Vec::new();
        let mut ranges = Vec::new();
        for spec in &specs {
            let batch = encode(spec);
            ranges.push(bytes.len()..bytes.len() + batch.len());
            bytes.extend_from_slice(&batch);
        }
        let all: Vec<_> = BatchIter::new(&bytes).map(|item| item.unwrap().1).collect();
        prop_assert_eq!(&all, &ranges);

        for cut in 0..bytes.len() {
            let mut iter = BatchIter::new(&bytes[..cut]);
            let items: Vec<_> = iter.by_ref().collect();
            let complete: Vec<_> = ranges.iter().filter(|r| r.end <= cut).cloned().collect();
            let got: Vec<_> = items
                .iter()
                .take(complete.len())
                .map(|item| item.clone().unwrap().1)
                .collect();
            prop_assert_eq!(&got, &complete);
            match ranges.iter().find(|r| r.start < cut && cut < r.end) {
                None => prop_assert_eq!(items.len(), complete.len()),
                Some(torn) => {
                    let available = cut - torn.start;
                    let needed = if available < 12 { 12 } else { torn.len() };
                    prop_assert_eq!(items.len(), complete.len() + 1);
                    prop_assert_eq!(
                        items.last().unwrap(),
                        &Err(RecordError::Truncated { offset: torn.start, needed, available })
                    );
                    prop_assert_eq!(iter.position(), torn.start);
                }
            }
            prop_assert!(iter.next().is_none());
        }
    }

    /// Random damage to the records area with the CRC fixed up afterwards (so only the
    /// structural checks stand between it and acceptance): never a panic, and whatever we
    /// accept, the oracle reads the same way.
    #[test]
    fn structurally_damaged_batches_are_refused_or_read_like_the_oracle(
        spec in batch_spec(1..10),
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut batch = encode(&spec);
        if batch.len() == BATCH_HEADER_BYTES {
            return Ok(());
        }
        for (position, byte) in damage {
            let position = BATCH_HEADER_BYTES + position.index(batch.len() - BATCH_HEADER_BYTES);
            batch[position] = byte;
        }
        let crc = crc32c::crc32c(&batch[offsets::ATTRIBUTES..]);
        batch[17..21].copy_from_slice(&crc.to_be_bytes());

        let validated = validate_batch(&batch);
        let ours: Result<Vec<_>, _> = records(&batch).collect();
        if let Err(error) = &validated {
            let code = error.kafka_error_code();
            prop_assert!(code == 2 || code == 87);
        }
        if validated.is_ok() {
            let ours = ours.unwrap();
            // The oracle insists on UTF-8 header keys; Kafka itself does not.
            let utf8_keys = ours
                .iter()
                .all(|r| r.headers.iter().all(|(k, _)| std::str::from_utf8(k).is_ok()));
            if utf8_keys {
                let oracle = oracle_decode(&batch);
                prop_assert_eq!(oracle.len(), ours.len());
                for (ours, oracle) in ours.iter().zip(&oracle) {
                    prop_assert_eq!(ours.key, oracle.key.as_deref());
                    prop_assert_eq!(ours.value, oracle.value.as_deref());
                    let mut headers = IndexMap::new();
                    for (k, v) in &ours.headers {
                        headers.insert(*k, *v);
                    }
                    let oracle_headers: IndexMap<&[u8], Option<&[u8]>> = oracle
                        .headers
                        .iter()
                        .map(|(k, v)| (k.as_bytes(), v.as_deref()))
                        .collect();
                    prop_assert_eq!(headers, oracle_headers);
                }
            }
        }
    }

    /// Compressed batches: CRC and header checks only, the body is never looked at.
    #[test]
    fn compressed_batches_are_validated_without_reading_records(
        codec in 1u8..=4,
        flags in 0u8..16,
        count in 0i32..1000,
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let attributes = i16::from(codec) | (i16::from(flags) << 3);
        let last_offset_delta = if count > 0 { count - 1 } else { 0 };
        let batch = crafted_batch(attributes, last_offset_delta, count, &body);
        let header = validate_batch(&batch).unwrap();
        let expected = [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ][usize::from(codec) - 1];
        prop_assert_eq!(header.compression(), expected);
        prop_assert_eq!(header.records_count, count);
        prop_assert_eq!(
            records(&batch).collect::<Vec<_>>(),
            vec![Err(RecordError::Compressed { compression: expected })]
        );
        prop_assert_eq!(BatchIter::new(&batch).count(), 1);
    }
}

/// A batch with the given header fields and body, correct lengths and CRC.
fn crafted_batch(attributes: i16, last_offset_delta: i32, count: i32, body: &[u8]) -> Vec<u8> {
    let mut batch = Vec::new();
    batch.extend_from_slice(&0i64.to_be_bytes());
    batch.extend_from_slice(&((49 + body.len()) as i32).to_be_bytes());
    batch.extend_from_slice(&0i32.to_be_bytes());
    batch.push(2);
    batch.extend_from_slice(&0u32.to_be_bytes());
    batch.extend_from_slice(&attributes.to_be_bytes());
    batch.extend_from_slice(&last_offset_delta.to_be_bytes());
    batch.extend_from_slice(&1i64.to_be_bytes());
    batch.extend_from_slice(&2i64.to_be_bytes());
    batch.extend_from_slice(&(-1i64).to_be_bytes());
    batch.extend_from_slice(&(-1i16).to_be_bytes());
    batch.extend_from_slice(&(-1i32).to_be_bytes());
    batch.extend_from_slice(&count.to_be_bytes());
    batch.extend_from_slice(body);
    let crc = crc32c::crc32c(&batch[offsets::ATTRIBUTES..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
    batch
}

#[test]
fn no_records_means_no_batch() {
    let spec = BatchSpec {
        base_offset: 0,
        partition_leader_epoch: 0,
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
        transactional: false,
        control: false,
        delete_horizon: false,
        records: Vec::new(),
    };
    let bytes = encode(&spec);
    assert!(bytes.is_empty());
    assert_eq!(BatchIter::new(&bytes).count(), 0);
    assert_eq!(
        validate_batch(&bytes),
        Err(RecordError::Truncated {
            offset: 0,
            needed: 61,
            available: 0
        })
    );
}

#[test]
fn an_empty_batch_left_by_compaction_is_valid_and_has_no_records() {
    // recordsCount 0 with the lastOffsetDelta of the records compaction removed.
    let batch = crafted_batch(0, 9, 0, &[]);
    let header = validate_batch(&batch).unwrap();
    assert_eq!(header.records_count, 0);
    assert_eq!(header.last_offset(), 9);
    assert_eq!(records(&batch).count(), 0);
}
