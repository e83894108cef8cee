//! OffsetDeleteRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequest, OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::{ApiKey, GroupId};
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

use super::harness::*;

fn partition() -> impl Strategy<Value = OffsetDeleteRequestPartition> {
    any::<i32>().prop_map(|index| {
        let mut p = OffsetDeleteRequestPartition::default();
        p.partition_index = index;
        p
    })
}

fn topic() -> impl Strategy<Value = OffsetDeleteRequestTopic> {
    (topic_name(), prop::collection::vec(partition(), 0..4)).prop_map(|(name, partitions)| {
        let mut t = OffsetDeleteRequestTopic::default();
        t.name = name;
        t.partitions = partitions;
        t
    })
}

fn request(_version: i16) -> impl Strategy<Value = OffsetDeleteRequest> {
    (
        text().prop_map(GroupId),
        prop::collection::vec(topic(), 0..3),
    )
        .prop_map(|(group_id, topics)| {
            let mut r = OffsetDeleteRequest::default();
            r.group_id = group_id;
            r.topics = topics;
            r
        })
}

#[test]
fn offset_delete_decodes_like_the_oracle() {
    let range = ApiKey::OffsetDelete.valid_versions();
    check_decoder::<OffsetDeleteRequest, _>(
        ApiKey::OffsetDelete,
        range.min..=range.max,
        256,
        request,
    );
}

#[test]
fn offset_delete_partition_count_larger_than_body_is_refused() {
    // Group "g", one topic "t" claiming 3 partitions with 8 bytes left.
    let body = [
        0, 1, b'g', 0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2,
    ];
    let err = flatten(OffsetDeleteRequest::decode_body(&body, 0).unwrap_err());
    assert!(
        matches!(
            err,
            WireError::CountExceedsRemaining {
                count: 3,
                needed_bytes: 12,
                remaining_bytes: 8
            }
        ),
        "{err:?}"
    );
}

#[test]
fn offset_delete_negative_topic_name_length_is_refused() {
    // Group "g", one topic whose name length is -3.
    let body = [0, 1, b'g', 0, 0, 0, 1, 0xff, 0xfd, 0, 0, 0, 0];
    let err = flatten(OffsetDeleteRequest::decode_body(&body, 0).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-3));
}

#[test]
fn offset_delete_null_group_id_is_refused() {
    // Group id length -1 (null), then an empty topic list.
    let body = [0xff, 0xff, 0, 0, 0, 0];
    let err = flatten(OffsetDeleteRequest::decode_body(&body, 0).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}
