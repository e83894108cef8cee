//! OffsetFetchRequest (key 9), versions 1-9 (v0 read offsets from ZooKeeper; v10, which
//! identifies topics by id, is not in the crate's struct). Flexible from v6. No tagged
//! fields are declared at any level.
//!
//! ```text
//! group_id STRING                        v1-7 ("" after)
//! topics [OffsetFetchRequestTopic]       v1-7, nullable v2-7 (null = all topics)
//!   name STRING
//!   partition_indexes [INT32]
//!   TAG_BUFFER                           v6+
//! groups [OffsetFetchRequestGroup]       v8+ (several groups per request; empty before)
//!   group_id STRING
//!   member_id NULLABLE_STRING            v9+ (KIP-848; null before)
//!   member_epoch INT32                   v9+ (-1 before)
//!   topics [OffsetFetchRequestTopics]    nullable (null = all topics)
//!     name STRING
//!     partition_indexes [INT32]
//!     TAG_BUFFER
//!   TAG_BUFFER
//! require_stable BOOLEAN                 v7+ (false before)
//! TAG_BUFFER                             v6+
//! ```
//!
//! From v8 the top-level `topics` is absent and keeps the struct's default, `Some([])`
//! (not `None`, which would mean "all topics").

use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequest, OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::{GroupId, TopicName};

use super::DecodeBody;
use crate::primitives::{
    array, boolean, int32, nullable_array, nullable_string, string, tag_buffer, when, PResult,
};

const FLEXIBLE_FROM: i16 = 6;

/// Smallest encoding of one v1-7 topic: empty name + empty partition list (+ tag buffer).
fn min_topic_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        1 + 1 + 1
    } else {
        2 + 4
    }
}

/// Smallest encoding of one v8+ topic (always flexible): name, partitions, tag buffer.
const MIN_GROUP_TOPIC_BYTES: usize = 1 + 1 + 1;

/// Smallest encoding of one v8+ group: empty id, (null member id, epoch,) null topics,
/// tag buffer.
fn min_group_bytes(version: i16) -> usize {
    if version >= 9 {
        1 + 1 + 4 + 1 + 1
    } else {
        1 + 1 + 1
    }
}

impl DecodeBody for OffsetFetchRequestTopic {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut topic = OffsetFetchRequestTopic::default();
        let (input, name) = string(flexible)(input)?;
        let (input, partition_indexes) = array(flexible, 4, int32)(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        topic.name = TopicName(name);
        topic.partition_indexes = partition_indexes;
        topic.unknown_tagged_fields = unknown;
        Ok((input, topic))
    }
}

/// Only appears in v8+, so always flexible.
impl DecodeBody for OffsetFetchRequestTopics {
    fn decode_body(input: &[u8], _version: i16) -> PResult<'_, Self> {
        let mut topic = OffsetFetchRequestTopics::default();
        let (input, name) = string(true)(input)?;
        let (input, partition_indexes) = array(true, 4, int32)(input)?;
        let (input, unknown) = tag_buffer(input, true)?;
        topic.name = TopicName(name);
        topic.partition_indexes = partition_indexes;
        topic.unknown_tagged_fields = unknown;
        Ok((input, topic))
    }
}

/// Only appears in v8+, so always flexible.
impl DecodeBody for OffsetFetchRequestGroup {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let mut group = OffsetFetchRequestGroup::default();
        let (input, group_id) = string(true)(input)?;
        let (input, member_id) = when(version >= 9, None, input, nullable_string(true))?;
        let (input, member_epoch) = when(version >= 9, -1, input, int32)?;
        let (input, topics) = nullable_array(true, MIN_GROUP_TOPIC_BYTES, |i| {
            OffsetFetchRequestTopics::decode_body(i, version)
        })(input)?;
        let (input, unknown) = tag_buffer(input, true)?;
        group.group_id = GroupId(group_id);
        group.member_id = member_id;
        group.member_epoch = member_epoch;
        group.topics = topics;
        group.unknown_tagged_fields = unknown;
        Ok((input, group))
    }
}

impl DecodeBody for OffsetFetchRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = OffsetFetchRequest::default();
        let (input, group_id) = when(version <= 7, Default::default(), input, string(flexible))?;
        let topic = |i| OffsetFetchRequestTopic::decode_body(i, version);
        let (input, topics) = match version {
            // v1 predates "null = all topics": a null array there is malformed.
            ..=1 => {
                let (input, topics) = array(flexible, min_topic_bytes(version), topic)(input)?;
                (input, Some(topics))
            }
            2..=7 => nullable_array(flexible, min_topic_bytes(version), topic)(input)?,
            _ => (input, request.topics),
        };
        let (input, groups) = when(version >= 8, Vec::new(), input, |i| {
            array(true, min_group_bytes(version), |i| {
                OffsetFetchRequestGroup::decode_body(i, version)
            })(i)
        })?;
        let (input, require_stable) = when(version >= 7, false, input, boolean)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        request.group_id = GroupId(group_id);
        request.topics = topics;
        request.groups = groups;
        request.require_stable = require_stable;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
