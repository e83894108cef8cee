//! DeleteTopicsRequest (key 20), versions 1-6 (v0 is gone from the schema). Flexible from
//! v4. No tagged fields are declared at any level.
//!
//! ```text
//! topics [DeleteTopicState]            v6+ (by name or by id)
//!   name COMPACT_NULLABLE_STRING       null when the topic is named by id
//!   topic_id UUID
//!   TAG_BUFFER
//! topic_names [STRING]                 v1-5 only (compact from v4)
//! timeout_ms INT32
//! TAG_BUFFER                           v4+
//! ```

use kafka_protocol::messages::delete_topics_request::{DeleteTopicState, DeleteTopicsRequest};
use kafka_protocol::messages::TopicName;

use super::DecodeBody;
use crate::primitives::tag_buffer;
use crate::primitives::{array, int32, nullable_string, string, tagged_fields, uuid, PResult};

const FLEXIBLE_FROM: i16 = 4;
const TOPIC_STATES_FROM: i16 = 6;

/// Smallest encoding of one DeleteTopicState (v6+): null name + 16-byte id + tag buffer.
const MIN_TOPIC_STATE_BYTES: usize = 1 + 16 + 1;

/// Smallest encoding of one entry of `topic_names`: an empty string.
fn min_topic_name_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        1
    } else {
        2
    }
}

impl DecodeBody for DeleteTopicState {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let mut state = DeleteTopicState::default();
        if version < TOPIC_STATES_FROM {
            // The struct has no fields before v6 (and is not sent then).
            let (input, unknown) = tag_buffer(input, version >= FLEXIBLE_FROM)?;
            state.unknown_tagged_fields = unknown;
            return Ok((input, state));
        }
        let (input, name) = nullable_string(true)(input)?;
        let (input, topic_id) = uuid(input)?;
        let (input, unknown) = tagged_fields(input)?;
        state.name = name.map(TopicName);
        state.topic_id = topic_id;
        state.unknown_tagged_fields = unknown;
        Ok((input, state))
    }
}

impl DecodeBody for DeleteTopicsRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = DeleteTopicsRequest::default();
        let input = if version >= TOPIC_STATES_FROM {
            let (input, topics) = array(true, MIN_TOPIC_STATE_BYTES, |i| {
                DeleteTopicState::decode_body(i, version)
            })(input)?;
            request.topics = topics;
            input
        } else {
            let (input, names) =
                array(flexible, min_topic_name_bytes(version), string(flexible))(input)?;
            request.topic_names = names.into_iter().map(TopicName).collect();
            input
        };
        let (input, timeout_ms) = int32(input)?;
        let (input, unknown) = tag_buffer(input, flexible)?;
        request.timeout_ms = timeout_ms;
        request.unknown_tagged_fields = unknown;
        Ok((input, request))
    }
}
