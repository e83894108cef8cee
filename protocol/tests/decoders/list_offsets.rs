use super::harness::*;
use kafka_protocol::messages::list_offsets_request::{
    ListOffsetsPartition, ListOffsetsRequest, ListOffsetsTopic,
};
use kafka_protocol::messages::{ApiKey, BrokerId};
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

fn partition(version: i16) -> impl Strategy<Value = ListOffsetsPartition> {
    (
        any::<i32>(),
        field(version >= 4, any::<i32>(), -1),
        any::<i64>(),
        tags(version >= 6),
    )
        .prop_map(|(index, epoch, timestamp, unknown)| {
            let mut p = ListOffsetsPartition::default();
            p.partition_index = index;
            p.current_leader_epoch = epoch;
            p.timestamp = timestamp;
            p.unknown_tagged_fields = unknown;
            p
        })
}

fn topic(version: i16) -> impl Strategy<Value = ListOffsetsTopic> {
    (
        topic_name(),
        prop::collection::vec(partition(version), 0..3),
        tags(version >= 6),
    )
        .prop_map(|(name, partitions, unknown)| {
            let mut t = ListOffsetsTopic::default();
            t.name = name;
            t.partitions = partitions;
            t.unknown_tagged_fields = unknown;
            t
        })
}

fn request(version: i16) -> impl Strategy<Value = ListOffsetsRequest> {
    (
        any::<i32>(),
        field(version >= 2, any::<i8>(), 0),
        prop::collection::vec(topic(version), 0..3),
        field(version >= 10, any::<i32>(), 0),
        tags(version >= 6),
    )
        .prop_map(|(replica_id, isolation, topics, timeout_ms, unknown)| {
            let mut r = ListOffsetsRequest::default();
            r.replica_id = BrokerId(replica_id);
            r.isolation_level = isolation;
            r.topics = topics;
            r.timeout_ms = timeout_ms;
            r.unknown_tagged_fields = unknown;
            r
        })
}

#[test]
fn list_offsets_decodes_like_the_oracle() {
    let range = ApiKey::ListOffsets.valid_versions();
    check_decoder::<ListOffsetsRequest, _>(ApiKey::ListOffsets, range.min..=range.max, 96, request);
}

#[test]
fn list_offsets_topic_count_bomb_is_refused() {
    // v6 (compact): replica -1, isolation 0, then a topic count of u32::MAX - 1.
    let body = [
        0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 2, b't', 1, 0, 0,
    ];
    let err = flatten(ListOffsetsRequest::decode_body(&body, 6).unwrap_err());
    assert!(
        matches!(
            err,
            WireError::CountExceedsRemaining {
                count: 4_294_967_294,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn list_offsets_negative_name_length_is_refused() {
    // v1: replica 0, one topic whose name length is -5.
    let body = [0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xfb, 0, 0, 0, 0];
    let err = flatten(ListOffsetsRequest::decode_body(&body, 1).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-5));
}

#[test]
fn list_offsets_truncated_tag_buffer_is_refused() {
    // v6: no topics, then a tag buffer with one field claiming 9 bytes, 1 present.
    let body = [0, 0, 0, 0, 0, 1, 1, 5, 9, 0xaa];
    let err = flatten(ListOffsetsRequest::decode_body(&body, 6).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}
