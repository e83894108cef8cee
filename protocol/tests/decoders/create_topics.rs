//! CreateTopicsRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig, CreateTopicsRequest,
};
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::BrokerId;
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;

use proptest::prelude::*;

use super::harness::*;

fn assignment(version: i16) -> impl Strategy<Value = CreatableReplicaAssignment> {
    (
        any::<i32>(),
        prop::collection::vec(any::<i32>().prop_map(BrokerId), 0..3),
        tags(version >= 5),
    )
        .prop_map(|(partition_index, broker_ids, tags)| {
            CreatableReplicaAssignment::default()
                .with_partition_index(partition_index)
                .with_broker_ids(broker_ids)
                .with_unknown_tagged_fields(tags)
        })
}

fn config(version: i16) -> impl Strategy<Value = CreatableTopicConfig> {
    (text(), prop::option::of(text()), tags(version >= 5)).prop_map(|(name, value, tags)| {
        CreatableTopicConfig::default()
            .with_name(name)
            .with_value(value)
            .with_unknown_tagged_fields(tags)
    })
}

fn topic(version: i16) -> impl Strategy<Value = CreatableTopic> {
    (
        topic_name(),
        any::<i32>(),
        any::<i16>(),
        prop::collection::vec(assignment(version), 0..3),
        prop::collection::vec(config(version), 0..3),
        tags(version >= 5),
    )
        .prop_map(
            |(name, num_partitions, replication_factor, assignments, configs, tags)| {
                CreatableTopic::default()
                    .with_name(name)
                    .with_num_partitions(num_partitions)
                    .with_replication_factor(replication_factor)
                    .with_assignments(assignments)
                    .with_configs(configs)
                    .with_unknown_tagged_fields(tags)
            },
        )
}

fn request(version: i16) -> impl Strategy<Value = CreateTopicsRequest> {
    (
        prop::collection::vec(topic(version), 0..3),
        any::<i32>(),
        any::<bool>(),
        tags(version >= 5),
    )
        .prop_map(|(topics, timeout_ms, validate_only, tags)| {
            CreateTopicsRequest::default()
                .with_topics(topics)
                .with_timeout_ms(timeout_ms)
                .with_validate_only(validate_only)
                .with_unknown_tagged_fields(tags)
        })
}

#[test]
fn create_topics_decodes_like_the_oracle() {
    let range = ApiKey::CreateTopics.valid_versions();
    check_decoder::<CreateTopicsRequest, _>(
        ApiKey::CreateTopics,
        range.min..=range.max,
        96,
        request,
    );
}

#[test]
fn create_topics_topic_count_larger_than_body_is_refused() {
    // v4 (legacy): topics count i32::MAX, then 6 bytes.
    let body = [0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0];
    let err = flatten(CreateTopicsRequest::decode_body(&body, 4).unwrap_err());
    assert!(
        matches!(
            err,
            WireError::CountExceedsRemaining {
                count: 2_147_483_647,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn create_topics_broker_id_count_larger_than_body_is_refused() {
    // v7: one topic "t", 1 partition, rf 1, one assignment (partition 0) claiming
    // 2^32 - 2 broker ids with 4 bytes left.
    let body = [
        2, // topics: 1
        2, b't', 0, 0, 0, 1, 0, 1, // name, num_partitions, replication_factor
        2, 0, 0, 0, 0, // assignments: 1, partition_index 0
        0xff, 0xff, 0xff, 0xff, 0x0f, // broker_ids: compact count u32::MAX - 1
        0, 0, 0, 0,
    ];
    let err = flatten(CreateTopicsRequest::decode_body(&body, 7).unwrap_err());
    assert!(
        matches!(err, WireError::CountExceedsRemaining { .. }),
        "{err:?}"
    );
}

#[test]
fn create_topics_negative_config_name_length_is_refused() {
    // v2: one topic "t", -1 partitions, -1 rf, no assignments, one config with name length -2.
    let body = [
        0, 0, 0, 1, // topics: 1
        0, 1, b't', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // name, num_partitions, rf
        0, 0, 0, 0, // assignments: 0
        0, 0, 0, 1, // configs: 1
        0xff, 0xfe, 0, 0, 0, 0, 0, 0,
    ];
    let err = flatten(CreateTopicsRequest::decode_body(&body, 2).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-2));
}
