//! CreatePartitionsRequest (key 37), versions 0-3. Flexible from v2. No tagged fields are
//! declared at any level.
//!
//! ```text
//! topics [CreatePartitionsTopic]
//!   name STRING
//!   count INT32
//!   assignments [CreatePartitionsAssignment]   nullable in every version (null = automatic)
//!     broker_ids [INT32]
//!     TAG_BUFFER                       v2+
//!   TAG_BUFFER                         v2+
//! timeout_ms INT32
//! validate_only BOOLEAN
//! TAG_BUFFER                           v2+
//! ```

use kafka_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsRequest, CreatePartitionsTopic,
};
use kafka_protocol::messages::{BrokerId, TopicName};

use super::DecodeBody;
use crate::primitives::tag_buffer;
use crate::primitives::{array, boolean, int32, nullable_array, string, PResult};

const FLEXIBLE_FROM: i16 = 2;

fn broker_id(input: &[u8]) -> PResult<'_, BrokerId> {
    let (input, id) = int32(input)?;
    Ok((input, BrokerId(id)))
}

/// Smallest encoding of one assignment: an empty broker list (+ tag buffer).
fn min_assignment_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        1 + 1
    } else {
        4
    }
}

/// Smallest encoding of one topic: empty name, count, null assignments (+ tag buffer).
fn min_topic_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        1 + 4 + 1 + 1
    } else {
        2 + 4 + 4
    }
}

impl DecodeBody for CreatePartitionsAssignment {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut assignment = CreatePartitionsAssignment::default();
        let (input, broker_ids) = array(flexible, 4, broker_id)(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        assignment.broker_ids = broker_ids;
        assignment.unknown_tagged_fields = unknown;
        Ok((input, assignment))
    }
}

impl DecodeBody for CreatePartitionsTopic {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut topic = CreatePartitionsTopic::default();
        let (input, name) = string(flexible)(input)?;
        let (input, count) = int32(input)?;
        let (input, assignments) = nullable_array(flexible, min_assignment_bytes(version), |i| {
            CreatePartitionsAssignment::decode_body(i, version)
        })(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        topic.name = TopicName(name);
        topic.count = count;
        topic.assignments = assignments;
        topic.unknown_tagged_fields = unknown;
        Ok((input, topic))
    }
}

impl DecodeBody for CreatePartitionsRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = CreatePartitionsRequest::default();
        let (input, topics) = array(flexible, min_topic_bytes(version), |i| {
            CreatePartitionsTopic::decode_body(i, version)
        })(input)?;
        let (input, timeout_ms) = int32(input)?;
        let (input, validate_only) = boolean(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        request.topics = topics;
        request.timeout_ms = timeout_ms;
        request.validate_only = validate_only;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
