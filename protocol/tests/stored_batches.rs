//! `validate_stored_batch`: the checks for batches read back from a segment, which accept
//! the offset gaps compaction leaves and nothing else that `validate_batch` refuses.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use petrel_protocol::records::{
    offsets, records, validate_batch, validate_stored_batch, RecordError,
};

/// An uncompressed batch at base offset 100 whose records (null key and value) have the
/// given offset deltas, with correct lengths and CRC.
fn batch_with_deltas(last_offset_delta: i32, deltas: &[i32], count: i32) -> Vec<u8> {
    let mut body = Vec::new();
    for delta in deltas {
        // length 6: attributes, timestampDelta 0, offsetDelta, key -1, value -1, 0 headers.
        body.extend_from_slice(&[12, 0, 0, (delta * 2) as u8, 1, 1, 0]);
    }
    let mut batch = Vec::new();
    batch.extend_from_slice(&100i64.to_be_bytes());
    batch.extend_from_slice(&((49 + body.len()) as i32).to_be_bytes());
    batch.extend_from_slice(&0i32.to_be_bytes());
    batch.push(2);
    batch.extend_from_slice(&0u32.to_be_bytes());
    batch.extend_from_slice(&0i16.to_be_bytes());
    batch.extend_from_slice(&last_offset_delta.to_be_bytes());
    batch.extend_from_slice(&1i64.to_be_bytes());
    batch.extend_from_slice(&2i64.to_be_bytes());
    batch.extend_from_slice(&(-1i64).to_be_bytes());
    batch.extend_from_slice(&(-1i16).to_be_bytes());
    batch.extend_from_slice(&(-1i32).to_be_bytes());
    batch.extend_from_slice(&count.to_be_bytes());
    batch.extend_from_slice(&body);
    let crc = crc32c::crc32c(&batch[offsets::ATTRIBUTES..]);
    batch[offsets::CRC..offsets::ATTRIBUTES].copy_from_slice(&crc.to_be_bytes());
    batch
}

#[test]
fn a_compacted_batch_is_valid_when_stored_but_not_when_produced() {
    let batch = batch_with_deltas(9, &[0, 3, 7], 3);
    let header = validate_stored_batch(&batch).unwrap();
    assert_eq!(header.last_offset(), 109);
    let deltas: Vec<i32> = records(&batch).map(|r| r.unwrap().offset_delta).collect();
    assert_eq!(deltas, vec![0, 3, 7]);
    assert_eq!(
        validate_batch(&batch),
        Err(RecordError::LastOffsetDeltaMismatch {
            last_offset_delta: 9,
            records_count: 3
        })
    );
    // Gaps at the start too (the first records were removed).
    validate_stored_batch(&batch_with_deltas(9, &[4, 9], 2)).unwrap();
    // A produced batch is a stored batch without gaps.
    validate_stored_batch(&batch_with_deltas(2, &[0, 1, 2], 3)).unwrap();
}

#[test]
fn stored_offsets_must_still_increase_within_the_batch() {
    for (last, deltas) in [(9, &[0, 7, 3][..]), (9, &[2, 2][..]), (5, &[0, 6][..])] {
        let batch = batch_with_deltas(last, deltas, deltas.len() as i32);
        assert!(
            matches!(
                validate_stored_batch(&batch),
                Err(RecordError::OffsetDeltaMismatch { .. })
            ),
            "{deltas:?} within {last}"
        );
    }
    // More records than offsets.
    assert!(matches!(
        validate_stored_batch(&batch_with_deltas(1, &[0, 1, 2], 3)),
        Err(RecordError::LastOffsetDeltaMismatch { .. })
    ));
    // The CRC is still checked.
    let mut batch = batch_with_deltas(9, &[0, 3], 2);
    let last = batch.len() - 1;
    batch[last] ^= 1;
    assert!(matches!(
        validate_stored_batch(&batch),
        Err(RecordError::CrcMismatch { .. })
    ));
}
