//! OffsetFetchRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequest, OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::{ApiKey, GroupId};
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

use super::harness::*;

/// The crate's `OffsetFetchRequest` encodes 1-9; `ApiKey::OffsetFetch` says 1-10 (v10
/// identifies topics by id, which the struct's `topic_id` has no versions for).
const MAX_VERSION: i16 = 9;

fn topic(version: i16) -> impl Strategy<Value = OffsetFetchRequestTopic> {
    (
        topic_name(),
        prop::collection::vec(any::<i32>(), 0..4),
        tags(version >= 6),
    )
        .prop_map(|(name, partition_indexes, unknown)| {
            let mut t = OffsetFetchRequestTopic::default();
            t.name = name;
            t.partition_indexes = partition_indexes;
            t.unknown_tagged_fields = unknown;
            t
        })
}

fn group_topic() -> impl Strategy<Value = OffsetFetchRequestTopics> {
    (
        topic_name(),
        prop::collection::vec(any::<i32>(), 0..4),
        tags(true),
    )
        .prop_map(|(name, partition_indexes, unknown)| {
            let mut t = OffsetFetchRequestTopics::default();
            t.name = name;
            t.partition_indexes = partition_indexes;
            t.unknown_tagged_fields = unknown;
            t
        })
}

fn group(version: i16) -> impl Strategy<Value = OffsetFetchRequestGroup> {
    (
        text().prop_map(GroupId),
        field(version >= 9, prop::option::of(text()), None),
        field(version >= 9, any::<i32>(), -1),
        prop::option::of(prop::collection::vec(group_topic(), 0..3)),
        tags(true),
    )
        .prop_map(|(group_id, member_id, member_epoch, topics, unknown)| {
            let mut g = OffsetFetchRequestGroup::default();
            g.group_id = group_id;
            g.member_id = member_id;
            g.member_epoch = member_epoch;
            g.topics = topics;
            g.unknown_tagged_fields = unknown;
            g
        })
}

/// The top-level topics: never null in v1, null ("all topics") or not in v2-7, absent (the
/// struct's default, `Some([])`) from v8.
fn topics(version: i16) -> BoxedStrategy<Option<Vec<OffsetFetchRequestTopic>>> {
    let list = prop::collection::vec(topic(version), 0..3);
    match version {
        ..=1 => list.prop_map(Some).boxed(),
        2..=7 => prop::option::of(list).boxed(),
        _ => Just(Some(Vec::new())).boxed(),
    }
}

fn request(version: i16) -> impl Strategy<Value = OffsetFetchRequest> {
    (
        field(version <= 7, text().prop_map(GroupId), GroupId::default()),
        topics(version),
        field(
            version >= 8,
            prop::collection::vec(group(version), 0..3),
            Vec::new(),
        ),
        field(version >= 7, any::<bool>(), false),
        tags(version >= 6),
    )
        .prop_map(|(group_id, topics, groups, require_stable, unknown)| {
            let mut r = OffsetFetchRequest::default();
            r.group_id = group_id;
            r.topics = topics;
            r.groups = groups;
            r.require_stable = require_stable;
            r.unknown_tagged_fields = unknown;
            r
        })
}

#[test]
fn offset_fetch_decodes_like_the_oracle() {
    let range = ApiKey::OffsetFetch.valid_versions();
    check_decoder::<OffsetFetchRequest, _>(
        ApiKey::OffsetFetch,
        range.min..=MAX_VERSION,
        96,
        request,
    );
}

#[test]
fn offset_fetch_null_topics_means_all_from_v2_only() {
    // Group "g", topics count -1.
    let body = [0, 1, b'g', 0xff, 0xff, 0xff, 0xff];
    // v1 predates "null = all topics" (the oracle would accept it; the schema does not).
    let err = flatten(OffsetFetchRequest::decode_body(&body, 1).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
    let (rest, r) = OffsetFetchRequest::decode_body(&body, 2).unwrap();
    assert!(rest.is_empty());
    assert_eq!(r.topics, None);
    // v6 compact: group "g", topics 0 = null, tag buffer.
    let (rest, r) = OffsetFetchRequest::decode_body(&[2, b'g', 0, 0], 6).unwrap();
    assert!(rest.is_empty());
    assert_eq!(r.topics, None);
}

#[test]
fn offset_fetch_group_count_larger_than_body_is_refused() {
    // v8: groups compact count u32::MAX - 1, then 4 bytes.
    let body = [0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0];
    let err = flatten(OffsetFetchRequest::decode_body(&body, 8).unwrap_err());
    assert!(
        matches!(err, WireError::CountExceedsRemaining { .. }),
        "{err:?}"
    );
}

#[test]
fn offset_fetch_partition_count_larger_than_body_is_refused() {
    // v3: group "g", one topic "t" claiming 1000 partitions with 8 bytes left.
    let body = [
        0, 1, b'g', 0, 0, 0, 1, 0, 1, b't', 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let err = flatten(OffsetFetchRequest::decode_body(&body, 3).unwrap_err());
    assert!(
        matches!(err, WireError::CountExceedsRemaining { count: 1000, .. }),
        "{err:?}"
    );
}

#[test]
fn offset_fetch_null_group_id_is_refused() {
    // v9: one group with compact id 0 = null, member id null (fine), epoch, topics null.
    let body = [2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    let err = flatten(OffsetFetchRequest::decode_body(&body, 9).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}
