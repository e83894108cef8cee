//! DescribeQuorumRequest: differential test against the oracle, and hostile inputs.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::describe_quorum_request::{
    DescribeQuorumRequest, PartitionData, TopicData,
};
use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::{Decodable, Encodable};
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::harness::*;

fn partition() -> impl Strategy<Value = PartitionData> {
    (any::<i32>(), tags(true)).prop_map(|(index, tags)| {
        PartitionData::default()
            .with_partition_index(index)
            .with_unknown_tagged_fields(tags)
    })
}

fn topic() -> impl Strategy<Value = TopicData> {
    (
        topic_name(),
        prop::collection::vec(partition(), 0..3),
        tags(true),
    )
        .prop_map(|(name, partitions, tags)| {
            TopicData::default()
                .with_topic_name(name)
                .with_partitions(partitions)
                .with_unknown_tagged_fields(tags)
        })
}

/// Every version is flexible and has the same fields; only the response differs.
fn request(_version: i16) -> impl Strategy<Value = DescribeQuorumRequest> {
    (prop::collection::vec(topic(), 0..3), tags(true)).prop_map(|(topics, tags)| {
        DescribeQuorumRequest::default()
            .with_topics(topics)
            .with_unknown_tagged_fields(tags)
    })
}

#[test]
fn describe_quorum_decodes_like_the_oracle() {
    let range = ApiKey::DescribeQuorum.valid_versions();
    assert_eq!((range.min, range.max), (0, 2));
    check_decoder::<DescribeQuorumRequest, _>(
        ApiKey::DescribeQuorum,
        range.min..=range.max,
        128,
        request,
    );
}

#[test]
fn describe_quorum_garbage_never_panics_and_agrees_with_the_oracle() {
    // Arbitrary bytes: ours may refuse them, must not panic, and whatever it accepts the
    // oracle must read from the same bytes as the same request.
    let mut runner = TestRunner::new(Config {
        cases: 512,
        ..Config::default()
    });
    let strategy = (0i16..=2, prop::collection::vec(any::<u8>(), 0..48));
    runner
        .run(&strategy, |(version, body)| {
            if let Ok((rest, decoded)) = DescribeQuorumRequest::decode_body(&body, version) {
                let consumed = body.len() - rest.len();
                let mut oracle_input = Bytes::copy_from_slice(&body[..consumed]);
                let oracle = DescribeQuorumRequest::decode(&mut oracle_input, version)
                    .map_err(|e| TestCaseError::fail(format!("oracle refused: {e}")))?;
                prop_assert_eq!(decoded, oracle, "v{}", version);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("DescribeQuorum garbage: {e}"));
}

#[test]
fn describe_quorum_mutated_encodings_never_panic_and_agree_with_the_oracle() {
    // A valid encoding with one byte overwritten reaches deeper than random bytes do.
    let mut runner = TestRunner::new(Config {
        cases: 512,
        ..Config::default()
    });
    let strategy = (0i16..=2)
        .prop_flat_map(|version| (Just(version), request(version), any::<usize>(), any::<u8>()));
    runner
        .run(&strategy, |(version, request, at, byte)| {
            let mut buf = BytesMut::new();
            request
                .encode(&mut buf, version)
                .map_err(|e| TestCaseError::reject(format!("oracle refused to encode: {e}")))?;
            let len = buf.len();
            buf[at % len] = byte;
            let body = buf.freeze();
            if let Ok((rest, decoded)) = DescribeQuorumRequest::decode_body(&body, version) {
                let mut oracle_input = body.slice(..body.len() - rest.len());
                let oracle = DescribeQuorumRequest::decode(&mut oracle_input, version)
                    .map_err(|e| TestCaseError::fail(format!("oracle refused: {e}")))?;
                prop_assert_eq!(decoded, oracle, "v{}", version);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("DescribeQuorum mutated: {e}"));
}

#[test]
fn describe_quorum_partition_count_larger_than_body_is_refused() {
    // v0: one topic "t" claiming 2^31 - 2 partitions (compact count 2^31 - 1), 8 bytes left.
    let mut body = vec![2, 2, b't', 0xff, 0xff, 0xff, 0xff, 0x07];
    body.extend_from_slice(&[0; 8]);
    let err = flatten(DescribeQuorumRequest::decode_body(&body, 0).unwrap_err());
    assert!(
        matches!(
            err,
            WireError::CountExceedsRemaining {
                count: 2_147_483_646,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn describe_quorum_null_topics_is_refused() {
    // v1: compact topics count 0 = null, which the schema does not allow.
    let body = [0, 0];
    let err = flatten(DescribeQuorumRequest::decode_body(&body, 1).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}

#[test]
fn describe_quorum_null_topic_name_is_refused() {
    // v2: one topic whose compact name length is 0 = null.
    let body = [2, 0, 1, 0, 0];
    let err = flatten(DescribeQuorumRequest::decode_body(&body, 2).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}

#[test]
fn describe_quorum_invalid_utf8_topic_name_is_refused() {
    // v2: one topic whose 1-byte name is 0xff.
    let body = [2, 2, 0xff, 1, 0, 0];
    let err = flatten(DescribeQuorumRequest::decode_body(&body, 2).unwrap_err());
    assert_eq!(err, WireError::InvalidUtf8);
}

#[test]
fn describe_quorum_missing_tag_buffer_is_refused() {
    // v0: every version is flexible, so the TAG_BUFFER is mandatory.
    let body = [1];
    let err = flatten(DescribeQuorumRequest::decode_body(&body, 0).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}

#[test]
fn describe_quorum_truncated_partition_tagged_field_is_refused() {
    // v0: one topic "t" with one partition (index 1) whose one tagged field (tag 0) claims
    // 9 bytes with 1 present.
    let body = [2, 2, b't', 2, 0, 0, 0, 1, 1, 0, 9, 0xaa];
    let err = flatten(DescribeQuorumRequest::decode_body(&body, 0).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}
