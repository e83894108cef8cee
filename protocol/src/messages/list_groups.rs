//! ListGroupsRequest (key 16), versions 0-5. Flexible from v3. No tagged fields are
//! declared.
//!
//! ```text
//! states_filter [STRING]                 v4+ (KIP-518; empty = all states)
//! types_filter [STRING]                  v5+ (KIP-848; empty = all types)
//! TAG_BUFFER                             v3+
//! ```
//!
//! v0-2 have an empty body.

use kafka_protocol::messages::ListGroupsRequest;

use super::DecodeBody;
use crate::primitives::{array, string, tag_buffer, when, PResult};

const FLEXIBLE_FROM: i16 = 3;

impl DecodeBody for ListGroupsRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = ListGroupsRequest::default();
        // Both filters exist only in flexible versions: compact, an empty string is one byte.
        let (input, states_filter) = when(version >= 4, Vec::new(), input, |i| {
            array(true, 1, string(true))(i)
        })?;
        let (input, types_filter) = when(version >= 5, Vec::new(), input, |i| {
            array(true, 1, string(true))(i)
        })?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        request.states_filter = states_filter;
        request.types_filter = types_filter;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
