//! nom parsers for the Kafka protocol's primitive types
//! (<https://kafka.apache.org/protocol#protocol_types>), and the combinators that message
//! decoders are built from.
//!
//! Each parser takes the remaining input and returns the rest plus the value. "Flexible"
//! versions (KIP-482) use compact (varint) lengths and carry tagged fields; the same parser
//! serves both encodings through its `flexible` argument so that message decoders read like
//! the JSON schemas.
//!
//! The invariant that makes these safe against hostile input: a length or count is checked
//! against the bytes that remain *before* anything is allocated for it.

use std::collections::BTreeMap;

use bytes::Bytes;
use kafka_protocol::protocol::StrBytes;
use nom::bytes::complete::take;
use nom::number::complete::{be_i16, be_i32, be_i64, be_i8, be_u8};
use nom::IResult;
use uuid::Uuid;

use crate::error::WireError;

/// What every parser returns: the remaining input and the value, or a [`WireError`].
pub type PResult<'a, T> = IResult<&'a [u8], T, WireError>;

/// Fails a parse with `err` (as a nom `Error`, so alternatives could still be tried).
pub fn fail<T>(err: WireError) -> Result<T, nom::Err<WireError>> {
    Err(nom::Err::Error(err))
}

pub fn int8(input: &[u8]) -> PResult<'_, i8> {
    be_i8(input)
}

pub fn int16(input: &[u8]) -> PResult<'_, i16> {
    be_i16(input)
}

pub fn int32(input: &[u8]) -> PResult<'_, i32> {
    be_i32(input)
}

pub fn int64(input: &[u8]) -> PResult<'_, i64> {
    be_i64(input)
}

/// Kafka's BOOLEAN: one byte, any non-zero value is true (as the Java client reads it).
pub fn boolean(input: &[u8]) -> PResult<'_, bool> {
    let (input, byte) = be_u8(input)?;
    Ok((input, byte != 0))
}

pub fn uuid(input: &[u8]) -> PResult<'_, Uuid> {
    let (input, raw) = take(16usize)(input)?;
    let bytes: [u8; 16] = raw
        .try_into()
        .map_err(|_| nom::Err::Error(WireError::Truncated))?;
    Ok((input, Uuid::from_bytes(bytes)))
}

/// UNSIGNED_VARINT: 7 bits per byte, little-endian groups, at most 5 bytes for 32 bits.
pub fn unsigned_varint(input: &[u8]) -> PResult<'_, u32> {
    let mut value: u32 = 0;
    for (index, &byte) in input.iter().enumerate().take(5) {
        let shift = 7 * index as u32;
        let bits = u32::from(byte & 0x7f);
        // The fifth byte may only contribute the top 4 bits of a u32.
        if index == 4 && byte > 0x0f {
            return fail(WireError::MalformedVarint);
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Ok((input.get(index + 1..).unwrap_or_default(), value));
        }
    }
    if input.len() < 5 {
        fail(WireError::Truncated)
    } else {
        fail(WireError::MalformedVarint)
    }
}

/// The length of a STRING/NULLABLE_STRING (INT16, -1 = null) or its compact form
/// (UNSIGNED_VARINT of length + 1, 0 = null). `None` means null.
fn string_length(flexible: bool) -> impl Fn(&[u8]) -> PResult<'_, Option<usize>> {
    move |input| {
        if flexible {
            let (input, n) = unsigned_varint(input)?;
            Ok((input, n.checked_sub(1).map(|len| len as usize)))
        } else {
            let (input, len) = int16(input)?;
            match len {
                -1 => Ok((input, None)),
                len if len < -1 => fail(WireError::NegativeLength(len.into())),
                len => Ok((input, Some(len as usize))),
            }
        }
    }
}

/// NULLABLE_STRING / COMPACT_NULLABLE_STRING.
pub fn nullable_string(flexible: bool) -> impl Fn(&[u8]) -> PResult<'_, Option<StrBytes>> {
    move |input| {
        let (input, len) = string_length(flexible)(input)?;
        let Some(len) = len else {
            return Ok((input, None));
        };
        let (input, raw) = take(len)(input)?;
        let text = std::str::from_utf8(raw).map_err(|_| nom::Err::Error(WireError::InvalidUtf8))?;
        Ok((input, Some(StrBytes::from_string(text.to_owned()))))
    }
}

/// STRING / COMPACT_STRING: like [`nullable_string`] but null is an error.
pub fn string(flexible: bool) -> impl Fn(&[u8]) -> PResult<'_, StrBytes> {
    move |input| {
        let (input, value) = nullable_string(flexible)(input)?;
        match value {
            Some(value) => Ok((input, value)),
            None => fail(WireError::UnexpectedNull),
        }
    }
}

/// NULLABLE_BYTES / COMPACT_NULLABLE_BYTES (and RECORDS, which is encoded the same way):
/// an INT32 length (-1 = null) or an UNSIGNED_VARINT of length + 1 (0 = null).
///
/// The bytes are copied out of the frame. (Decoding into slices of the frame itself, for
/// Produce's record batches, needs the frame as `Bytes` here; that is one change in this
/// function and its callers' signature when Produce throughput asks for it.)
pub fn nullable_bytes(flexible: bool) -> impl Fn(&[u8]) -> PResult<'_, Option<Bytes>> {
    move |input| {
        let (input, len) = if flexible {
            let (input, n) = unsigned_varint(input)?;
            (input, n.checked_sub(1).map(|len| len as usize))
        } else {
            let (input, len) = int32(input)?;
            match len {
                -1 => (input, None),
                len if len < -1 => return fail(WireError::NegativeLength(len.into())),
                len => (input, Some(len as usize)),
            }
        };
        let Some(len) = len else {
            return Ok((input, None));
        };
        let (input, raw) = take(len)(input)?;
        Ok((input, Some(Bytes::copy_from_slice(raw))))
    }
}

/// BYTES / COMPACT_BYTES: like [`nullable_bytes`] but null is an error.
pub fn bytes(flexible: bool) -> impl Fn(&[u8]) -> PResult<'_, Bytes> {
    move |input| {
        let (input, value) = nullable_bytes(flexible)(input)?;
        match value {
            Some(value) => Ok((input, value)),
            None => fail(WireError::UnexpectedNull),
        }
    }
}

/// The element count of an ARRAY (INT32, -1 = null) or COMPACT_ARRAY (UNSIGNED_VARINT of
/// count + 1, 0 = null), checked against the remaining input: every element occupies at
/// least `min_element_bytes`, so a count that cannot fit is refused here, before any
/// allocation. This is what defuses a header claiming 2^31 elements in an 8-byte body.
fn array_length(
    flexible: bool,
    min_element_bytes: usize,
) -> impl Fn(&[u8]) -> PResult<'_, Option<usize>> {
    move |input| {
        let (rest, count) = if flexible {
            let (rest, n) = unsigned_varint(input)?;
            (rest, n.checked_sub(1).map(u64::from))
        } else {
            let (rest, n) = int32(input)?;
            match n {
                -1 => (rest, None),
                n if n < -1 => return fail(WireError::NegativeLength(n.into())),
                n => (rest, Some(n as u64)),
            }
        };
        let Some(count) = count else {
            return Ok((rest, None));
        };
        ensure_fits(count, min_element_bytes, rest)?;
        Ok((rest, Some(count as usize)))
    }
}

/// Refuses a count of elements that cannot fit in `remaining`, given that each element
/// occupies at least `min_element_bytes`.
fn ensure_fits(
    count: u64,
    min_element_bytes: usize,
    remaining: &[u8],
) -> Result<(), nom::Err<WireError>> {
    let needed_bytes = count.saturating_mul(min_element_bytes.max(1) as u64);
    if needed_bytes > remaining.len() as u64 {
        return fail(WireError::CountExceedsRemaining {
            count,
            needed_bytes,
            remaining_bytes: remaining.len(),
        });
    }
    Ok(())
}

/// ARRAY / COMPACT_ARRAY that may be null. `min_element_bytes` is the smallest encoding of
/// one element (used to bound the count, see [`array_length`]).
pub fn nullable_array<'a, T>(
    flexible: bool,
    min_element_bytes: usize,
    mut element: impl FnMut(&'a [u8]) -> PResult<'a, T>,
) -> impl FnMut(&'a [u8]) -> PResult<'a, Option<Vec<T>>> {
    move |input| {
        let (mut input, count) = array_length(flexible, min_element_bytes)(input)?;
        let Some(count) = count else {
            return Ok((input, None));
        };
        // `count` is already bounded by the remaining bytes.
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            let (rest, item) = element(input)?;
            input = rest;
            items.push(item);
        }
        Ok((input, Some(items)))
    }
}

/// ARRAY / COMPACT_ARRAY where null is an error.
pub fn array<'a, T>(
    flexible: bool,
    min_element_bytes: usize,
    element: impl FnMut(&'a [u8]) -> PResult<'a, T>,
) -> impl FnMut(&'a [u8]) -> PResult<'a, Vec<T>> {
    let mut inner = nullable_array(flexible, min_element_bytes, element);
    move |input| {
        let (input, items) = inner(input)?;
        match items {
            Some(items) => Ok((input, items)),
            None => fail(WireError::UnexpectedNull),
        }
    }
}

/// Tagged fields of a flexible struct (KIP-482): a count, then (tag, size, bytes) each.
///
/// `known` is offered every field first and returns `Ok(true)` if it consumed it (a field the
/// schema declares as tagged); everything else is kept verbatim, so that re-encoding
/// preserves fields we do not understand.
pub fn tagged_fields_with<'a>(
    input: &'a [u8],
    mut known: impl FnMut(u32, &'a [u8]) -> Result<bool, WireError>,
) -> PResult<'a, BTreeMap<i32, Bytes>> {
    let (mut input, count) = unsigned_varint(input)?;
    // Each field needs at least a 1-byte tag and a 1-byte size.
    ensure_fits(u64::from(count), 2, input)?;
    let mut unknown = BTreeMap::new();
    for _ in 0..count {
        let (rest, tag) = unsigned_varint(input)?;
        let (rest, size) = unsigned_varint(rest)?;
        let (rest, data) = take(size as usize)(rest)?;
        input = rest;
        if !known(tag, data).map_err(nom::Err::Error)? {
            // Tags are unsigned on the wire; the crate keys them by i32.
            let key =
                i32::try_from(tag).map_err(|_| nom::Err::Error(WireError::MalformedVarint))?;
            unknown.insert(key, Bytes::copy_from_slice(data));
        }
    }
    Ok((input, unknown))
}

/// `parser` where the version has the field, else `default` without consuming input.
pub fn when<'a, T>(
    present: bool,
    default: T,
    input: &'a [u8],
    parser: impl FnOnce(&'a [u8]) -> PResult<'a, T>,
) -> PResult<'a, T> {
    if present {
        parser(input)
    } else {
        Ok((input, default))
    }
}

/// A struct's TAG_BUFFER in flexible versions; nothing (no unknown fields) before.
pub fn tag_buffer(input: &[u8], flexible: bool) -> PResult<'_, BTreeMap<i32, Bytes>> {
    if flexible {
        tagged_fields(input)
    } else {
        Ok((input, BTreeMap::new()))
    }
}

/// Runs `parser` over the bytes of one known tagged field (bytes it leaves over are
/// ignored, as Kafka does), for use inside [`tagged_fields_with`].
pub fn tagged_value<'a, T>(
    data: &'a [u8],
    parser: impl FnOnce(&'a [u8]) -> PResult<'a, T>,
) -> Result<T, WireError> {
    parser(data)
        .map(|(_, value)| value)
        .map_err(crate::error::flatten)
}

/// Tagged fields of a struct that declares none: all are kept as unknown.
pub fn tagged_fields(input: &[u8]) -> PResult<'_, BTreeMap<i32, Bytes>> {
    tagged_fields_with(input, |_, _| Ok(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_values() {
        assert_eq!(unsigned_varint(&[0x00]), Ok((&[][..], 0)));
        assert_eq!(unsigned_varint(&[0x96, 0x01, 7]), Ok((&[7u8][..], 150)));
        assert_eq!(
            unsigned_varint(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
            Ok((&[][..], u32::MAX))
        );
    }

    #[test]
    fn varint_too_long_or_overflowing_is_malformed() {
        let err = unsigned_varint(&[0xff, 0xff, 0xff, 0xff, 0x1f]).unwrap_err();
        assert_eq!(crate::error::flatten(err), WireError::MalformedVarint);
        let err = unsigned_varint(&[0x80, 0x80]).unwrap_err();
        assert_eq!(crate::error::flatten(err), WireError::Truncated);
    }

    #[test]
    fn bytes_lengths_and_nulls() {
        assert_eq!(
            nullable_bytes(false)(&[0xff, 0xff, 0xff, 0xff]),
            Ok((&[][..], None))
        );
        assert_eq!(nullable_bytes(true)(&[0x00]), Ok((&[][..], None)));
        assert_eq!(
            bytes(true)(&[0x03, 7, 8, 9]),
            Ok((&[9u8][..], Bytes::from_static(&[7, 8])))
        );
        let err = bytes(false)(&[0, 0, 0, 9, 1]).unwrap_err();
        assert_eq!(crate::error::flatten(err), WireError::Truncated);
        let err = nullable_bytes(false)(&[0xff, 0xff, 0xff, 0xfe]).unwrap_err();
        assert_eq!(crate::error::flatten(err), WireError::NegativeLength(-2));
    }

    #[test]
    fn string_negative_length_is_refused() {
        let err = nullable_string(false)(&[0xff, 0xfe, b'a']).unwrap_err();
        assert_eq!(crate::error::flatten(err), WireError::NegativeLength(-2));
    }

    #[test]
    fn array_count_larger_than_input_is_refused_without_allocating() {
        // 2^31 - 1 elements claimed, 4 bytes present.
        let input = [0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        let err = array(false, 2, int16)(&input).unwrap_err();
        assert!(matches!(
            crate::error::flatten(err),
            WireError::CountExceedsRemaining {
                count: 2_147_483_647,
                ..
            }
        ));
    }

    #[test]
    fn tagged_field_count_larger_than_input_is_refused() {
        let err = tagged_fields(&[0xff, 0xff, 0xff, 0xff, 0x07, 0x00]).unwrap_err();
        assert!(matches!(
            crate::error::flatten(err),
            WireError::CountExceedsRemaining { .. }
        ));
    }

    #[test]
    fn truncated_tagged_field_is_refused() {
        // One field, tag 0, claims 10 bytes, 2 present.
        let err = tagged_fields(&[1, 0, 10, 1, 2]).unwrap_err();
        assert_eq!(crate::error::flatten(err), WireError::Truncated);
    }
}
