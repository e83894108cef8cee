//! OffsetDeleteRequest (key 47), version 0 only. Never flexible, so no structure has a tag
//! buffer (and the crate's structs have no `unknown_tagged_fields`).
//!
//! ```text
//! group_id STRING
//! topics [OffsetDeleteRequestTopic]
//!   name STRING
//!   partitions [OffsetDeleteRequestPartition]
//!     partition_index INT32
//! ```

use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequest, OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::{GroupId, TopicName};

use super::DecodeBody;
use crate::primitives::{array, int32, string, PResult};

/// Smallest encoding of one partition: its index.
const MIN_PARTITION_BYTES: usize = 4;

/// Smallest encoding of one topic: empty name + empty partition list.
const MIN_TOPIC_BYTES: usize = 2 + 4;

impl DecodeBody for OffsetDeleteRequestPartition {
    fn decode_body(input: &[u8], _version: i16) -> PResult<'_, Self> {
        let mut partition = OffsetDeleteRequestPartition::default();
        let (input, partition_index) = int32(input)?;
        partition.partition_index = partition_index;
        Ok((input, partition))
    }
}

impl DecodeBody for OffsetDeleteRequestTopic {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let mut topic = OffsetDeleteRequestTopic::default();
        let (input, name) = string(false)(input)?;
        let (input, partitions) = array(false, MIN_PARTITION_BYTES, |i| {
            OffsetDeleteRequestPartition::decode_body(i, version)
        })(input)?;
        topic.name = TopicName(name);
        topic.partitions = partitions;
        Ok((input, topic))
    }
}

impl DecodeBody for OffsetDeleteRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let mut request = OffsetDeleteRequest::default();
        let (input, group_id) = string(false)(input)?;
        let (input, topics) = array(false, MIN_TOPIC_BYTES, |i| {
            OffsetDeleteRequestTopic::decode_body(i, version)
        })(input)?;
        request.group_id = GroupId(group_id);
        request.topics = topics;
        Ok((input, request))
    }
}
