//! ListOffsetsRequest (key 2), versions 1-10. Flexible from v6.
//!
//! ```text
//! replica_id INT32
//! isolation_level INT8                    v2+ (0 before)
//! topics [ListOffsetsTopic]
//!   name STRING
//!   partitions [ListOffsetsPartition]
//!     partition_index INT32
//!     current_leader_epoch INT32          v4+ (-1 before)
//!     timestamp INT64
//!     TAG_BUFFER                          v6+
//!   TAG_BUFFER                            v6+
//! timeout_ms INT32                        v10+ (0 before)
//! TAG_BUFFER                              v6+
//! ```
//!
//! No tagged fields are declared at any level.

use std::collections::BTreeMap;

use kafka_protocol::messages::list_offsets_request::{
    ListOffsetsPartition, ListOffsetsRequest, ListOffsetsTopic,
};
use kafka_protocol::messages::{BrokerId, TopicName};

use super::DecodeBody;
use crate::primitives::when;
use crate::primitives::{array, int32, int64, int8, string, tagged_fields, PResult};

const FLEXIBLE_FROM: i16 = 6;

/// Smallest encoding of one partition: index, (leader epoch,) timestamp (, tag buffer).
fn min_partition_bytes(version: i16) -> usize {
    match version {
        ..=3 => 4 + 8,
        4..=5 => 4 + 4 + 8,
        _ => 4 + 4 + 8 + 1,
    }
}

/// Smallest encoding of one topic: name length, partition count (, tag buffer).
fn min_topic_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        1 + 1 + 1
    } else {
        2 + 4
    }
}

impl DecodeBody for ListOffsetsPartition {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let (input, partition_index) = int32(input)?;
        let (input, current_leader_epoch) = when(version >= 4, -1, input, int32)?;
        let (input, timestamp) = int64(input)?;
        let (input, unknown) = when(
            version >= FLEXIBLE_FROM,
            BTreeMap::new(),
            input,
            tagged_fields,
        )?;
        let mut p = ListOffsetsPartition::default();
        p.partition_index = partition_index;
        p.current_leader_epoch = current_leader_epoch;
        p.timestamp = timestamp;
        p.unknown_tagged_fields = unknown;
        Ok((input, p))
    }
}

impl DecodeBody for ListOffsetsTopic {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let (input, name) = string(flexible)(input)?;
        let (input, partitions) = array(flexible, min_partition_bytes(version), |i| {
            ListOffsetsPartition::decode_body(i, version)
        })(input)?;
        let (input, unknown) = when(flexible, BTreeMap::new(), input, tagged_fields)?;
        let mut topic = ListOffsetsTopic::default();
        topic.name = TopicName(name);
        topic.partitions = partitions;
        topic.unknown_tagged_fields = unknown;
        Ok((input, topic))
    }
}

impl DecodeBody for ListOffsetsRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let (input, replica_id) = int32(input)?;
        let (input, isolation_level) = when(version >= 2, 0, input, int8)?;
        let (input, topics) = array(flexible, min_topic_bytes(version), |i| {
            ListOffsetsTopic::decode_body(i, version)
        })(input)?;
        let (input, timeout_ms) = when(version >= 10, 0, input, int32)?;
        let (input, unknown) = when(flexible, BTreeMap::new(), input, tagged_fields)?;
        let mut request = ListOffsetsRequest::default();
        request.replica_id = BrokerId(replica_id);
        request.isolation_level = isolation_level;
        request.topics = topics;
        request.timeout_ms = timeout_ms;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
