//! The 61-byte header of a v2 record batch: a nom view over the fixed fields, and the
//! meaning of the attribute bits.

use nom::number::complete::{be_i16, be_i32, be_i64, be_i8, be_u32};
use nom::IResult;

use super::error::RecordError;
use super::{offsets, BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES, MAGIC_V2, MIN_BATCH_LENGTH};

/// Attribute bits 0-2: the compression codec.
const COMPRESSION_MASK: i16 = 0x07;
/// Attribute bit 3: timestamps are the broker's append time.
pub(crate) const LOG_APPEND_TIME_FLAG: i16 = 0x08;
/// Attribute bit 4.
const TRANSACTIONAL_FLAG: i16 = 0x10;
/// Attribute bit 5.
const CONTROL_FLAG: i16 = 0x20;
/// Attribute bit 6 (KIP-534): `baseTimestamp` holds the delete horizon of a compacted batch.
const DELETE_HORIZON_FLAG: i16 = 0x40;

/// How the records of a batch are compressed (attribute bits 0-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl Compression {
    /// The codec in the low 3 bits of a batch's attributes; 5, 6 and 7 are refused.
    pub fn from_attributes(attributes: i16) -> Result<Self, RecordError> {
        match attributes & COMPRESSION_MASK {
            0 => Ok(Compression::None),
            1 => Ok(Compression::Gzip),
            2 => Ok(Compression::Snappy),
            3 => Ok(Compression::Lz4),
            4 => Ok(Compression::Zstd),
            // The mask keeps the value in 5..=7.
            codec => Err(RecordError::UnknownCompression {
                codec: codec.unsigned_abs() as u8,
            }),
        }
    }

    /// The codec's id as stored in the attributes.
    pub fn id(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }
}

/// What the batch's timestamps mean (attribute bit 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimestampType {
    /// Set by the producer per record (`baseTimestamp + timestampDelta`).
    CreateTime,
    /// Set by the broker when appending: every record's timestamp is `maxTimestamp`.
    LogAppendTime,
}

/// The fixed fields of a v2 record batch, as stored (see the layout in [`super`]).
///
/// Only [`parse_batch_header`] checks anything (that `batch_length` can hold the header and
/// the codec is known); everything else is [`super::validate_batch`]'s job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchHeader {
    pub base_offset: i64,
    /// Bytes that follow this field (the batch is `batch_length + 12` bytes long).
    pub batch_length: i32,
    pub partition_leader_epoch: i32,
    pub magic: i8,
    /// CRC-32C (Castagnoli) of the bytes from `attributes` to the end of the batch.
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    /// The first record's timestamp, or the delete horizon if
    /// [`BatchHeader::has_delete_horizon`].
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub records_count: i32,
}

impl BatchHeader {
    /// The size of the whole batch: `batch_length` plus the 12 bytes before it. A negative
    /// `batch_length` (impossible in a parsed header) counts as 0.
    pub fn total_bytes(&self) -> usize {
        usize::try_from(self.batch_length)
            .unwrap_or(0)
            .saturating_add(LOG_OVERHEAD_BYTES)
    }

    /// The offset of the batch's last record: `base_offset + last_offset_delta` (saturating:
    /// a hostile `base_offset` near `i64::MAX` must not overflow).
    pub fn last_offset(&self) -> i64 {
        self.base_offset
            .saturating_add(i64::from(self.last_offset_delta))
    }

    /// The compression codec. [`parse_batch_header`] refuses unknown codecs, so a parsed
    /// header always has one; if `attributes` is later set to an unknown codec by hand, this
    /// reports [`Compression::None`] (use [`Compression::from_attributes`] to tell).
    pub fn compression(&self) -> Compression {
        Compression::from_attributes(self.attributes).unwrap_or(Compression::None)
    }

    pub fn timestamp_type(&self) -> TimestampType {
        if self.attributes & LOG_APPEND_TIME_FLAG != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        }
    }

    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_FLAG != 0
    }

    /// Control batches hold transaction markers, not user records.
    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_FLAG != 0
    }

    /// Set by compaction (KIP-534): `base_timestamp` is then the delete horizon.
    pub fn has_delete_horizon(&self) -> bool {
        self.attributes & DELETE_HORIZON_FLAG != 0
    }
}

/// Parses the 61-byte header at the start of `input` (which may hold more: the records, or
/// further batches). Checks only that the input holds a whole header, that `batchLength` is
/// at least 49 (the header bytes it counts) and that the codec is known; magic, lengths
/// against the input, CRC and counts are left to [`super::validate_batch`].
pub fn parse_batch_header(input: &[u8]) -> Result<BatchHeader, RecordError> {
    let header = parse_header_fields(input)?;
    Compression::from_attributes(header.attributes)?;
    Ok(header)
}

/// [`parse_batch_header`] without the codec check, so that [`super::validate_batch`] can
/// report a CRC mismatch (the likelier cause) before an unknown codec.
pub(crate) fn parse_header_fields(input: &[u8]) -> Result<BatchHeader, RecordError> {
    let truncated = || RecordError::Truncated {
        offset: 0,
        needed: BATCH_HEADER_BYTES,
        available: input.len(),
    };
    let fixed = input.get(..BATCH_HEADER_BYTES).ok_or_else(truncated)?;
    // `fixed` is exactly 61 bytes, so the fields below cannot run short.
    let (_, header) = header_fields(fixed).map_err(|_| truncated())?;
    if header.batch_length < MIN_BATCH_LENGTH {
        return Err(RecordError::BatchLengthTooSmall {
            batch_length: header.batch_length,
        });
    }
    Ok(header)
}

/// The header of a slice that must be exactly one v2 batch: magic 2 (checked first, since
/// the rest of the layout depends on it), a whole header, and a length equal to the batch's
/// `total_bytes`. No codec or CRC check.
pub(crate) fn parse_exact_batch(batch: &[u8]) -> Result<BatchHeader, RecordError> {
    check_magic(batch)?;
    let header = parse_header_fields(batch)?;
    let declared = header.total_bytes();
    if batch.len() < declared {
        return Err(RecordError::Truncated {
            offset: 0,
            needed: declared,
            available: batch.len(),
        });
    }
    if batch.len() > declared {
        return Err(RecordError::LengthMismatch {
            declared,
            actual: batch.len(),
        });
    }
    Ok(header)
}

/// Refuses a batch whose magic byte is present and is not 2. Shorter input passes (the
/// caller reports it as truncated).
pub(crate) fn check_magic(batch: &[u8]) -> Result<(), RecordError> {
    match batch
        .get(offsets::MAGIC)
        .map(|&byte| i8::from_be_bytes([byte]))
    {
        Some(magic) if magic != MAGIC_V2 => Err(RecordError::UnsupportedMagic { magic }),
        _ => Ok(()),
    }
}

fn header_fields(input: &[u8]) -> IResult<&[u8], BatchHeader> {
    let (input, base_offset) = be_i64(input)?;
    let (input, batch_length) = be_i32(input)?;
    let (input, partition_leader_epoch) = be_i32(input)?;
    let (input, magic) = be_i8(input)?;
    let (input, crc) = be_u32(input)?;
    let (input, attributes) = be_i16(input)?;
    let (input, last_offset_delta) = be_i32(input)?;
    let (input, base_timestamp) = be_i64(input)?;
    let (input, max_timestamp) = be_i64(input)?;
    let (input, producer_id) = be_i64(input)?;
    let (input, producer_epoch) = be_i16(input)?;
    let (input, base_sequence) = be_i32(input)?;
    let (input, records_count) = be_i32(input)?;
    Ok((
        input,
        BatchHeader {
            base_offset,
            batch_length,
            partition_leader_epoch,
            magic,
            crc,
            attributes,
            last_offset_delta,
            base_timestamp,
            max_timestamp,
            producer_id,
            producer_epoch,
            base_sequence,
            records_count,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&1234i64.to_be_bytes());
        bytes.extend_from_slice(&49i32.to_be_bytes());
        bytes.extend_from_slice(&7i32.to_be_bytes());
        bytes.push(2);
        bytes.extend_from_slice(&0xdead_beefu32.to_be_bytes());
        bytes.extend_from_slice(&(0x10i16 | 0x08 | 0x02).to_be_bytes());
        bytes.extend_from_slice(&4i32.to_be_bytes());
        bytes.extend_from_slice(&100i64.to_be_bytes());
        bytes.extend_from_slice(&200i64.to_be_bytes());
        bytes.extend_from_slice(&99i64.to_be_bytes());
        bytes.extend_from_slice(&3i16.to_be_bytes());
        bytes.extend_from_slice(&17i32.to_be_bytes());
        bytes.extend_from_slice(&5i32.to_be_bytes());
        assert_eq!(bytes.len(), BATCH_HEADER_BYTES);
        bytes
    }

    #[test]
    fn parses_every_field() {
        let header = parse_batch_header(&sample()).unwrap();
        assert_eq!(
            header,
            BatchHeader {
                base_offset: 1234,
                batch_length: 49,
                partition_leader_epoch: 7,
                magic: 2,
                crc: 0xdead_beef,
                attributes: 0x1a,
                last_offset_delta: 4,
                base_timestamp: 100,
                max_timestamp: 200,
                producer_id: 99,
                producer_epoch: 3,
                base_sequence: 17,
                records_count: 5,
            }
        );
        assert_eq!(header.total_bytes(), 61);
        assert_eq!(header.last_offset(), 1238);
        assert_eq!(header.compression(), Compression::Snappy);
        assert_eq!(header.timestamp_type(), TimestampType::LogAppendTime);
        assert!(header.is_transactional());
        assert!(!header.is_control());
        assert!(!header.has_delete_horizon());
    }

    #[test]
    fn field_offsets_match_the_layout() {
        let bytes = sample();
        assert_eq!(bytes[offsets::MAGIC], 2);
        assert_eq!(
            bytes[offsets::RECORDS_COUNT..offsets::RECORDS],
            5i32.to_be_bytes()
        );
        assert_eq!(
            bytes[offsets::MAX_TIMESTAMP..offsets::PRODUCER_ID],
            200i64.to_be_bytes()
        );
    }

    #[test]
    fn short_input_is_truncated() {
        let bytes = sample();
        for len in 0..BATCH_HEADER_BYTES {
            assert_eq!(
                parse_batch_header(&bytes[..len]),
                Err(RecordError::Truncated {
                    offset: 0,
                    needed: 61,
                    available: len
                })
            );
        }
    }

    #[test]
    fn small_or_negative_batch_length_is_refused() {
        for batch_length in [i32::MIN, -1, 0, 48] {
            let mut bytes = sample();
            bytes[8..12].copy_from_slice(&batch_length.to_be_bytes());
            assert_eq!(
                parse_batch_header(&bytes),
                Err(RecordError::BatchLengthTooSmall { batch_length })
            );
        }
    }

    #[test]
    fn unknown_codec_is_refused() {
        for codec in 5..=7u8 {
            let mut bytes = sample();
            bytes[22] = codec;
            assert_eq!(
                parse_batch_header(&bytes),
                Err(RecordError::UnknownCompression { codec })
            );
        }
    }

    #[test]
    fn last_offset_saturates() {
        let mut header = parse_batch_header(&sample()).unwrap();
        header.base_offset = i64::MAX;
        assert_eq!(header.last_offset(), i64::MAX);
        header.batch_length = -5;
        assert_eq!(header.total_bytes(), 12);
    }
}
