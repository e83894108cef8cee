//! CreateTopicsRequest (key 19), versions 2-7 (v0-1 are gone from the schema). Flexible
//! from v5. No tagged fields are declared at any level.
//!
//! ```text
//! topics [CreatableTopic]
//!   name STRING
//!   num_partitions INT32
//!   replication_factor INT16
//!   assignments [CreatableReplicaAssignment]
//!     partition_index INT32
//!     broker_ids [INT32]
//!     TAG_BUFFER                       v5+
//!   configs [CreatableTopicConfig]
//!     name STRING
//!     value NULLABLE_STRING            nullable in every version
//!     TAG_BUFFER                       v5+
//!   TAG_BUFFER                         v5+
//! timeout_ms INT32
//! validate_only BOOLEAN
//! TAG_BUFFER                           v5+
//! ```

use kafka_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig, CreateTopicsRequest,
};
use kafka_protocol::messages::{BrokerId, TopicName};

use super::DecodeBody;
use crate::primitives::tag_buffer;
use crate::primitives::{array, boolean, int16, int32, nullable_string, string, PResult};

const FLEXIBLE_FROM: i16 = 5;

fn broker_id(input: &[u8]) -> PResult<'_, BrokerId> {
    let (input, id) = int32(input)?;
    Ok((input, BrokerId(id)))
}

/// Smallest encoding of one assignment: partition index + empty broker list (+ tag buffer).
fn min_assignment_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        4 + 1 + 1
    } else {
        4 + 4
    }
}

/// Smallest encoding of one config: empty name + null value (+ tag buffer).
fn min_config_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        1 + 1 + 1
    } else {
        2 + 2
    }
}

/// Smallest encoding of one topic: empty name, num_partitions, replication_factor, two
/// empty arrays (+ tag buffer).
fn min_topic_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        1 + 4 + 2 + 1 + 1 + 1
    } else {
        2 + 4 + 2 + 4 + 4
    }
}

impl DecodeBody for CreatableReplicaAssignment {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut assignment = CreatableReplicaAssignment::default();
        let (input, partition_index) = int32(input)?;
        let (input, broker_ids) = array(flexible, 4, broker_id)(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        assignment.partition_index = partition_index;
        assignment.broker_ids = broker_ids;
        assignment.unknown_tagged_fields = unknown;
        Ok((input, assignment))
    }
}

impl DecodeBody for CreatableTopicConfig {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut config = CreatableTopicConfig::default();
        let (input, name) = string(flexible)(input)?;
        let (input, value) = nullable_string(flexible)(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        config.name = name;
        config.value = value;
        config.unknown_tagged_fields = unknown;
        Ok((input, config))
    }
}

impl DecodeBody for CreatableTopic {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut topic = CreatableTopic::default();
        let (input, name) = string(flexible)(input)?;
        let (input, num_partitions) = int32(input)?;
        let (input, replication_factor) = int16(input)?;
        let (input, assignments) = array(flexible, min_assignment_bytes(version), |i| {
            CreatableReplicaAssignment::decode_body(i, version)
        })(input)?;
        let (input, configs) = array(flexible, min_config_bytes(version), |i| {
            CreatableTopicConfig::decode_body(i, version)
        })(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        topic.name = TopicName(name);
        topic.num_partitions = num_partitions;
        topic.replication_factor = replication_factor;
        topic.assignments = assignments;
        topic.configs = configs;
        topic.unknown_tagged_fields = unknown;
        Ok((input, topic))
    }
}

impl DecodeBody for CreateTopicsRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = CreateTopicsRequest::default();
        let (input, topics) = array(flexible, min_topic_bytes(version), |i| {
            CreatableTopic::decode_body(i, version)
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
