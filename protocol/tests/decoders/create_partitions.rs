//! CreatePartitionsRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsRequest, CreatePartitionsTopic,
};
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::BrokerId;
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;

use proptest::prelude::*;

use super::harness::*;

fn assignment(version: i16) -> impl Strategy<Value = CreatePartitionsAssignment> {
    (
        prop::collection::vec(any::<i32>().prop_map(BrokerId), 0..3),
        tags(version >= 2),
    )
        .prop_map(|(broker_ids, tags)| {
            CreatePartitionsAssignment::default()
                .with_broker_ids(broker_ids)
                .with_unknown_tagged_fields(tags)
        })
}

fn topic(version: i16) -> impl Strategy<Value = CreatePartitionsTopic> {
    (
        topic_name(),
        any::<i32>(),
        prop::option::of(prop::collection::vec(assignment(version), 0..3)),
        tags(version >= 2),
    )
        .prop_map(|(name, count, assignments, tags)| {
            CreatePartitionsTopic::default()
                .with_name(name)
                .with_count(count)
                .with_assignments(assignments)
                .with_unknown_tagged_fields(tags)
        })
}

fn request(version: i16) -> impl Strategy<Value = CreatePartitionsRequest> {
    (
        prop::collection::vec(topic(version), 0..3),
        any::<i32>(),
        any::<bool>(),
        tags(version >= 2),
    )
        .prop_map(|(topics, timeout_ms, validate_only, tags)| {
            CreatePartitionsRequest::default()
                .with_topics(topics)
                .with_timeout_ms(timeout_ms)
                .with_validate_only(validate_only)
                .with_unknown_tagged_fields(tags)
        })
}

#[test]
fn create_partitions_decodes_like_the_oracle() {
    let range = ApiKey::CreatePartitions.valid_versions();
    check_decoder::<CreatePartitionsRequest, _>(
        ApiKey::CreatePartitions,
        range.min..=range.max,
        96,
        request,
    );
}

#[test]
fn create_partitions_negative_assignments_count_is_refused() {
    // v1: one topic "t", count 3, assignments count -2.
    let body = [
        0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0,
    ];
    let err = flatten(CreatePartitionsRequest::decode_body(&body, 1).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-2));
}

#[test]
fn create_partitions_assignment_count_larger_than_body_is_refused() {
    // v0: one topic "t", count 3, i32::MAX assignments, 8 bytes left.
    let body = [
        0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 3, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let err = flatten(CreatePartitionsRequest::decode_body(&body, 0).unwrap_err());
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
fn create_partitions_truncated_tagged_field_is_refused() {
    // v3: no topics, timeout, validate_only, one tagged field claiming 100 bytes, 3 present.
    let body = [1, 0, 0, 0, 0, 0, 1, 5, 100, 1, 2, 3];
    let err = flatten(CreatePartitionsRequest::decode_body(&body, 3).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}
