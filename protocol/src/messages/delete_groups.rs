//! DeleteGroupsRequest (key 42), versions 0-2. Flexible from v2. No tagged fields are
//! declared.
//!
//! ```text
//! groups_names [STRING]
//! TAG_BUFFER                             v2+
//! ```

use kafka_protocol::messages::{DeleteGroupsRequest, GroupId};

use super::DecodeBody;
use crate::primitives::{array, string, tag_buffer, PResult};

const FLEXIBLE_FROM: i16 = 2;

impl DecodeBody for DeleteGroupsRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = DeleteGroupsRequest::default();
        // An empty group id: a 2-byte length, or a 1-byte compact one.
        let min_group_bytes = if flexible { 1 } else { 2 };
        let (input, groups_names) = array(flexible, min_group_bytes, |i| {
            let (i, group) = string(flexible)(i)?;
            Ok((i, GroupId(group)))
        })(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        request.groups_names = groups_names;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
