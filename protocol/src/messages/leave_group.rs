//! LeaveGroupRequest (key 13), versions 0-5. Flexible from v4. No tagged fields are declared
//! at any level.
//!
//! ```text
//! group_id STRING
//! member_id STRING                       v0-2 ("" after)
//! members [MemberIdentity]               v3+ (KIP-345 batch leave; empty before)
//!   member_id STRING
//!   group_instance_id NULLABLE_STRING
//!   reason NULLABLE_STRING               v5+ (KIP-800; null before)
//!   TAG_BUFFER                           v4+
//! TAG_BUFFER                             v4+
//! ```

use kafka_protocol::messages::leave_group_request::{LeaveGroupRequest, MemberIdentity};
use kafka_protocol::messages::GroupId;

use super::DecodeBody;
use crate::primitives::{array, nullable_string, string, tag_buffer, when, PResult};

const FLEXIBLE_FROM: i16 = 4;

/// Smallest encoding of one member: empty member id, null instance id (, null reason)
/// (, tag buffer).
fn min_member_bytes(version: i16) -> usize {
    match version {
        ..=3 => 2 + 2,
        4 => 1 + 1 + 1,
        _ => 1 + 1 + 1 + 1,
    }
}

impl DecodeBody for MemberIdentity {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut member = MemberIdentity::default();
        let (input, member_id) = string(flexible)(input)?;
        let (input, group_instance_id) = nullable_string(flexible)(input)?;
        let (input, reason) = when(version >= 5, None, input, nullable_string(flexible))?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        member.member_id = member_id;
        member.group_instance_id = group_instance_id;
        member.reason = reason;
        member.unknown_tagged_fields = unknown;
        Ok((input, member))
    }
}

impl DecodeBody for LeaveGroupRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = LeaveGroupRequest::default();
        let (input, group_id) = string(flexible)(input)?;
        // Never flexible: v0-2 predate compact encodings.
        let (input, member_id) = when(version <= 2, Default::default(), input, string(false))?;
        let (input, members) = when(version >= 3, Vec::new(), input, |i| {
            array(flexible, min_member_bytes(version), |i| {
                MemberIdentity::decode_body(i, version)
            })(i)
        })?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        request.group_id = GroupId(group_id);
        request.member_id = member_id;
        request.members = members;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
