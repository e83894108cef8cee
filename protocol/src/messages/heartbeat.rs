//! HeartbeatRequest (key 12), versions 0-4. Flexible from v4. No tagged fields are declared.
//!
//! ```text
//! group_id STRING
//! generation_id INT32
//! member_id STRING
//! group_instance_id NULLABLE_STRING      v3+ (KIP-345 static membership; null before)
//! TAG_BUFFER                             v4+
//! ```

use kafka_protocol::messages::{GroupId, HeartbeatRequest};

use super::DecodeBody;
use crate::primitives::{int32, nullable_string, string, tag_buffer, when, PResult};

const FLEXIBLE_FROM: i16 = 4;

impl DecodeBody for HeartbeatRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = HeartbeatRequest::default();
        let (input, group_id) = string(flexible)(input)?;
        let (input, generation_id) = int32(input)?;
        let (input, member_id) = string(flexible)(input)?;
        let (input, group_instance_id) =
            when(version >= 3, None, input, nullable_string(flexible))?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        request.group_id = GroupId(group_id);
        request.generation_id = generation_id;
        request.member_id = member_id;
        request.group_instance_id = group_instance_id;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
