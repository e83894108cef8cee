//! JoinGroupRequest (key 11), versions 0-9. Flexible from v6. No tagged fields are declared
//! at any level.
//!
//! ```text
//! group_id STRING
//! session_timeout_ms INT32
//! rebalance_timeout_ms INT32             v1+ (-1 before)
//! member_id STRING
//! group_instance_id NULLABLE_STRING      v5+ (null before)
//! protocol_type STRING
//! protocols [JoinGroupRequestProtocol]
//!   name STRING
//!   metadata BYTES
//!   TAG_BUFFER                           v6+
//! reason NULLABLE_STRING                 v8+ (KIP-800; null before)
//! TAG_BUFFER                             v6+
//! ```

use kafka_protocol::messages::join_group_request::{JoinGroupRequest, JoinGroupRequestProtocol};
use kafka_protocol::messages::GroupId;

use super::DecodeBody;
use crate::primitives::{array, bytes, int32, nullable_string, string, tag_buffer, when, PResult};

const FLEXIBLE_FROM: i16 = 6;

/// Smallest encoding of one protocol: empty name + empty metadata (+ tag buffer).
fn min_protocol_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        1 + 1 + 1
    } else {
        2 + 4
    }
}

impl DecodeBody for JoinGroupRequestProtocol {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut protocol = JoinGroupRequestProtocol::default();
        let (input, name) = string(flexible)(input)?;
        let (input, metadata) = bytes(flexible)(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        protocol.name = name;
        protocol.metadata = metadata;
        protocol.unknown_tagged_fields = unknown;
        Ok((input, protocol))
    }
}

impl DecodeBody for JoinGroupRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = JoinGroupRequest::default();
        let (input, group_id) = string(flexible)(input)?;
        let (input, session_timeout_ms) = int32(input)?;
        let (input, rebalance_timeout_ms) = when(version >= 1, -1, input, int32)?;
        let (input, member_id) = string(flexible)(input)?;
        let (input, group_instance_id) =
            when(version >= 5, None, input, nullable_string(flexible))?;
        let (input, protocol_type) = string(flexible)(input)?;
        let (input, protocols) = array(flexible, min_protocol_bytes(version), |i| {
            JoinGroupRequestProtocol::decode_body(i, version)
        })(input)?;
        let (input, reason) = when(version >= 8, None, input, nullable_string(flexible))?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        request.group_id = GroupId(group_id);
        request.session_timeout_ms = session_timeout_ms;
        request.rebalance_timeout_ms = rebalance_timeout_ms;
        request.member_id = member_id;
        request.group_instance_id = group_instance_id;
        request.protocol_type = protocol_type;
        request.protocols = protocols;
        request.reason = reason;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
