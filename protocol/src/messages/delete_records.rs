//! DeleteRecordsRequest (key 21), versions 0-2. Flexible from v2. No tagged fields are
//! declared at any level.
//!
//! ```text
//! topics [DeleteRecordsTopic]
//!   name STRING
//!   partitions [DeleteRecordsPartition]
//!     partition_index INT32
//!     offset INT64                     delete everything before this offset (-1 = high watermark)
//!     TAG_BUFFER                       v2+
//!   TAG_BUFFER                         v2+
//! timeout_ms INT32
//! TAG_BUFFER                           v2+
//! ```

use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsRequest, DeleteRecordsTopic,
};
use kafka_protocol::messages::TopicName;

use super::DecodeBody;
use crate::primitives::tag_buffer;
use crate::primitives::{array, int32, int64, string, PResult};

const FLEXIBLE_FROM: i16 = 2;

/// Smallest encoding of one partition: index + offset (+ tag buffer).
fn min_partition_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        4 + 8 + 1
    } else {
        4 + 8
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

impl DecodeBody for DeleteRecordsPartition {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut partition = DeleteRecordsPartition::default();
        let (input, partition_index) = int32(input)?;
        let (input, offset) = int64(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        partition.partition_index = partition_index;
        partition.offset = offset;
        partition.unknown_tagged_fields = unknown;
        Ok((input, partition))
    }
}

impl DecodeBody for DeleteRecordsTopic {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut topic = DeleteRecordsTopic::default();
        let (input, name) = string(flexible)(input)?;
        let (input, partitions) = array(flexible, min_partition_bytes(version), |i| {
            DeleteRecordsPartition::decode_body(i, version)
        })(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        topic.name = TopicName(name);
        topic.partitions = partitions;
        topic.unknown_tagged_fields = unknown;
        Ok((input, topic))
    }
}

impl DecodeBody for DeleteRecordsRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = DeleteRecordsRequest::default();
        let (input, topics) = array(flexible, min_topic_bytes(version), |i| {
            DeleteRecordsTopic::decode_body(i, version)
        })(input)?;
        let (input, timeout_ms) = int32(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        request.topics = topics;
        request.timeout_ms = timeout_ms;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
