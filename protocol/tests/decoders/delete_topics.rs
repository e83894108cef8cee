//! DeleteTopicsRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::delete_topics_request::{DeleteTopicState, DeleteTopicsRequest};
use kafka_protocol::messages::ApiKey;
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;

use proptest::prelude::*;

use super::harness::*;

fn topic_state() -> impl Strategy<Value = DeleteTopicState> {
    (prop::option::of(topic_name()), uuid(), tags(true)).prop_map(|(name, topic_id, tags)| {
        DeleteTopicState::default()
            .with_name(name)
            .with_topic_id(topic_id)
            .with_unknown_tagged_fields(tags)
    })
}

fn request(version: i16) -> impl Strategy<Value = DeleteTopicsRequest> {
    (
        field(
            version >= 6,
            prop::collection::vec(topic_state(), 0..3),
            Vec::new(),
        ),
        field(
            version <= 5,
            prop::collection::vec(topic_name(), 0..3),
            Vec::new(),
        ),
        any::<i32>(),
        tags(version >= 4),
    )
        .prop_map(|(topics, topic_names, timeout_ms, tags)| {
            DeleteTopicsRequest::default()
                .with_topics(topics)
                .with_topic_names(topic_names)
                .with_timeout_ms(timeout_ms)
                .with_unknown_tagged_fields(tags)
        })
}

#[test]
fn delete_topics_decodes_like_the_oracle() {
    let range = ApiKey::DeleteTopics.valid_versions();
    check_decoder::<DeleteTopicsRequest, _>(
        ApiKey::DeleteTopics,
        range.min..=range.max,
        96,
        request,
    );
}

#[test]
fn delete_topics_state_count_larger_than_body_is_refused() {
    // v6: 1000 topic states claimed (compact 1001 = 0xe9 0x07), 20 bytes present: each
    // needs at least 18.
    let mut body = vec![0xe9, 0x07];
    body.extend_from_slice(&[0; 20]);
    let err = flatten(DeleteTopicsRequest::decode_body(&body, 6).unwrap_err());
    assert!(
        matches!(err, WireError::CountExceedsRemaining { count: 1000, .. }),
        "{err:?}"
    );
}

#[test]
fn delete_topics_null_or_negative_topic_name_is_refused() {
    // v1: one topic name of length -1 (null, not allowed in topic_names).
    let body = [0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0];
    let err = flatten(DeleteTopicsRequest::decode_body(&body, 1).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
    // v3: length -3.
    let body = [0, 0, 0, 1, 0xff, 0xfd, 0, 0, 0, 0];
    let err = flatten(DeleteTopicsRequest::decode_body(&body, 3).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-3));
}

#[test]
fn delete_topics_truncated_topic_id_is_refused() {
    // v6: one topic state named "abc" whose id is cut after 14 of its 16 bytes (enough
    // bytes for the count check, not for the struct).
    let mut body = vec![2, 4, b'a', b'b', b'c'];
    body.extend_from_slice(&[7; 14]);
    let err = flatten(DeleteTopicsRequest::decode_body(&body, 6).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}
