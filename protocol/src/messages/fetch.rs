//! FetchRequest (key 1), versions 4-18. Flexible from v12.
//!
//! ```text
//! cluster_id COMPACT_NULLABLE_STRING     tag 0, v12+
//! replica_id INT32                       v4-14 (-1 after)
//! replica_state ReplicaState             tag 1, v15+
//!   replica_id INT32
//!   replica_epoch INT64
//!   TAG_BUFFER
//! max_wait_ms INT32
//! min_bytes INT32
//! max_bytes INT32
//! isolation_level INT8
//! session_id INT32                       v7+ (0 before)
//! session_epoch INT32                    v7+ (-1 before)
//! topics [FetchTopic]
//!   topic STRING                         v4-12
//!   topic_id UUID                        v13+
//!   partitions [FetchPartition]
//!     partition INT32
//!     current_leader_epoch INT32         v9+ (-1 before)
//!     fetch_offset INT64
//!     last_fetched_epoch INT32           v12+ (-1 before)
//!     log_start_offset INT64             v5+ (-1 before)
//!     partition_max_bytes INT32
//!     replica_directory_id UUID          tag 0, v17+
//!     high_watermark INT64               tag 1, v18+ (i64::MAX when absent)
//!     TAG_BUFFER                         v12+
//!   TAG_BUFFER                           v12+
//! forgotten_topics_data [ForgottenTopic] v7+
//!   topic STRING                         v7-12
//!   topic_id UUID                        v13+
//!   partitions [INT32]
//!   TAG_BUFFER                           v12+
//! rack_id STRING                         v11+ ("" before)
//! TAG_BUFFER                             v12+ (holds cluster_id, replica_state)
//! ```
//!
//! A declared tag in a version that lacks its field (e.g. `replica_state` at v12-14) is kept
//! as an unknown tagged field rather than refused.

use std::collections::BTreeMap;

use kafka_protocol::messages::fetch_request::{
    FetchPartition, FetchRequest, FetchTopic, ForgottenTopic, ReplicaState,
};
use kafka_protocol::messages::{BrokerId, TopicName};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use super::DecodeBody;
use crate::primitives::{
    array, int32, int64, int8, nullable_string, string, tagged_fields, tagged_fields_with, uuid,
    PResult,
};
use crate::primitives::{tagged_value, when};

const FLEXIBLE_FROM: i16 = 12;

/// Smallest encoding of one partition entry.
fn min_partition_bytes(version: i16) -> usize {
    let mut size = 4 + 8 + 4; // partition, fetch_offset, partition_max_bytes
    if version >= 5 {
        size += 8; // log_start_offset
    }
    if version >= 9 {
        size += 4; // current_leader_epoch
    }
    if version >= FLEXIBLE_FROM {
        size += 4 + 1; // last_fetched_epoch, tag buffer
    }
    size
}

/// Smallest encoding of one FetchTopic or ForgottenTopic: name or id, array count (+ tags).
fn min_topic_bytes(version: i16) -> usize {
    match version {
        ..=11 => 2 + 4,
        12 => 1 + 1 + 1,
        _ => 16 + 1 + 1,
    }
}

impl DecodeBody for FetchPartition {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let mut p = FetchPartition::default();
        let (input, partition) = int32(input)?;
        let (input, current_leader_epoch) = when(version >= 9, -1, input, int32)?;
        let (input, fetch_offset) = int64(input)?;
        let (input, last_fetched_epoch) = when(version >= 12, -1, input, int32)?;
        let (input, log_start_offset) = when(version >= 5, -1, input, int64)?;
        let (input, partition_max_bytes) = int32(input)?;
        let (input, unknown) = when(version >= FLEXIBLE_FROM, BTreeMap::new(), input, |i| {
            tagged_fields_with(i, |tag, data| match tag {
                0 if version >= 17 => {
                    p.replica_directory_id = tagged_value(data, uuid)?;
                    Ok(true)
                }
                1 if version >= 18 => {
                    p.high_watermark = tagged_value(data, int64)?;
                    Ok(true)
                }
                _ => Ok(false),
            })
        })?;
        p.partition = partition;
        p.current_leader_epoch = current_leader_epoch;
        p.fetch_offset = fetch_offset;
        p.last_fetched_epoch = last_fetched_epoch;
        p.log_start_offset = log_start_offset;
        p.partition_max_bytes = partition_max_bytes;
        p.unknown_tagged_fields = unknown;
        Ok((input, p))
    }
}

impl DecodeBody for FetchTopic {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let (input, name) = when(version <= 12, Default::default(), input, string(flexible))?;
        let (input, topic_id) = when(version >= 13, Uuid::nil(), input, uuid)?;
        let (input, partitions) = array(flexible, min_partition_bytes(version), |i| {
            FetchPartition::decode_body(i, version)
        })(input)?;
        let (input, unknown) = when(flexible, BTreeMap::new(), input, tagged_fields)?;
        let mut topic = FetchTopic::default();
        topic.topic = TopicName(name);
        topic.topic_id = topic_id;
        topic.partitions = partitions;
        topic.unknown_tagged_fields = unknown;
        Ok((input, topic))
    }
}

impl DecodeBody for ForgottenTopic {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let (input, name) = when(version <= 12, Default::default(), input, string(flexible))?;
        let (input, topic_id) = when(version >= 13, Uuid::nil(), input, uuid)?;
        let (input, partitions) = array(flexible, 4, int32)(input)?;
        let (input, unknown) = when(flexible, BTreeMap::new(), input, tagged_fields)?;
        let mut topic = ForgottenTopic::default();
        topic.topic = TopicName(name);
        topic.topic_id = topic_id;
        topic.partitions = partitions;
        topic.unknown_tagged_fields = unknown;
        Ok((input, topic))
    }
}

/// Only ever appears as tag 1 of a flexible (v15+) request, so always has a tag buffer.
impl DecodeBody for ReplicaState {
    fn decode_body(input: &[u8], _version: i16) -> PResult<'_, Self> {
        let (input, replica_id) = int32(input)?;
        let (input, replica_epoch) = int64(input)?;
        let (input, unknown) = tagged_fields(input)?;
        let mut state = ReplicaState::default();
        state.replica_id = BrokerId(replica_id);
        state.replica_epoch = replica_epoch;
        state.unknown_tagged_fields = unknown;
        Ok((input, state))
    }
}

impl DecodeBody for FetchRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut r = FetchRequest::default();
        let (input, replica_id) = when(version <= 14, -1, input, int32)?;
        let (input, max_wait_ms) = int32(input)?;
        let (input, min_bytes) = int32(input)?;
        let (input, max_bytes) = int32(input)?;
        let (input, isolation_level) = int8(input)?;
        let (input, session_id) = when(version >= 7, 0, input, int32)?;
        let (input, session_epoch) = when(version >= 7, -1, input, int32)?;
        let (input, topics) = array(flexible, min_topic_bytes(version), |i| {
            FetchTopic::decode_body(i, version)
        })(input)?;
        let (input, forgotten) = when(version >= 7, Vec::new(), input, |i| {
            array(flexible, min_topic_bytes(version), |i| {
                ForgottenTopic::decode_body(i, version)
            })(i)
        })?;
        let (input, rack_id) = when(
            version >= 11,
            StrBytes::from_static_str(""),
            input,
            string(flexible),
        )?;
        let (input, unknown) = when(flexible, BTreeMap::new(), input, |i| {
            tagged_fields_with(i, |tag, data| match tag {
                0 => {
                    r.cluster_id = tagged_value(data, nullable_string(true))?;
                    Ok(true)
                }
                1 if version >= 15 => {
                    r.replica_state =
                        tagged_value(data, |d| ReplicaState::decode_body(d, version))?;
                    Ok(true)
                }
                _ => Ok(false),
            })
        })?;
        r.replica_id = BrokerId(replica_id);
        r.max_wait_ms = max_wait_ms;
        r.min_bytes = min_bytes;
        r.max_bytes = max_bytes;
        r.isolation_level = isolation_level;
        r.session_id = session_id;
        r.session_epoch = session_epoch;
        r.topics = topics;
        r.forgotten_topics_data = forgotten;
        r.rack_id = rack_id;
        r.unknown_tagged_fields = unknown;
        Ok((input, r))
    }
}
