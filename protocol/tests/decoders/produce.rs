use super::harness::*;
use kafka_protocol::messages::produce_request::{
    PartitionProduceData, ProduceRequest, TopicProduceData,
};
use kafka_protocol::messages::{ApiKey, TopicName, TransactionalId};
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

fn partition(version: i16) -> impl Strategy<Value = PartitionProduceData> {
    (
        any::<i32>(),
        proptest::option::of(bytes(64)),
        tags(version >= 9),
    )
        .prop_map(|(index, records, unknown)| {
            let mut p = PartitionProduceData::default();
            p.index = index;
            p.records = records;
            p.unknown_tagged_fields = unknown;
            p
        })
}

fn topic(version: i16) -> impl Strategy<Value = TopicProduceData> {
    (
        field(version <= 12, topic_name(), TopicName::default()),
        field(version >= 13, uuid(), uuid::Uuid::nil()),
        prop::collection::vec(partition(version), 0..3),
        tags(version >= 9),
    )
        .prop_map(|(name, topic_id, partition_data, unknown)| {
            let mut t = TopicProduceData::default();
            t.name = name;
            t.topic_id = topic_id;
            t.partition_data = partition_data;
            t.unknown_tagged_fields = unknown;
            t
        })
}

fn request(version: i16) -> impl Strategy<Value = ProduceRequest> {
    (
        proptest::option::of(text().prop_map(TransactionalId)),
        any::<i16>(),
        any::<i32>(),
        prop::collection::vec(topic(version), 0..3),
        tags(version >= 9),
    )
        .prop_map(
            |(transactional_id, acks, timeout_ms, topic_data, unknown)| {
                let mut r = ProduceRequest::default();
                r.transactional_id = transactional_id;
                r.acks = acks;
                r.timeout_ms = timeout_ms;
                r.topic_data = topic_data;
                r.unknown_tagged_fields = unknown;
                r
            },
        )
}

#[test]
fn produce_decodes_like_the_oracle() {
    let range = ApiKey::Produce.valid_versions();
    check_decoder::<ProduceRequest, _>(ApiKey::Produce, range.min..=range.max, 96, request);
}

#[test]
fn produce_partition_count_bomb_is_refused() {
    // v3: null transactional_id, acks, timeout, 1 topic "t", then 2^31-1 partitions.
    let mut body = vec![0xff, 0xff, 0, 1, 0, 0, 0, 10, 0, 0, 0, 1, 0, 1, b't'];
    body.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    let err = flatten(ProduceRequest::decode_body(&body, 3).unwrap_err());
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
fn produce_negative_records_length_is_refused() {
    // v3: one topic "t" with one partition whose records length is -2.
    let body = [
        0xff, 0xff, 0, 1, 0, 0, 0, 10, 0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff,
        0xff, 0xfe,
    ];
    let err = flatten(ProduceRequest::decode_body(&body, 3).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-2));
}

#[test]
fn produce_records_longer_than_body_are_truncated() {
    // v9 (compact): no transactional id, one topic "t", one partition claiming 1000 bytes.
    let body = [
        0x00, 0, 1, 0, 0, 0, 10, 2, 2, b't', 2, 0, 0, 0, 0, 0xe9, 0x07, 1, 2, 3,
    ];
    let err = flatten(ProduceRequest::decode_body(&body, 9).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}
