//! MetadataRequest (key 3), versions 0-13. Flexible from v9.
//!
//! ```text
//! topics [MetadataRequestTopic]        nullable from v1 (null = all topics)
//!   topic_id UUID                      v10+
//!   name STRING                        nullable from v10
//!   TAG_BUFFER                         v9+
//! allow_auto_topic_creation BOOLEAN    v4+  (true before)
//! include_cluster_authorized_operations BOOLEAN   v8-10
//! include_topic_authorized_operations BOOLEAN     v8+
//! TAG_BUFFER                           v9+
//! ```

use kafka_protocol::messages::metadata_request::{MetadataRequest, MetadataRequestTopic};
use kafka_protocol::messages::TopicName;

use super::DecodeBody;
use crate::error::WireError;
use crate::primitives::{
    boolean, fail, nullable_array, nullable_string, tagged_fields, uuid, PResult,
};

const FLEXIBLE_FROM: i16 = 9;

impl DecodeBody for MetadataRequestTopic {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut topic = MetadataRequestTopic::default();
        let input = if version >= 10 {
            let (input, id) = uuid(input)?;
            topic.topic_id = id;
            input
        } else {
            input
        };
        let (input, name) = nullable_string(flexible)(input)?;
        if name.is_none() && version < 10 {
            return fail(WireError::UnexpectedNull);
        }
        topic.name = name.map(TopicName);
        let input = if flexible {
            let (input, unknown) = tagged_fields(input)?;
            topic.unknown_tagged_fields = unknown;
            input
        } else {
            input
        };
        Ok((input, topic))
    }
}

/// Smallest encoding of one topic entry, used to bound the topic count.
fn min_topic_bytes(version: i16) -> usize {
    match version {
        // INT16 name length
        0..=8 => 2,
        // varint name length + empty tag buffer
        9 => 2,
        // + 16-byte topic id
        _ => 18,
    }
}

impl DecodeBody for MetadataRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = MetadataRequest::default();
        let (mut input, topics) = nullable_array(flexible, min_topic_bytes(version), |i| {
            MetadataRequestTopic::decode_body(i, version)
        })(input)?;
        if topics.is_none() && version < 1 {
            return fail(WireError::UnexpectedNull);
        }
        request.topics = topics;
        request.allow_auto_topic_creation = true;
        if version >= 4 {
            let (rest, allow) = boolean(input)?;
            request.allow_auto_topic_creation = allow;
            input = rest;
        }
        if (8..=10).contains(&version) {
            let (rest, include) = boolean(input)?;
            request.include_cluster_authorized_operations = include;
            input = rest;
        }
        if version >= 8 {
            let (rest, include) = boolean(input)?;
            request.include_topic_authorized_operations = include;
            input = rest;
        }
        if flexible {
            let (rest, unknown) = tagged_fields(input)?;
            request.unknown_tagged_fields = unknown;
            input = rest;
        }
        Ok((input, request))
    }
}
