//! OffsetCommitRequest (key 8), versions 2-9 (v0-1 are gone from the schema; v10, which
//! identifies topics by id, is not in the crate's struct). Flexible from v8. No tagged
//! fields are declared at any level.
//!
//! ```text
//! group_id STRING
//! generation_id_or_member_epoch INT32
//! member_id STRING
//! group_instance_id NULLABLE_STRING      v7+ (null before)
//! retention_time_ms INT64                v2-4 (-1 after: retention is broker config)
//! topics [OffsetCommitRequestTopic]
//!   name STRING
//!   partitions [OffsetCommitRequestPartition]
//!     partition_index INT32
//!     committed_offset INT64
//!     committed_leader_epoch INT32       v6+ (-1 before)
//!     committed_metadata NULLABLE_STRING nullable in every version
//!     TAG_BUFFER                         v8+
//!   TAG_BUFFER                           v8+
//! TAG_BUFFER                             v8+
//! ```

use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequest, OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::{GroupId, TopicName};

use super::DecodeBody;
use crate::primitives::{array, int32, int64, nullable_string, string, tag_buffer, when, PResult};

const FLEXIBLE_FROM: i16 = 8;

/// Smallest encoding of one partition: index, offset, (leader epoch,) null metadata
/// (, tag buffer).
fn min_partition_bytes(version: i16) -> usize {
    match version {
        ..=5 => 4 + 8 + 2,
        6..=7 => 4 + 8 + 4 + 2,
        _ => 4 + 8 + 4 + 1 + 1,
    }
}

/// Smallest encoding of one topic: empty name + empty partition list (+ tag buffer).
fn min_topic_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        1 + 1 + 1
    } else {
        2 + 4
    }
}

impl DecodeBody for OffsetCommitRequestPartition {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut partition = OffsetCommitRequestPartition::default();
        let (input, partition_index) = int32(input)?;
        let (input, committed_offset) = int64(input)?;
        let (input, committed_leader_epoch) = when(version >= 6, -1, input, int32)?;
        let (input, committed_metadata) = nullable_string(flexible)(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        partition.partition_index = partition_index;
        partition.committed_offset = committed_offset;
        partition.committed_leader_epoch = committed_leader_epoch;
        partition.committed_metadata = committed_metadata;
        partition.unknown_tagged_fields = unknown;
        Ok((input, partition))
    }
}

impl DecodeBody for OffsetCommitRequestTopic {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut topic = OffsetCommitRequestTopic::default();
        let (input, name) = string(flexible)(input)?;
        let (input, partitions) = array(flexible, min_partition_bytes(version), |i| {
            OffsetCommitRequestPartition::decode_body(i, version)
        })(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        topic.name = TopicName(name);
        topic.partitions = partitions;
        topic.unknown_tagged_fields = unknown;
        Ok((input, topic))
    }
}

impl DecodeBody for OffsetCommitRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = OffsetCommitRequest::default();
        let (input, group_id) = string(flexible)(input)?;
        let (input, generation_id_or_member_epoch) = int32(input)?;
        let (input, member_id) = string(flexible)(input)?;
        let (input, group_instance_id) =
            when(version >= 7, None, input, nullable_string(flexible))?;
        let (input, retention_time_ms) = when(version <= 4, -1, input, int64)?;
        let (input, topics) = array(flexible, min_topic_bytes(version), |i| {
            OffsetCommitRequestTopic::decode_body(i, version)
        })(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        request.group_id = GroupId(group_id);
        request.generation_id_or_member_epoch = generation_id_or_member_epoch;
        request.member_id = member_id;
        request.group_instance_id = group_instance_id;
        request.retention_time_ms = retention_time_ms;
        request.topics = topics;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
