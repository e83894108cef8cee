//! DescribeGroupsRequest (key 15), versions 0-6. Flexible from v5. No tagged fields are
//! declared.
//!
//! ```text
//! groups [STRING]
//! include_authorized_operations BOOLEAN  v3+ (false before)
//! TAG_BUFFER                             v5+
//! ```

use kafka_protocol::messages::{DescribeGroupsRequest, GroupId};

use super::DecodeBody;
use crate::primitives::{array, boolean, string, tag_buffer, when, PResult};

const FLEXIBLE_FROM: i16 = 5;

impl DecodeBody for DescribeGroupsRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = DescribeGroupsRequest::default();
        // An empty group id: a 2-byte length, or a 1-byte compact one.
        let min_group_bytes = if flexible { 1 } else { 2 };
        let (input, groups) = array(flexible, min_group_bytes, |i| {
            let (i, group) = string(flexible)(i)?;
            Ok((i, GroupId(group)))
        })(input)?;
        let (input, include_authorized_operations) = when(version >= 3, false, input, boolean)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        request.groups = groups;
        request.include_authorized_operations = include_authorized_operations;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
