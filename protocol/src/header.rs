//! Request header parsing (v0, v1, v2) with nom.
//!
//! ```text
//! v0: api_key INT16, api_version INT16, correlation_id INT32
//! v1: v0 + client_id NULLABLE_STRING (always the non-compact form, even in v2)
//! v2: v1 + TAG_BUFFER
//! ```
//! The header version follows from (API key, API version): flexible API versions use v2.

use kafka_protocol::messages::RequestHeader;

use crate::primitives::{int16, int32, nullable_string, tagged_fields, PResult};

/// Bytes of the fixed part every header version starts with.
pub const FIXED_HEADER_BYTES: usize = 8;

/// The fixed part of a request header, readable before the API is known to be supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHeader {
    pub api_key: i16,
    pub api_version: i16,
    pub correlation_id: i32,
}

pub fn fixed_header(input: &[u8]) -> PResult<'_, FixedHeader> {
    let (input, api_key) = int16(input)?;
    let (input, api_version) = int16(input)?;
    let (input, correlation_id) = int32(input)?;
    Ok((
        input,
        FixedHeader {
            api_key,
            api_version,
            correlation_id,
        },
    ))
}

/// Parses a whole request header of the given header version (0, 1 or 2).
pub fn request_header(input: &[u8], header_version: i16) -> PResult<'_, RequestHeader> {
    let (input, fixed) = fixed_header(input)?;
    let mut header = RequestHeader::default()
        .with_request_api_key(fixed.api_key)
        .with_request_api_version(fixed.api_version)
        .with_correlation_id(fixed.correlation_id)
        .with_client_id(None);
    if header_version < 1 {
        return Ok((input, header));
    }
    let (input, client_id) = nullable_string(false)(input)?;
    header.client_id = client_id;
    if header_version < 2 {
        return Ok((input, header));
    }
    let (input, unknown) = tagged_fields(input)?;
    header.unknown_tagged_fields = unknown;
    Ok((input, header))
}
