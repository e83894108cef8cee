//! ProduceRequest (key 0), versions 3-13. Flexible from v9.
//!
//! ```text
//! transactional_id NULLABLE_STRING        (null = not transactional)
//! acks INT16
//! timeout_ms INT32
//! topic_data [TopicProduceData]
//!   name STRING                           v3-12
//!   topic_id UUID                         v13+
//!   partition_data [PartitionProduceData]
//!     index INT32
//!     records NULLABLE_BYTES (RECORDS)    compact from v9
//!     TAG_BUFFER                          v9+
//!   TAG_BUFFER                            v9+
//! TAG_BUFFER                              v9+
//! ```
//!
//! No tagged fields are declared at any level.

use std::collections::BTreeMap;

use kafka_protocol::messages::produce_request::{
    PartitionProduceData, ProduceRequest, TopicProduceData,
};
use kafka_protocol::messages::{TopicName, TransactionalId};
use uuid::Uuid;

use super::DecodeBody;
use crate::primitives::when;
use crate::primitives::{
    array, int16, int32, nullable_bytes, nullable_string, string, tagged_fields, uuid, PResult,
};

const FLEXIBLE_FROM: i16 = 9;

/// Smallest encoding of one partition entry: index + records length (+ tag buffer).
fn min_partition_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        4 + 1 + 1
    } else {
        4 + 4
    }
}

/// Smallest encoding of one topic entry: name or id, partition count (+ tag buffer).
fn min_topic_bytes(version: i16) -> usize {
    match version {
        ..=8 => 2 + 4,
        9..=12 => 1 + 1 + 1,
        _ => 16 + 1 + 1,
    }
}

impl DecodeBody for PartitionProduceData {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let (input, index) = int32(input)?;
        let (input, records) = nullable_bytes(flexible)(input)?;
        let (input, unknown) = when(flexible, BTreeMap::new(), input, tagged_fields)?;
        let mut partition = PartitionProduceData::default();
        partition.index = index;
        partition.records = records;
        partition.unknown_tagged_fields = unknown;
        Ok((input, partition))
    }
}

impl DecodeBody for TopicProduceData {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let (input, name) = when(version <= 12, Default::default(), input, string(flexible))?;
        let (input, topic_id) = when(version >= 13, Uuid::nil(), input, uuid)?;
        let (input, partition_data) = array(flexible, min_partition_bytes(version), |i| {
            PartitionProduceData::decode_body(i, version)
        })(input)?;
        let (input, unknown) = when(flexible, BTreeMap::new(), input, tagged_fields)?;
        let mut topic = TopicProduceData::default();
        topic.name = TopicName(name);
        topic.topic_id = topic_id;
        topic.partition_data = partition_data;
        topic.unknown_tagged_fields = unknown;
        Ok((input, topic))
    }
}

impl DecodeBody for ProduceRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let (input, transactional_id) = nullable_string(flexible)(input)?;
        let (input, acks) = int16(input)?;
        let (input, timeout_ms) = int32(input)?;
        let (input, topic_data) = array(flexible, min_topic_bytes(version), |i| {
            TopicProduceData::decode_body(i, version)
        })(input)?;
        let (input, unknown) = when(flexible, BTreeMap::new(), input, tagged_fields)?;
        let mut request = ProduceRequest::default();
        request.transactional_id = transactional_id.map(TransactionalId);
        request.acks = acks;
        request.timeout_ms = timeout_ms;
        request.topic_data = topic_data;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
