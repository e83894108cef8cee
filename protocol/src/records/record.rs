//! Records inside an uncompressed v2 batch, read in place.
//!
//! Layout of one record (varints are zigzag-encoded, see `varint.rs`):
//!
//! ```text
//! length varint                 bytes that follow, up to the end of the headers
//! attributes int8               unused by Kafka so far
//! timestampDelta varlong        timestamp - batch baseTimestamp
//! offsetDelta varint            offset - batch baseOffset
//! keyLength varint, key         -1 = null
//! valueLength varint, value     -1 = null
//! headerCount varint, then per header:
//!     keyLength varint, key     never null; UTF-8 by convention, not checked (Kafka's Java
//!                               reader does not check it either)
//!     valueLength varint, value -1 = null
//! ```

use std::iter::FusedIterator;

use nom::bytes::complete::take;
use nom::number::complete::be_i8;

use super::error::{FieldProblem, RecordError, RecordField};
use super::header::{parse_exact_batch, Compression};
use super::varint::{varint, varlong, FResult};
use super::BATCH_HEADER_BYTES;

/// The smallest record: a 1-byte length, then attributes, timestampDelta, offsetDelta,
/// keyLength, valueLength and headerCount of one byte each.
pub const MIN_RECORD_BYTES: usize = 7;

/// The smallest record header: 1-byte key length (empty key) and 1-byte value length.
const MIN_HEADER_BYTES: usize = 2;

/// A record header: its key (bytes; see the module docs about UTF-8) and value.
pub type RecordHeader<'a> = (&'a [u8], Option<&'a [u8]>);

/// One record, borrowing its key, value and headers from the batch bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record<'a> {
    pub attributes: i8,
    /// Add to the batch's `base_timestamp` for the record's timestamp (for CreateTime
    /// batches; LogAppendTime records all carry the batch's `max_timestamp`).
    pub timestamp_delta: i64,
    /// Add to the batch's `base_offset` for the record's offset.
    pub offset_delta: i32,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: Vec<RecordHeader<'a>>,
}

/// Iterates over the records of one uncompressed v2 batch (exactly one batch: the slice must
/// be `total_bytes` long).
///
/// Checks the structure: magic, lengths, that every record's fields fill exactly its length,
/// that there are `recordsCount` records and nothing after them. It does **not** check the
/// CRC (call [`super::validate_batch`] first for untrusted bytes) nor that offset deltas run
/// 0, 1, 2, ... (compaction leaves gaps; `validate_batch` checks them for produced batches).
///
/// A compressed batch yields one [`RecordError::Compressed`]: read its records with
/// [`super::decompress_records`]. After the first error the iterator ends.
pub fn records(batch: &[u8]) -> Records<'_> {
    let start = || -> Result<RecordWalker<'_>, RecordError> {
        let header = parse_exact_batch(batch)?;
        let compression = Compression::from_attributes(header.attributes)?;
        if compression != Compression::None {
            return Err(RecordError::Compressed { compression });
        }
        RecordWalker::new(batch, header.records_count)
    };
    match start() {
        Ok(walker) => Records {
            walker: Some(walker),
            error: None,
        },
        Err(error) => Records {
            walker: None,
            error: Some(error),
        },
    }
}

/// Iterates over `records_count` records laid out in `section` as in a batch's records
/// section: the decompressed section of a compressed batch
/// ([`super::compression::DecompressedRecords::records`]).
pub(crate) fn records_in(section: &[u8], records_count: i32) -> Records<'_> {
    match RecordWalker::over_section(section, records_count) {
        Ok(walker) => Records {
            walker: Some(walker),
            error: None,
        },
        Err(error) => Records {
            walker: None,
            error: Some(error),
        },
    }
}

/// The iterator returned by [`records`].
#[derive(Debug, Clone)]
pub struct Records<'a> {
    walker: Option<RecordWalker<'a>>,
    /// An error found before the first record, yielded once.
    error: Option<RecordError>,
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.error.take() {
            return Some(Err(error));
        }
        self.walker.as_mut()?.next_record(true)
    }
}

impl FusedIterator for Records<'_> {}

/// Walks the records area of a batch, shared by [`records`] and [`super::validate_batch`]
/// (which does not collect headers, so that validation allocates nothing).
#[derive(Debug, Clone)]
pub(crate) struct RecordWalker<'a> {
    rest: &'a [u8],
    index: usize,
    declared: i32,
    finished: bool,
}

impl<'a> RecordWalker<'a> {
    /// `batch` is one whole batch; `records_count` is its header's.
    pub(crate) fn new(batch: &'a [u8], records_count: i32) -> Result<Self, RecordError> {
        Self::over_section(
            batch.get(BATCH_HEADER_BYTES..).unwrap_or_default(),
            records_count,
        )
    }

    /// Walks `section`, the records section of a batch on its own (the batch's bytes from
    /// [`BATCH_HEADER_BYTES`] on, or their decompressed form).
    pub(crate) fn over_section(section: &'a [u8], records_count: i32) -> Result<Self, RecordError> {
        if records_count < 0 {
            return Err(RecordError::NegativeRecordCount { records_count });
        }
        Ok(RecordWalker {
            rest: section,
            index: 0,
            declared: records_count,
            finished: false,
        })
    }

    /// The next record, an error (after which it returns `None`), or `None` after
    /// `recordsCount` records that end exactly at the end of the batch.
    ///
    /// The loop this drives is bounded by the bytes, not by the count: every record consumes
    /// at least [`MIN_RECORD_BYTES`] or ends the walk with an error.
    pub(crate) fn next_record(
        &mut self,
        collect_headers: bool,
    ) -> Option<Result<Record<'a>, RecordError>> {
        if self.finished {
            return None;
        }
        let declared = usize::try_from(self.declared).unwrap_or(0);
        if self.index >= declared {
            self.finished = true;
            return if self.rest.is_empty() {
                None
            } else {
                Some(Err(RecordError::TrailingBytes {
                    declared: self.declared,
                    trailing: self.rest.len(),
                }))
            };
        }
        if self.rest.is_empty() {
            self.finished = true;
            return Some(Err(RecordError::RecordCountMismatch {
                declared: self.declared,
                found: self.index,
            }));
        }
        match parse_record(self.rest, self.index, collect_headers) {
            Ok((rest, record)) => {
                self.rest = rest;
                self.index = self.index.saturating_add(1);
                Some(Ok(record))
            }
            Err(error) => {
                self.finished = true;
                Some(Err(error))
            }
        }
    }
}

/// Maps a field parser's failure to [`RecordError::MalformedRecord`].
fn in_field<'a, T>(
    index: usize,
    field: RecordField,
    result: FResult<'a, T>,
) -> Result<(&'a [u8], T), RecordError> {
    result.map_err(|err| {
        let problem = match err {
            nom::Err::Error(problem) | nom::Err::Failure(problem) => problem,
            nom::Err::Incomplete(_) => FieldProblem::Truncated,
        };
        RecordError::MalformedRecord {
            index,
            field,
            problem,
        }
    })
}

/// A varint length, then that many bytes; -1 is null.
fn nullable_bytes(input: &[u8]) -> FResult<'_, Option<&[u8]>> {
    let (input, len) = varint(input)?;
    match usize::try_from(len) {
        Ok(len) => {
            let (input, bytes) = take(len)(input)?;
            Ok((input, Some(bytes)))
        }
        Err(_) if len == -1 => Ok((input, None)),
        Err(_) => Err(nom::Err::Error(FieldProblem::NegativeLength(len.into()))),
    }
}

/// A varint length, then that many bytes; null is not allowed.
fn bytes(input: &[u8]) -> FResult<'_, &[u8]> {
    let (input, len) = varint(input)?;
    let len = usize::try_from(len)
        .map_err(|_| nom::Err::Error(FieldProblem::NegativeLength(len.into())))?;
    take(len)(input)
}

/// Parses record `index` at the start of `input` (the rest of the batch's records area);
/// returns what follows it. Headers go into the record only if `collect_headers`.
pub(crate) fn parse_record(
    input: &[u8],
    index: usize,
    collect_headers: bool,
) -> Result<(&[u8], Record<'_>), RecordError> {
    let (rest, length) = in_field(index, RecordField::Length, varint(input))?;
    let length = usize::try_from(length).map_err(|_| RecordError::MalformedRecord {
        index,
        field: RecordField::Length,
        problem: FieldProblem::NegativeLength(length.into()),
    })?;
    let (body, after) = rest
        .split_at_checked(length)
        .ok_or(RecordError::RecordOverrunsBatch {
            index,
            length,
            remaining: rest.len(),
        })?;

    let (body, attributes) = in_field(index, RecordField::Attributes, be_i8(body))?;
    let (body, timestamp_delta) = in_field(index, RecordField::TimestampDelta, varlong(body))?;
    let (body, offset_delta) = in_field(index, RecordField::OffsetDelta, varint(body))?;
    let (body, key) = in_field(index, RecordField::Key, nullable_bytes(body))?;
    let (body, value) = in_field(index, RecordField::Value, nullable_bytes(body))?;
    let (mut body, count) = in_field(index, RecordField::HeaderCount, varint(body))?;
    let count_problem = |problem| RecordError::MalformedRecord {
        index,
        field: RecordField::HeaderCount,
        problem,
    };
    let header_count = usize::try_from(count)
        .map_err(|_| count_problem(FieldProblem::NegativeLength(count.into())))?;
    // Bound the count by the bytes left before trusting it (for the loop and the Vec).
    if header_count.saturating_mul(MIN_HEADER_BYTES) > body.len() {
        return Err(count_problem(FieldProblem::CountExceedsRemaining {
            count,
            remaining: body.len(),
        }));
    }
    let mut headers = Vec::new();
    if collect_headers {
        headers.reserve_exact(header_count);
    }
    for _ in 0..header_count {
        let (rest, key) = in_field(index, RecordField::HeaderKey, bytes(body))?;
        let (rest, value) = in_field(index, RecordField::HeaderValue, nullable_bytes(rest))?;
        body = rest;
        if collect_headers {
            headers.push((key, value));
        }
    }
    if !body.is_empty() {
        return Err(RecordError::RecordLengthMismatch {
            index,
            length,
            used: length.saturating_sub(body.len()),
        });
    }
    Ok((
        after,
        Record {
            attributes,
            timestamp_delta,
            offset_delta,
            key,
            value,
            headers,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Zigzag varint, for hand-built records.
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

    fn with_length(body: &[u8]) -> Vec<u8> {
        let mut out = zz(body.len() as i64);
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn parses_a_full_record() {
        let mut body = vec![0u8]; // attributes
        body.extend(zz(-5)); // timestampDelta
        body.extend(zz(3)); // offsetDelta
        body.extend(zz(1));
        body.push(b'k');
        body.extend(zz(-1)); // null value
        body.extend(zz(2)); // headers
        body.extend(zz(1));
        body.push(b'a');
        body.extend(zz(2));
        body.extend_from_slice(b"xy");
        body.extend(zz(0)); // empty key
        body.extend(zz(-1)); // null value
        let mut input = with_length(&body);
        input.push(0xaa);
        let (rest, record) = parse_record(&input, 0, true).unwrap();
        assert_eq!(rest, &[0xaa]);
        assert_eq!(
            record,
            Record {
                attributes: 0,
                timestamp_delta: -5,
                offset_delta: 3,
                key: Some(&b"k"[..]),
                value: None,
                headers: vec![(&b"a"[..], Some(&b"xy"[..])), (&b""[..], None)],
            }
        );
        let (_, record) = parse_record(&input, 0, false).unwrap();
        assert!(record.headers.is_empty());
    }

    #[test]
    fn negative_lengths_are_refused() {
        let body = [0u8, 0, 0, 3 /* keyLength -2 */];
        let input = with_length(&body);
        assert_eq!(
            parse_record(&input, 4, false).unwrap_err(),
            RecordError::MalformedRecord {
                index: 4,
                field: RecordField::Key,
                problem: FieldProblem::NegativeLength(-2),
            }
        );
        // A null header key.
        let body = [0u8, 0, 0, 1, 1, 2, 1, 0];
        assert_eq!(
            parse_record(&with_length(&body), 0, true).unwrap_err(),
            RecordError::MalformedRecord {
                index: 0,
                field: RecordField::HeaderKey,
                problem: FieldProblem::NegativeLength(-1),
            }
        );
        assert_eq!(
            parse_record(&zz(-1), 0, false).unwrap_err(),
            RecordError::MalformedRecord {
                index: 0,
                field: RecordField::Length,
                problem: FieldProblem::NegativeLength(-1),
            }
        );
    }

    #[test]
    fn header_count_is_bounded_before_allocating() {
        // 2^31 - 1 headers (zigzag of i32::MAX) in a 10-byte record.
        let mut body = vec![0u8, 0, 0, 1, 1];
        body.extend([0xfe, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(
            parse_record(&with_length(&body), 0, true).unwrap_err(),
            RecordError::MalformedRecord {
                index: 0,
                field: RecordField::HeaderCount,
                problem: FieldProblem::CountExceedsRemaining {
                    count: i32::MAX,
                    remaining: 0
                },
            }
        );
    }

    #[test]
    fn record_length_must_match_its_fields() {
        // Fields end one byte before the declared length.
        let body = [0u8, 0, 0, 1, 1, 0, 9];
        assert_eq!(
            parse_record(&with_length(&body), 2, false).unwrap_err(),
            RecordError::RecordLengthMismatch {
                index: 2,
                length: 7,
                used: 6
            }
        );
        // Fields run past the declared length (the value would take the next record's bytes).
        let mut input = with_length(&[0u8, 0, 0, 1, 4]);
        input.extend_from_slice(b"abcdefgh");
        assert_eq!(
            parse_record(&input, 0, false).unwrap_err(),
            RecordError::MalformedRecord {
                index: 0,
                field: RecordField::Value,
                problem: FieldProblem::Truncated,
            }
        );
        // The length runs past the batch.
        let input = [zz(40), vec![0u8; 10]].concat();
        assert_eq!(
            parse_record(&input, 1, false).unwrap_err(),
            RecordError::RecordOverrunsBatch {
                index: 1,
                length: 40,
                remaining: 10
            }
        );
    }
}
