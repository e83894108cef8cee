//! Iteration over concatenated batches: the `records` field of a Produce partition, a Fetch
//! response's, or the bytes of a segment file.

use std::iter::FusedIterator;
use std::ops::Range;

use super::error::RecordError;
use super::header::{check_magic, parse_batch_header, BatchHeader};
use super::{offsets, LOG_OVERHEAD_BYTES, MIN_BATCH_LENGTH};

/// Splits a byte slice holding concatenated v2 batches into `(header, range)` pairs, where
/// `range` is the batch's position in the slice.
///
/// Frames batches by their `batchLength` and parses their headers
/// ([`parse_batch_header`]) but does **not** check CRCs or records: call
/// [`super::validate_batch`] on `&bytes[range]` for that.
///
/// Checks in Kafka's order (`ByteBufferLogInputStream`): `batchLength` (at least 49,
/// [`RecordError::BatchLengthTooSmall`]), then whether the whole batch is present, then the
/// magic ([`RecordError::UnsupportedMagic`]) and the codec.
///
/// The first error ends the iteration. A batch cut short by the end of the slice (a torn
/// write at a segment's tail, or a Fetch response cut at its size limit) is reported as
/// [`RecordError::Truncated`] with `offset` where that batch starts, so that recovery can
/// truncate the segment there; every other error is corruption. Trailing zeros (a
/// preallocated file) read as a `batchLength` of 0.
#[derive(Debug, Clone)]
pub struct BatchIter<'a> {
    bytes: &'a [u8],
    position: usize,
    finished: bool,
}

impl<'a> BatchIter<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        BatchIter {
            bytes,
            position: 0,
            finished: false,
        }
    }

    /// Where the next batch starts (after an error: where the failing batch starts).
    pub fn position(&self) -> usize {
        self.position
    }

    fn next_batch(&self) -> Result<(BatchHeader, Range<usize>), RecordError> {
        let start = self.position;
        let rest = self.bytes.get(start..).unwrap_or_default();
        let truncated = |needed| RecordError::Truncated {
            offset: start,
            needed,
            available: rest.len(),
        };
        let length_field = rest
            .get(offsets::BATCH_LENGTH..LOG_OVERHEAD_BYTES)
            .and_then(|field| <[u8; 4]>::try_from(field).ok())
            .ok_or_else(|| truncated(LOG_OVERHEAD_BYTES))?;
        let batch_length = i32::from_be_bytes(length_field);
        if batch_length < MIN_BATCH_LENGTH {
            return Err(RecordError::BatchLengthTooSmall { batch_length });
        }
        let total = usize::try_from(batch_length)
            .unwrap_or(0)
            .saturating_add(LOG_OVERHEAD_BYTES);
        let batch = rest.get(..total).ok_or_else(|| truncated(total))?;
        check_magic(batch)?;
        let header = parse_batch_header(batch)?;
        Ok((header, start..start.saturating_add(total)))
    }
}

impl Iterator for BatchIter<'_> {
    type Item = Result<(BatchHeader, Range<usize>), RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished || self.position >= self.bytes.len() {
            self.finished = true;
            return None;
        }
        let item = self.next_batch();
        match &item {
            Ok((_, range)) => self.position = range.end,
            Err(_) => self.finished = true,
        }
        Some(item)
    }
}

impl FusedIterator for BatchIter<'_> {}
