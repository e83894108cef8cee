//! Validation of one record batch before the broker accepts it (Produce) or trusts it
//! (recovery, replication).

use super::error::RecordError;
use super::header::{parse_exact_batch, BatchHeader, Compression};
use super::offsets;
use super::record::RecordWalker;

/// Validates exactly one v2 batch (the slice must be the whole batch, no more, no less) and
/// returns its header. In order:
///
/// 1. magic is 2 ([`RecordError::UnsupportedMagic`]);
/// 2. the header is whole, `batchLength >= 49` and the slice is `batchLength + 12` bytes
///    ([`RecordError::Truncated`], [`RecordError::BatchLengthTooSmall`],
///    [`RecordError::LengthMismatch`]);
/// 3. the CRC-32C of bytes 21..end matches ([`RecordError::CrcMismatch`]);
/// 4. the codec is known ([`RecordError::UnknownCompression`]);
/// 5. `recordsCount >= 0`, and `lastOffsetDelta == recordsCount - 1` when `recordsCount > 0`
///    (as Kafka's `LogValidator` requires of produced batches);
/// 6. for an **uncompressed** batch, every record: its length covers exactly its fields, the
///    i-th record's offsetDelta is i, there are `recordsCount` records and no bytes after
///    them. Nothing is allocated, whatever the counts say.
///
/// **Compressed batches are checked up to step 5 only**: their records are not inspected
/// (that would need decompressing them).
///
/// Not checked (Kafka does not either, or the broker does it with configuration at hand):
/// producer id/epoch/sequence, `maxTimestamp >= baseTimestamp`, timestamp bounds, the
/// record attributes. Note that `recordsCount == 0` passes, as it must for the empty batches
/// compaction leaves behind; Kafka's produce path refuses such batches, so the broker must
/// check that itself for Produce. Compacted batches (offset-delta gaps) do not pass step 6;
/// check stored batches with [`validate_stored_batch`].
pub fn validate_batch(batch: &[u8]) -> Result<BatchHeader, RecordError> {
    let header = check_common(batch)?;
    if header.records_count > 0 && header.last_offset_delta != header.records_count - 1 {
        return Err(RecordError::LastOffsetDeltaMismatch {
            last_offset_delta: header.last_offset_delta,
            records_count: header.records_count,
        });
    }

    if header.compression() == Compression::None {
        let mut walker = RecordWalker::new(batch, header.records_count)?;
        let mut index = 0usize;
        while let Some(record) = walker.next_record(false) {
            let record = record?;
            if usize::try_from(record.offset_delta).ok() != Some(index) {
                return Err(RecordError::OffsetDeltaMismatch {
                    index,
                    offset_delta: record.offset_delta,
                });
            }
            index = index.saturating_add(1);
        }
    }
    Ok(header)
}

/// Validates one batch read back from a segment file (recovery, scans of stored data).
///
/// Steps 1 to 4 of [`validate_batch`] and the record structure are checked the same way,
/// but the offset rules are those of a *compacted* batch, which Kafka's cleaner leaves with
/// gaps: it keeps the original `baseOffset` and `lastOffsetDelta` (so the next offset stays
/// right) and only the surviving records. So here `recordsCount` may be below
/// `lastOffsetDelta + 1` (never above it), and an uncompressed batch's offset deltas must
/// only increase strictly within `0..=lastOffsetDelta`. Applying `validate_batch`'s strict
/// rules to stored data would make recovery truncate every compacted segment.
pub fn validate_stored_batch(batch: &[u8]) -> Result<BatchHeader, RecordError> {
    let header = check_common(batch)?;
    if header.records_count > 0
        && i64::from(header.last_offset_delta) < i64::from(header.records_count) - 1
    {
        return Err(RecordError::LastOffsetDeltaMismatch {
            last_offset_delta: header.last_offset_delta,
            records_count: header.records_count,
        });
    }
    if header.compression() == Compression::None {
        let mut walker = RecordWalker::new(batch, header.records_count)?;
        let mut index = 0usize;
        let mut previous: Option<i32> = None;
        while let Some(record) = walker.next_record(false) {
            let delta = record?.offset_delta;
            let increasing = previous.is_none_or(|p| delta > p);
            if delta < 0 || delta > header.last_offset_delta || !increasing {
                return Err(RecordError::OffsetDeltaMismatch {
                    index,
                    offset_delta: delta,
                });
            }
            previous = Some(delta);
            index = index.saturating_add(1);
        }
    }
    Ok(header)
}

/// Steps 1 to 4 of [`validate_batch`] and a non-negative `recordsCount`: what every batch
/// must satisfy, produced or stored.
fn check_common(batch: &[u8]) -> Result<BatchHeader, RecordError> {
    let header = parse_exact_batch(batch)?;

    let computed = crc32c::crc32c(batch.get(offsets::ATTRIBUTES..).unwrap_or_default());
    if computed != header.crc {
        return Err(RecordError::CrcMismatch {
            stored: header.crc,
            computed,
        });
    }

    Compression::from_attributes(header.attributes)?;

    if header.records_count < 0 {
        return Err(RecordError::NegativeRecordCount {
            records_count: header.records_count,
        });
    }
    Ok(header)
}
