//! DescribeLogDirsRequest (key 35), versions 1-4 (v0 is not supported by the crate).
//! Flexible from v2. No tagged fields are declared by the schema.
//!
//! ```text
//! topics [DescribableLogDirTopic]      nullable in all versions (null = all topics)
//!   topic STRING
//!   partitions [INT32]
//!   TAG_BUFFER                         v2+
//! TAG_BUFFER                           v2+
//! ```

use kafka_protocol::messages::describe_log_dirs_request::{
    DescribableLogDirTopic, DescribeLogDirsRequest,
};
use kafka_protocol::messages::TopicName;

use super::DecodeBody;
use crate::primitives::{array, int32, nullable_array, string, tagged_fields, PResult};

const FLEXIBLE_FROM: i16 = 2;

/// Bytes of one partition index (INT32).
const PARTITION_BYTES: usize = 4;

/// Smallest encoding of one topic entry, used to bound the topic count.
fn min_topic_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        // varint name length + varint partition count + empty tag buffer
        1 + 1 + 1
    } else {
        // INT16 name length + INT32 partition count
        2 + 4
    }
}

impl DecodeBody for DescribableLogDirTopic {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut topic = DescribableLogDirTopic::default();
        let (input, name) = string(flexible)(input)?;
        let (mut input, partitions) = array(flexible, PARTITION_BYTES, int32)(input)?;
        topic.topic = TopicName(name);
        topic.partitions = partitions;
        if flexible {
            let (rest, unknown) = tagged_fields(input)?;
            topic.unknown_tagged_fields = unknown;
            input = rest;
        }
        Ok((input, topic))
    }
}

impl DecodeBody for DescribeLogDirsRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = DescribeLogDirsRequest::default();
        let (mut input, topics) = nullable_array(flexible, min_topic_bytes(version), |i| {
            DescribableLogDirTopic::decode_body(i, version)
        })(input)?;
        request.topics = topics;
        if flexible {
            let (rest, unknown) = tagged_fields(input)?;
            request.unknown_tagged_fields = unknown;
            input = rest;
        }
        Ok((input, request))
    }
}
