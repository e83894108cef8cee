//! In-place edits of a batch, for the broker's append path: assigning offsets and the
//! leader epoch (outside the CRC), and stamping LogAppendTime (inside it).
//!
//! Every function checks what it relies on (a whole v2 header; for CRC-covered fields, the
//! exact batch) and returns an error instead of writing anything if that fails.

use crc32c::{crc32c, crc32c_combine};

use super::error::RecordError;
use super::header::{
    check_magic, parse_exact_batch, parse_header_fields, TimestampType, LOG_APPEND_TIME_FLAG,
};
use super::offsets;

/// Sets `baseOffset` (not covered by the CRC). `batch` must start with a whole v2 header; it
/// may be longer than the batch.
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) -> Result<(), RecordError> {
    check_magic(batch)?;
    parse_header_fields(batch)?;
    write(batch, offsets::BASE_OFFSET, &base_offset.to_be_bytes())
}

/// Sets `partitionLeaderEpoch` (not covered by the CRC). `batch` must start with a whole v2
/// header; it may be longer than the batch.
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) -> Result<(), RecordError> {
    check_magic(batch)?;
    parse_header_fields(batch)?;
    write(batch, offsets::PARTITION_LEADER_EPOCH, &epoch.to_be_bytes())
}

/// Marks the batch LogAppendTime and sets `maxTimestamp` to `timestamp_ms`, as Kafka's
/// broker does for topics with `message.timestamp.type=LogAppendTime` (`baseTimestamp` and
/// the records' deltas are left alone: readers use `maxTimestamp` for every record).
/// `batch` must be exactly one v2 batch. See [`set_max_timestamp`] for the CRC.
pub fn set_log_append_time(batch: &mut [u8], timestamp_ms: i64) -> Result<(), RecordError> {
    set_max_timestamp(batch, TimestampType::LogAppendTime, timestamp_ms)
}

/// Sets the timestamp type (attribute bit 3; the other attribute bits are kept) and
/// `maxTimestamp`, and updates the CRC. `batch` must be exactly one v2 batch.
///
/// The CRC is updated incrementally from the bytes that change (CRC-32C is linear), not
/// recomputed over the batch: the result is the same for a batch whose CRC was valid, and a
/// batch whose CRC was *wrong* stays wrong, so a patch can never make a corrupt batch look
/// valid. The cost does not depend on the batch size beyond a logarithmic term.
pub fn set_max_timestamp(
    batch: &mut [u8],
    timestamp_type: TimestampType,
    max_timestamp: i64,
) -> Result<(), RecordError> {
    let header = parse_exact_batch(batch)?;
    let attributes = match timestamp_type {
        TimestampType::LogAppendTime => header.attributes | LOG_APPEND_TIME_FLAG,
        TimestampType::CreateTime => header.attributes & !LOG_APPEND_TIME_FLAG,
    };
    // Bytes 21..43 hold every CRC-covered field that changes (attributes at 21, maxTimestamp
    // at 35); the rest of the batch is the same before and after.
    let changed = offsets::ATTRIBUTES..offsets::PRODUCER_ID;
    let unchanged_len = batch.len().saturating_sub(offsets::PRODUCER_ID);
    let before = crc32c(batch.get(changed.clone()).unwrap_or_default());
    write(batch, offsets::ATTRIBUTES, &attributes.to_be_bytes())?;
    write(batch, offsets::MAX_TIMESTAMP, &max_timestamp.to_be_bytes())?;
    let after = crc32c(batch.get(changed).unwrap_or_default());
    // For equal-length inputs, crc(A) ^ crc(B) depends only on A ^ B; a difference confined
    // to the first 22 bytes is that difference's CRC shifted past the unchanged bytes.
    let delta = crc32c_combine(before ^ after, 0, unchanged_len);
    write(batch, offsets::CRC, &(header.crc ^ delta).to_be_bytes())
}

/// Writes `bytes` at `offset`, or reports the batch as truncated.
fn write(batch: &mut [u8], offset: usize, bytes: &[u8]) -> Result<(), RecordError> {
    let available = batch.len();
    let end = offset.saturating_add(bytes.len());
    let target = batch.get_mut(offset..end).ok_or(RecordError::Truncated {
        offset: 0,
        needed: end,
        available,
    })?;
    target.copy_from_slice(bytes);
    Ok(())
}
