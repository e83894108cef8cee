//! DescribeLogDirsRequest: differential test against the oracle, and hostile inputs.

use super::harness::*;
use kafka_protocol::messages::describe_log_dirs_request::{
    DescribableLogDirTopic, DescribeLogDirsRequest,
};
use kafka_protocol::messages::ApiKey;
use petrel_protocol::error::{flatten, WireError};
use petrel_protocol::messages::DecodeBody;
use proptest::prelude::*;

fn topic(version: i16) -> impl Strategy<Value = DescribableLogDirTopic> {
    let flexible = version >= 2;
    (
        topic_name(),
        prop::collection::vec(any::<i32>(), 0..3),
        tags(flexible),
    )
        .prop_map(|(name, partitions, unknown)| {
            DescribableLogDirTopic::default()
                .with_topic(name)
                .with_partitions(partitions)
                .with_unknown_tagged_fields(unknown)
        })
}

fn request(version: i16) -> impl Strategy<Value = DescribeLogDirsRequest> {
    let flexible = version >= 2;
    (
        // topics is nullable in every version (null = all topics).
        prop::option::of(prop::collection::vec(topic(version), 0..3)),
        tags(flexible),
    )
        .prop_map(|(topics, unknown)| {
            DescribeLogDirsRequest::default()
                .with_topics(topics)
                .with_unknown_tagged_fields(unknown)
        })
}

#[test]
fn describe_log_dirs_decodes_like_the_oracle() {
    let range = ApiKey::DescribeLogDirs.valid_versions();
    check_decoder::<DescribeLogDirsRequest, _>(
        ApiKey::DescribeLogDirs,
        range.min..=range.max,
        128,
        request,
    );
}

#[test]
fn describe_log_dirs_null_topics_decode() {
    // v1: topics null (-1) means all topics.
    let (rest, request) =
        DescribeLogDirsRequest::decode_body(&[0xff, 0xff, 0xff, 0xff], 1).unwrap();
    assert!(rest.is_empty());
    assert_eq!(request.topics, None);
    // v2: compact null (0) and an empty tag buffer.
    let (rest, request) = DescribeLogDirsRequest::decode_body(&[0x00, 0x00], 2).unwrap();
    assert!(rest.is_empty());
    assert_eq!(request.topics, None);
}

#[test]
fn describe_log_dirs_partition_count_bomb_is_refused() {
    // v1: one topic "t", partitions count i32::MAX with 8 bytes behind it.
    let body = [
        0, 0, 0, 1, 0, 1, b't', 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 2,
    ];
    let err = flatten(DescribeLogDirsRequest::decode_body(&body, 1).unwrap_err());
    assert!(
        matches!(
            err,
            WireError::CountExceedsRemaining {
                count: 2_147_483_647,
                remaining_bytes: 8,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn describe_log_dirs_truncated_tagged_field_is_refused() {
    // v3: one topic "t" with no partitions, then its tag buffer: one field claiming 5 bytes.
    let body = [0x02, 0x02, b't', 0x01, 0x01, 0x03, 0x05, 1];
    let err = flatten(DescribeLogDirsRequest::decode_body(&body, 3).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}
