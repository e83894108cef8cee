//! ApiVersionsRequest (key 18), versions 0-4. Flexible from v3.
//!
//! ```text
//! v0-2: (empty)
//! v3+:  client_software_name COMPACT_STRING, client_software_version COMPACT_STRING, TAG_BUFFER
//! ```

use kafka_protocol::messages::ApiVersionsRequest;

use super::DecodeBody;
use crate::primitives::{string, tagged_fields, PResult};

impl DecodeBody for ApiVersionsRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let mut request = ApiVersionsRequest::default();
        if version < 3 {
            return Ok((input, request));
        }
        let (input, name) = string(true)(input)?;
        let (input, software_version) = string(true)(input)?;
        let (input, unknown) = tagged_fields(input)?;
        request.client_software_name = name;
        request.client_software_version = software_version;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
