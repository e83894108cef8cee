//! Zigzag-encoded varints of the record format (protobuf's `sint32`/`sint64`): 7 bits per
//! byte, least significant group first, high bit set on every byte but the last; the
//! unsigned result `n` stands for `(n >> 1) ^ -(n & 1)`.
//!
//! Stricter than Kafka's Java reader, which silently drops the excess bits of a 5th (10th)
//! byte: such an encoding is refused as malformed, as in [`crate::primitives::unsigned_varint`].
//! No encoder produces one.

use nom::error::{ErrorKind, ParseError};
use nom::IResult;

use super::error::FieldProblem;

/// What the record field parsers return: the remaining input and the value, or the problem.
pub(crate) type FResult<'a, T> = IResult<&'a [u8], T, FieldProblem>;

impl<I> ParseError<I> for FieldProblem {
    fn from_error_kind(_input: I, _kind: ErrorKind) -> Self {
        // The only nom parsers used on records are complete-input `take` and `be_i8`, which
        // fail only by running out of bytes.
        FieldProblem::Truncated
    }

    fn append(_input: I, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

/// An unsigned varint of at most `max_bytes` bytes whose last byte may not exceed
/// `last_byte_max` (so that the value fits in `7 * (max_bytes - 1)` bits plus the last one's).
fn unsigned(input: &[u8], max_bytes: usize, last_byte_max: u8) -> FResult<'_, u64> {
    let mut value: u64 = 0;
    for (index, &byte) in input.iter().enumerate().take(max_bytes) {
        if index + 1 == max_bytes && byte > last_byte_max {
            return Err(nom::Err::Error(FieldProblem::MalformedVarint));
        }
        // index < 10, so the shift is at most 63.
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Ok((input.get(index + 1..).unwrap_or_default(), value));
        }
    }
    if input.len() < max_bytes {
        Err(nom::Err::Error(FieldProblem::Truncated))
    } else {
        Err(nom::Err::Error(FieldProblem::MalformedVarint))
    }
}

/// A zigzag varint (Kafka's `varint`, a signed 32-bit value in at most 5 bytes).
pub(crate) fn varint(input: &[u8]) -> FResult<'_, i32> {
    let (rest, raw) = unsigned(input, 5, 0x0f)?;
    let raw = u32::try_from(raw).map_err(|_| nom::Err::Error(FieldProblem::MalformedVarint))?;
    // (raw >> 1) < 2^31 and (raw & 1) <= 1: both casts are exact.
    Ok((rest, ((raw >> 1) as i32) ^ -((raw & 1) as i32)))
}

/// A zigzag varlong (Kafka's `varlong`, a signed 64-bit value in at most 10 bytes).
pub(crate) fn varlong(input: &[u8]) -> FResult<'_, i64> {
    let (rest, raw) = unsigned(input, 10, 0x01)?;
    // (raw >> 1) < 2^63 and (raw & 1) <= 1: both casts are exact.
    Ok((rest, ((raw >> 1) as i64) ^ -((raw & 1) as i64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference encoder (zigzag then LEB128), for round trips.
    fn encode(value: i64) -> Vec<u8> {
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

    #[test]
    fn zigzag_values() {
        assert_eq!(varint(&[0x00]), Ok((&[][..], 0)));
        assert_eq!(varint(&[0x01]), Ok((&[][..], -1)));
        assert_eq!(varint(&[0x02, 9]), Ok((&[9u8][..], 1)));
        assert_eq!(varint(&[0x03]), Ok((&[][..], -2)));
        assert_eq!(
            varint(&[0xfe, 0xff, 0xff, 0xff, 0x0f]),
            Ok((&[][..], i32::MAX))
        );
        assert_eq!(
            varint(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
            Ok((&[][..], i32::MIN))
        );
        assert_eq!(varlong(&encode(i64::MAX)), Ok((&[][..], i64::MAX)));
        assert_eq!(varlong(&encode(i64::MIN)), Ok((&[][..], i64::MIN)));
    }

    #[test]
    fn round_trips() {
        for value in [
            0i64,
            1,
            -1,
            63,
            -64,
            64,
            -65,
            300,
            -300,
            1 << 40,
            -(1 << 40),
        ] {
            assert_eq!(varlong(&encode(value)), Ok((&[][..], value)));
            if let Ok(small) = i32::try_from(value) {
                assert_eq!(varint(&encode(value)), Ok((&[][..], small)));
            }
        }
    }

    #[test]
    fn overlong_or_overflowing_is_malformed() {
        let six = [0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(
            varint(&six),
            Err(nom::Err::Error(FieldProblem::MalformedVarint))
        );
        // A 5th byte with bits beyond the 32nd.
        assert_eq!(
            varint(&[0x80, 0x80, 0x80, 0x80, 0x10]),
            Err(nom::Err::Error(FieldProblem::MalformedVarint))
        );
        assert_eq!(
            varlong(&[0xff; 11]),
            Err(nom::Err::Error(FieldProblem::MalformedVarint))
        );
        let mut ten = [0x80u8; 10];
        ten[9] = 0x02;
        assert_eq!(
            varlong(&ten),
            Err(nom::Err::Error(FieldProblem::MalformedVarint))
        );
    }

    #[test]
    fn truncated() {
        assert_eq!(varint(&[]), Err(nom::Err::Error(FieldProblem::Truncated)));
        assert_eq!(
            varint(&[0x80, 0x80]),
            Err(nom::Err::Error(FieldProblem::Truncated))
        );
        assert_eq!(
            varlong(&[0x80; 9]),
            Err(nom::Err::Error(FieldProblem::Truncated))
        );
    }
}
