//! DeleteRecordsRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsRequest, DeleteRecordsTopic,
};
use kafka_protocol::messages::ApiKey;
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;

use proptest::prelude::*;

use super::harness::*;

fn partition(version: i16) -> impl Strategy<Value = DeleteRecordsPartition> {
    (any::<i32>(), any::<i64>(), tags(version >= 2)).prop_map(|(index, offset, tags)| {
        DeleteRecordsPartition::default()
            .with_partition_index(index)
            .with_offset(offset)
            .with_unknown_tagged_fields(tags)
    })
}

fn topic(version: i16) -> impl Strategy<Value = DeleteRecordsTopic> {
    (
        topic_name(),
        prop::collection::vec(partition(version), 0..3),
        tags(version >= 2),
    )
        .prop_map(|(name, partitions, tags)| {
            DeleteRecordsTopic::default()
                .with_name(name)
                .with_partitions(partitions)
                .with_unknown_tagged_fields(tags)
        })
}

fn request(version: i16) -> impl Strategy<Value = DeleteRecordsRequest> {
    (
        prop::collection::vec(topic(version), 0..3),
        any::<i32>(),
        tags(version >= 2),
    )
        .prop_map(|(topics, timeout_ms, tags)| {
            DeleteRecordsRequest::default()
                .with_topics(topics)
                .with_timeout_ms(timeout_ms)
                .with_unknown_tagged_fields(tags)
        })
}

#[test]
fn delete_records_decodes_like_the_oracle() {
    let range = ApiKey::DeleteRecords.valid_versions();
    check_decoder::<DeleteRecordsRequest, _>(
        ApiKey::DeleteRecords,
        range.min..=range.max,
        96,
        request,
    );
}

#[test]
fn delete_records_partition_count_larger_than_body_is_refused() {
    // v1: one topic "t" claiming i32::MAX partitions, 16 bytes left.
    let mut body = vec![0, 0, 0, 1, 0, 1, b't', 0x7f, 0xff, 0xff, 0xff];
    body.extend_from_slice(&[0; 16]);
    let err = flatten(DeleteRecordsRequest::decode_body(&body, 1).unwrap_err());
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
fn delete_records_negative_topic_count_is_refused() {
    // v0: topics count -5.
    let body = [0xff, 0xff, 0xff, 0xfb, 0, 0, 0, 0];
    let err = flatten(DeleteRecordsRequest::decode_body(&body, 0).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-5));
}

#[test]
fn delete_records_null_topics_is_refused() {
    // v2: compact topics count 0 = null, which the schema does not allow.
    let body = [0, 0, 0, 0, 0, 0];
    let err = flatten(DeleteRecordsRequest::decode_body(&body, 2).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}
