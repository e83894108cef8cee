//! Hostile record batches, each pinned as a named regression test: every one must produce a
//! typed error (with the Kafka error code the broker will answer with), never a panic, and
//! never an allocation sized by a count off the wire. (An allocation sized by one of the
//! counts below, e.g. 2^31 headers of 32 bytes, would abort the test process.)
//!
//! Batches are built by hand here, independently of the oracle, so that every field can be
//! set to a value no encoder would produce.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use petrel_protocol::records::{
    offsets, parse_batch_header, records, set_base_offset, set_log_append_time,
    set_partition_leader_epoch, validate_batch, BatchIter, Compression, FieldProblem, RecordError,
    RecordField,
};

const CORRUPT_MESSAGE: i16 = 2;
const INVALID_RECORD: i16 = 87;

/// Zigzag varint.
fn zz(value: i64) -> Vec<u8> {
    let mut raw = ((value << 1) ^ (value >> 63)) as u64;
    let mut out = Vec::new();
    loop {
        let byte = (raw & 0x7f) as u8;
        raw >>= 7;
        if raw == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// One record with the given offset delta, key and value, and no headers.
fn record(offset_delta: i64, key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut body = vec![0u8];
    body.extend(zz(0));
    body.extend(zz(offset_delta));
    body.extend(zz(key.len() as i64));
    body.extend_from_slice(key);
    body.extend(zz(value.len() as i64));
    body.extend_from_slice(value);
    body.extend(zz(0));
    let mut out = zz(body.len() as i64);
    out.extend(body);
    out
}

/// Header fields that hostile tests vary.
struct Spec {
    magic: u8,
    attributes: i16,
    last_offset_delta: i32,
    records_count: i32,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            magic: 2,
            attributes: 0,
            last_offset_delta: 0,
            records_count: 1,
        }
    }
}

/// A batch with `spec`'s header, `body` as its records, consistent batchLength and CRC.
fn batch(spec: Spec, body: &[u8]) -> Vec<u8> {
    let mut batch = Vec::new();
    batch.extend_from_slice(&100i64.to_be_bytes());
    batch.extend_from_slice(&((49 + body.len()) as i32).to_be_bytes());
    batch.extend_from_slice(&5i32.to_be_bytes());
    batch.push(spec.magic);
    batch.extend_from_slice(&0u32.to_be_bytes());
    batch.extend_from_slice(&spec.attributes.to_be_bytes());
    batch.extend_from_slice(&spec.last_offset_delta.to_be_bytes());
    batch.extend_from_slice(&1_000i64.to_be_bytes());
    batch.extend_from_slice(&1_000i64.to_be_bytes());
    batch.extend_from_slice(&(-1i64).to_be_bytes());
    batch.extend_from_slice(&(-1i16).to_be_bytes());
    batch.extend_from_slice(&(-1i32).to_be_bytes());
    batch.extend_from_slice(&spec.records_count.to_be_bytes());
    batch.extend_from_slice(body);
    fix_crc(&mut batch);
    batch
}

fn fix_crc(batch: &mut [u8]) {
    let crc = crc32c::crc32c(&batch[offsets::ATTRIBUTES..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
}

/// `validate_batch` fails with `expected` and `records` agrees (for errors it also checks).
fn refused(batch: &[u8], expected: RecordError, code: i16) {
    let error = validate_batch(batch).unwrap_err();
    assert_eq!(error, expected);
    assert_eq!(error.kafka_error_code(), code, "{error}");
    // Display works for every variant (it is what the broker logs).
    assert!(!error.to_string().is_empty());
}

#[test]
fn a_well_formed_hand_built_batch_is_accepted() {
    let body = [record(0, b"k", b"v"), record(1, b"", b"")].concat();
    let batch = batch(
        Spec {
            last_offset_delta: 1,
            records_count: 2,
            ..Spec::default()
        },
        &body,
    );
    let header = validate_batch(&batch).unwrap();
    assert_eq!(header.records_count, 2);
    assert_eq!(records(&batch).filter(Result::is_ok).count(), 2);
}

#[test]
fn record_count_of_i32_max_in_a_61_byte_batch() {
    let batch = batch(
        Spec {
            last_offset_delta: i32::MAX - 1,
            records_count: i32::MAX,
            ..Spec::default()
        },
        &[],
    );
    assert_eq!(batch.len(), 61);
    let expected = RecordError::RecordCountMismatch {
        declared: i32::MAX,
        found: 0,
    };
    refused(&batch, expected.clone(), INVALID_RECORD);
    assert_eq!(records(&batch).collect::<Vec<_>>(), vec![Err(expected)]);
    // The iterator frames it fine: it does not look at records.
    assert_eq!(BatchIter::new(&batch).count(), 1);
}

#[test]
fn record_count_disagreeing_with_last_offset_delta() {
    let batch = batch(
        Spec {
            last_offset_delta: 0,
            records_count: i32::MAX,
            ..Spec::default()
        },
        &[],
    );
    refused(
        &batch,
        RecordError::LastOffsetDeltaMismatch {
            last_offset_delta: 0,
            records_count: i32::MAX,
        },
        INVALID_RECORD,
    );
}

#[test]
fn negative_record_count() {
    let batch = batch(
        Spec {
            last_offset_delta: -2,
            records_count: -1,
            ..Spec::default()
        },
        &record(0, b"k", b"v"),
    );
    let expected = RecordError::NegativeRecordCount { records_count: -1 };
    refused(&batch, expected.clone(), INVALID_RECORD);
    assert_eq!(records(&batch).collect::<Vec<_>>(), vec![Err(expected)]);
}

#[test]
fn negative_batch_length() {
    for batch_length in [-1i32, i32::MIN, 0, 48] {
        let mut batch = batch(Spec::default(), &record(0, b"k", b"v"));
        batch[8..12].copy_from_slice(&batch_length.to_be_bytes());
        let expected = RecordError::BatchLengthTooSmall { batch_length };
        refused(&batch, expected.clone(), CORRUPT_MESSAGE);
        assert_eq!(parse_batch_header(&batch), Err(expected.clone()));
        assert_eq!(
            BatchIter::new(&batch).collect::<Vec<_>>(),
            vec![Err(expected.clone())]
        );
        assert_eq!(records(&batch).collect::<Vec<_>>(), vec![Err(expected)]);
    }
}

#[test]
fn batch_length_of_i32_max_in_a_61_byte_input() {
    let mut batch = batch(Spec::default(), &[]);
    batch[8..12].copy_from_slice(&i32::MAX.to_be_bytes());
    let expected = RecordError::Truncated {
        offset: 0,
        needed: i32::MAX as usize + 12,
        available: 61,
    };
    refused(&batch, expected.clone(), CORRUPT_MESSAGE);
    assert_eq!(
        BatchIter::new(&batch).collect::<Vec<_>>(),
        vec![Err(expected)]
    );
}

#[test]
fn slice_longer_than_its_batch() {
    let mut bytes = batch(Spec::default(), &record(0, b"k", b"v"));
    let declared = bytes.len();
    bytes.push(0);
    refused(
        &bytes,
        RecordError::LengthMismatch {
            declared,
            actual: declared + 1,
        },
        CORRUPT_MESSAGE,
    );
}

#[test]
fn header_count_of_2_pow_31_in_a_tiny_record() {
    for (count, problem) in [
        (
            i64::from(i32::MAX),
            FieldProblem::CountExceedsRemaining {
                count: i32::MAX,
                remaining: 0,
            },
        ),
        (
            i64::from(i32::MIN),
            FieldProblem::NegativeLength(i64::from(i32::MIN)),
        ),
    ] {
        let mut body = vec![0u8, 0, 0, 1, 1];
        body.extend(zz(count));
        let mut rec = zz(body.len() as i64);
        rec.extend(body);
        let batch = batch(Spec::default(), &rec);
        let expected = RecordError::MalformedRecord {
            index: 0,
            field: RecordField::HeaderCount,
            problem,
        };
        refused(&batch, expected.clone(), INVALID_RECORD);
        assert_eq!(records(&batch).collect::<Vec<_>>(), vec![Err(expected)]);
    }
}

#[test]
fn record_length_that_overruns_the_batch() {
    let mut body = zz(1_000_000);
    body.extend_from_slice(&[0; 10]);
    let batch = batch(Spec::default(), &body);
    let expected = RecordError::RecordOverrunsBatch {
        index: 0,
        length: 1_000_000,
        remaining: 10,
    };
    refused(&batch, expected.clone(), INVALID_RECORD);
    assert_eq!(records(&batch).collect::<Vec<_>>(), vec![Err(expected)]);
}

#[test]
fn key_length_of_i32_max_inside_a_small_record() {
    let mut body = vec![0u8, 0, 0];
    body.extend(zz(i64::from(i32::MAX)));
    body.extend_from_slice(b"abc");
    let mut rec = zz(body.len() as i64);
    rec.extend(body);
    refused(
        &batch(Spec::default(), &rec),
        RecordError::MalformedRecord {
            index: 0,
            field: RecordField::Key,
            problem: FieldProblem::Truncated,
        },
        INVALID_RECORD,
    );
}

#[test]
fn overlong_varints() {
    // Record length in 6 bytes.
    let body = [0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 0];
    refused(
        &batch(Spec::default(), &body),
        RecordError::MalformedRecord {
            index: 0,
            field: RecordField::Length,
            problem: FieldProblem::MalformedVarint,
        },
        INVALID_RECORD,
    );
    // timestampDelta (a varlong) in 11 bytes.
    let mut inner = vec![0u8];
    inner.extend_from_slice(&[0xff; 10]);
    inner.push(0x01);
    inner.extend_from_slice(&[0, 1, 1, 0]);
    let mut rec = zz(inner.len() as i64);
    rec.extend(inner);
    refused(
        &batch(Spec::default(), &rec),
        RecordError::MalformedRecord {
            index: 0,
            field: RecordField::TimestampDelta,
            problem: FieldProblem::MalformedVarint,
        },
        INVALID_RECORD,
    );
}

#[test]
fn record_declaring_more_bytes_than_its_fields() {
    let mut rec = record(0, b"k", b"v");
    rec[0] += 2; // zigzag: +1 byte
    rec.push(0xee);
    refused(
        &batch(Spec::default(), &rec),
        RecordError::RecordLengthMismatch {
            index: 0,
            length: 9,
            used: 8,
        },
        INVALID_RECORD,
    );
}

#[test]
fn offset_deltas_must_count_from_zero() {
    let body = [record(0, b"a", b""), record(2, b"b", b"")].concat();
    let batch = batch(
        Spec {
            last_offset_delta: 1,
            records_count: 2,
            ..Spec::default()
        },
        &body,
    );
    refused(
        &batch,
        RecordError::OffsetDeltaMismatch {
            index: 1,
            offset_delta: 2,
        },
        INVALID_RECORD,
    );
    // `records` reads them as they are (compacted batches have gaps).
    let deltas: Vec<_> = records(&batch).map(|r| r.unwrap().offset_delta).collect();
    assert_eq!(deltas, [0, 2]);
}

#[test]
fn fewer_records_than_declared_and_trailing_bytes() {
    let body = record(0, b"a", b"");
    let short = batch(
        Spec {
            last_offset_delta: 1,
            records_count: 2,
            ..Spec::default()
        },
        &body,
    );
    refused(
        &short,
        RecordError::RecordCountMismatch {
            declared: 2,
            found: 1,
        },
        INVALID_RECORD,
    );
    let long = batch(Spec::default(), &[body.clone(), body].concat());
    let expected = RecordError::TrailingBytes {
        declared: 1,
        trailing: 8,
    };
    refused(&long, expected.clone(), INVALID_RECORD);
    let read: Vec<_> = records(&long).collect();
    assert_eq!(read.len(), 2);
    assert_eq!(read[1], Err(expected));
}

#[test]
fn legacy_and_unknown_magic() {
    for (magic, code) in [
        (0u8, INVALID_RECORD),
        (1, INVALID_RECORD),
        (3, CORRUPT_MESSAGE),
    ] {
        let batch = batch(
            Spec {
                magic,
                ..Spec::default()
            },
            &record(0, b"k", b"v"),
        );
        let expected = RecordError::UnsupportedMagic { magic: magic as i8 };
        refused(&batch, expected.clone(), code);
        assert_eq!(
            BatchIter::new(&batch).collect::<Vec<_>>(),
            vec![Err(expected.clone())]
        );
        assert_eq!(records(&batch).collect::<Vec<_>>(), vec![Err(expected)]);
    }
}

#[test]
fn unknown_codec_is_refused_after_the_crc() {
    let mut batch = batch(
        Spec {
            attributes: 5,
            ..Spec::default()
        },
        &record(0, b"k", b"v"),
    );
    refused(
        &batch,
        RecordError::UnknownCompression { codec: 5 },
        CORRUPT_MESSAGE,
    );
    assert_eq!(
        BatchIter::new(&batch).collect::<Vec<_>>(),
        vec![Err(RecordError::UnknownCompression { codec: 5 })]
    );
    // With a bad CRC as well, the CRC is what is reported.
    batch[20] ^= 1;
    assert!(matches!(
        validate_batch(&batch),
        Err(RecordError::CrcMismatch { .. })
    ));
}

#[test]
fn compressed_body_is_not_inspected() {
    // Garbage that would fail every record check, in a gzip batch with a valid CRC.
    let batch = batch(
        Spec {
            attributes: Compression::Gzip.id().into(),
            last_offset_delta: i32::MAX - 1,
            records_count: i32::MAX,
            ..Spec::default()
        },
        &[0xff; 17],
    );
    let header = validate_batch(&batch).unwrap();
    assert_eq!(header.compression(), Compression::Gzip);
    assert_eq!(
        records(&batch).collect::<Vec<_>>(),
        vec![Err(RecordError::Compressed {
            compression: Compression::Gzip
        })]
    );
}

#[test]
fn batch_iter_stops_at_garbage_after_a_valid_batch() {
    let good = batch(Spec::default(), &record(0, b"k", b"v"));
    let mut bytes = good.clone();
    bytes.extend_from_slice(&[0u8; 100]); // a preallocated, zero-filled tail
    let mut iter = BatchIter::new(&bytes);
    assert_eq!(iter.next().unwrap().unwrap().1, 0..good.len());
    assert_eq!(
        iter.next(),
        Some(Err(RecordError::BatchLengthTooSmall { batch_length: 0 }))
    );
    assert_eq!(iter.position(), good.len());
    assert_eq!(iter.next(), None);
}

#[test]
fn patches_refuse_short_or_foreign_input_and_write_nothing() {
    let good = batch(Spec::default(), &record(0, b"k", b"v"));
    for len in 0..61 {
        let mut short = good[..len].to_vec();
        assert!(matches!(
            set_base_offset(&mut short, 7),
            Err(RecordError::Truncated { .. })
        ));
        assert!(matches!(
            set_partition_leader_epoch(&mut short, 7),
            Err(RecordError::Truncated { .. })
        ));
        assert!(matches!(
            set_log_append_time(&mut short, 7),
            Err(RecordError::Truncated { .. })
        ));
        assert_eq!(short, good[..len]);
    }
    // The CRC patch needs exactly one batch (the CRC covers up to its end).
    let mut longer = good.clone();
    longer.push(0);
    assert_eq!(
        set_log_append_time(&mut longer, 7),
        Err(RecordError::LengthMismatch {
            declared: good.len(),
            actual: good.len() + 1
        })
    );
    assert_eq!(longer[..good.len()], good[..]);
    // Offsets may be patched through a longer buffer (outside the CRC).
    set_base_offset(&mut longer, 7).unwrap();
    assert_eq!(
        validate_batch(&longer[..good.len()]).unwrap().base_offset,
        7
    );
    // A legacy message set is never patched as if it were v2.
    let mut legacy = batch(
        Spec {
            magic: 1,
            ..Spec::default()
        },
        &record(0, b"k", b"v"),
    );
    let before = legacy.clone();
    assert_eq!(
        set_partition_leader_epoch(&mut legacy, 7),
        Err(RecordError::UnsupportedMagic { magic: 1 })
    );
    assert_eq!(legacy, before);
}

#[test]
fn arbitrary_short_inputs_never_panic() {
    // Every prefix of a few hand-built hostile batches, through every entry point.
    let inputs = [
        batch(Spec::default(), &record(0, b"key", b"value")),
        batch(
            Spec {
                records_count: i32::MAX,
                last_offset_delta: i32::MAX - 1,
                ..Spec::default()
            },
            &[0xff; 30],
        ),
    ];
    for input in &inputs {
        for len in 0..=input.len() {
            let prefix = &input[..len];
            let _ = validate_batch(prefix);
            let _ = parse_batch_header(prefix);
            let _ = records(prefix).count();
            let _ = BatchIter::new(prefix).count();
            let mut copy = prefix.to_vec();
            let _ = set_log_append_time(&mut copy, 1);
            let _ = set_base_offset(&mut copy, 1);
        }
    }
}
