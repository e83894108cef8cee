//! SyncGroupRequest (key 14), versions 0-5. Flexible from v4. No tagged fields are declared
//! at any level.
//!
//! ```text
//! group_id STRING
//! generation_id INT32
//! member_id STRING
//! group_instance_id NULLABLE_STRING      v3+ (null before)
//! protocol_type NULLABLE_STRING          v5+ (null before)
//! protocol_name NULLABLE_STRING          v5+ (null before)
//! assignments [SyncGroupRequestAssignment]
//!   member_id STRING
//!   assignment BYTES
//!   TAG_BUFFER                           v4+
//! TAG_BUFFER                             v4+
//! ```

use kafka_protocol::messages::sync_group_request::{SyncGroupRequest, SyncGroupRequestAssignment};
use kafka_protocol::messages::GroupId;

use super::DecodeBody;
use crate::primitives::{array, bytes, int32, nullable_string, string, tag_buffer, when, PResult};

const FLEXIBLE_FROM: i16 = 4;

/// Smallest encoding of one assignment: empty member id + empty assignment (+ tag buffer).
fn min_assignment_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        1 + 1 + 1
    } else {
        2 + 4
    }
}

impl DecodeBody for SyncGroupRequestAssignment {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut assignment = SyncGroupRequestAssignment::default();
        let (input, member_id) = string(flexible)(input)?;
        let (input, data) = bytes(flexible)(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        assignment.member_id = member_id;
        assignment.assignment = data;
        assignment.unknown_tagged_fields = unknown;
        Ok((input, assignment))
    }
}

impl DecodeBody for SyncGroupRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = SyncGroupRequest::default();
        let (input, group_id) = string(flexible)(input)?;
        let (input, generation_id) = int32(input)?;
        let (input, member_id) = string(flexible)(input)?;
        let (input, group_instance_id) =
            when(version >= 3, None, input, nullable_string(flexible))?;
        let (input, protocol_type) = when(version >= 5, None, input, nullable_string(flexible))?;
        let (input, protocol_name) = when(version >= 5, None, input, nullable_string(flexible))?;
        let (input, assignments) = array(flexible, min_assignment_bytes(version), |i| {
            SyncGroupRequestAssignment::decode_body(i, version)
        })(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        request.group_id = GroupId(group_id);
        request.generation_id = generation_id;
        request.member_id = member_id;
        request.group_instance_id = group_instance_id;
        request.protocol_type = protocol_type;
        request.protocol_name = protocol_name;
        request.assignments = assignments;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
