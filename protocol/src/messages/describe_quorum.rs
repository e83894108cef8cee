//! DescribeQuorumRequest (key 55), versions 0-2. Flexible in every version. No tagged
//! fields are declared at any level; v1 and v2 change only the response.
//!
//! ```text
//! topics [TopicData]
//!   topic_name STRING
//!   partitions [PartitionData]
//!     partition_index INT32
//!     TAG_BUFFER
//!   TAG_BUFFER
//! TAG_BUFFER
//! ```

use kafka_protocol::messages::describe_quorum_request::{
    DescribeQuorumRequest, PartitionData, TopicData,
};
use kafka_protocol::messages::TopicName;

use super::DecodeBody;
use crate::primitives::{array, int32, string, tagged_fields, PResult};

/// Every version is flexible: compact lengths and a TAG_BUFFER on each struct.
const FLEXIBLE: bool = true;

/// Smallest encoding of one partition: index + tag buffer.
const MIN_PARTITION_BYTES: usize = 4 + 1;

/// Smallest encoding of one topic: empty name + empty partition list + tag buffer.
const MIN_TOPIC_BYTES: usize = 1 + 1 + 1;

impl DecodeBody for PartitionData {
    fn decode_body(input: &[u8], _version: i16) -> PResult<'_, Self> {
        let mut partition = PartitionData::default();
        let (input, partition_index) = int32(input)?;
        let (input, unknown) = tagged_fields(input)?;
        partition.partition_index = partition_index;
        partition.unknown_tagged_fields = unknown;
        Ok((input, partition))
    }
}

impl DecodeBody for TopicData {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let mut topic = TopicData::default();
        let (input, topic_name) = string(FLEXIBLE)(input)?;
        let (input, partitions) = array(FLEXIBLE, MIN_PARTITION_BYTES, |i| {
            PartitionData::decode_body(i, version)
        })(input)?;
        let (input, unknown) = tagged_fields(input)?;
        topic.topic_name = TopicName(topic_name);
        topic.partitions = partitions;
        topic.unknown_tagged_fields = unknown;
        Ok((input, topic))
    }
}

impl DecodeBody for DescribeQuorumRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let mut request = DescribeQuorumRequest::default();
        let (input, topics) = array(FLEXIBLE, MIN_TOPIC_BYTES, |i| {
            TopicData::decode_body(i, version)
        })(input)?;
        let (input, unknown) = tagged_fields(input)?;
        request.topics = topics;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
