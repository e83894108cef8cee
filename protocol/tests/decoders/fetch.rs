use super::harness::*;
use kafka_protocol::messages::fetch_request::{
    FetchPartition, FetchRequest, FetchTopic, ForgottenTopic, ReplicaState,
};
use kafka_protocol::messages::{ApiKey, BrokerId, TopicName};
use kafka_protocol::protocol::StrBytes;
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;
use uuid::Uuid;

/// Unknown tags for a struct that declares tags 0 and 1 (the oracle writes only 2..).
fn unknown_tags(flexible: bool) -> BoxedStrategy<std::collections::BTreeMap<i32, bytes::Bytes>> {
    tags(flexible)
        .prop_map(|mut m| {
            m.retain(|k, _| *k >= 2);
            m
        })
        .boxed()
}

fn partition(version: i16) -> impl Strategy<Value = FetchPartition> {
    (
        (
            any::<i32>(),
            field(version >= 9, any::<i32>(), -1),
            any::<i64>(),
            field(version >= 12, any::<i32>(), -1),
            field(version >= 5, any::<i64>(), -1),
            any::<i32>(),
        ),
        field(
            version >= 17,
            prop_oneof![Just(Uuid::nil()), uuid()],
            Uuid::nil(),
        ),
        field(
            version >= 18,
            prop_oneof![Just(i64::MAX), any::<i64>()],
            i64::MAX,
        ),
        unknown_tags(version >= 12),
    )
        .prop_map(
            |((partition, cle, offset, lfe, lso, max), dir, hw, unknown)| {
                let mut p = FetchPartition::default();
                p.partition = partition;
                p.current_leader_epoch = cle;
                p.fetch_offset = offset;
                p.last_fetched_epoch = lfe;
                p.log_start_offset = lso;
                p.partition_max_bytes = max;
                p.replica_directory_id = dir;
                p.high_watermark = hw;
                p.unknown_tagged_fields = unknown;
                p
            },
        )
}

fn topic(version: i16) -> impl Strategy<Value = FetchTopic> {
    (
        field(version <= 12, topic_name(), TopicName::default()),
        field(version >= 13, uuid(), Uuid::nil()),
        prop::collection::vec(partition(version), 0..3),
        tags(version >= 12),
    )
        .prop_map(|(name, topic_id, partitions, unknown)| {
            let mut t = FetchTopic::default();
            t.topic = name;
            t.topic_id = topic_id;
            t.partitions = partitions;
            t.unknown_tagged_fields = unknown;
            t
        })
}

fn forgotten(version: i16) -> impl Strategy<Value = ForgottenTopic> {
    (
        field(version <= 12, topic_name(), TopicName::default()),
        field(version >= 13, uuid(), Uuid::nil()),
        prop::collection::vec(any::<i32>(), 0..3),
        tags(version >= 12),
    )
        .prop_map(|(name, topic_id, partitions, unknown)| {
            let mut t = ForgottenTopic::default();
            t.topic = name;
            t.topic_id = topic_id;
            t.partitions = partitions;
            t.unknown_tagged_fields = unknown;
            t
        })
}

fn replica_state() -> impl Strategy<Value = ReplicaState> {
    let random = (any::<i32>(), any::<i64>(), tags(true)).prop_map(|(id, epoch, unknown)| {
        let mut s = ReplicaState::default();
        s.replica_id = BrokerId(id);
        s.replica_epoch = epoch;
        s.unknown_tagged_fields = unknown;
        s
    });
    prop_oneof![Just(ReplicaState::default()), random]
}

fn request(version: i16) -> impl Strategy<Value = FetchRequest> {
    (
        (
            field(version >= 12, proptest::option::of(text()), None),
            field(version <= 14, any::<i32>(), -1),
            field(version >= 15, replica_state(), ReplicaState::default()),
            any::<i32>(),
            any::<i32>(),
            any::<i32>(),
            any::<i8>(),
        ),
        (
            field(version >= 7, any::<i32>(), 0),
            field(version >= 7, any::<i32>(), -1),
            prop::collection::vec(topic(version), 0..3),
            field(
                version >= 7,
                prop::collection::vec(forgotten(version), 0..3),
                Vec::new(),
            ),
            field(version >= 11, text(), StrBytes::from_static_str("")),
            unknown_tags(version >= 12),
        ),
    )
        .prop_map(
            |(
                (cluster_id, replica_id, replica_state, max_wait, min_bytes, max_bytes, isolation),
                (session_id, session_epoch, topics, forgotten, rack_id, unknown),
            )| {
                let mut r = FetchRequest::default();
                r.cluster_id = cluster_id;
                r.replica_id = BrokerId(replica_id);
                r.replica_state = replica_state;
                r.max_wait_ms = max_wait;
                r.min_bytes = min_bytes;
                r.max_bytes = max_bytes;
                r.isolation_level = isolation;
                r.session_id = session_id;
                r.session_epoch = session_epoch;
                r.topics = topics;
                r.forgotten_topics_data = forgotten;
                r.rack_id = rack_id;
                r.unknown_tagged_fields = unknown;
                r
            },
        )
}

#[test]
fn fetch_decodes_like_the_oracle() {
    let range = ApiKey::Fetch.valid_versions();
    check_decoder::<FetchRequest, _>(ApiKey::Fetch, range.min..=range.max, 96, request);
}

/// The fixed prefix of a v4 request: replica_id, max_wait, min_bytes, max_bytes, isolation.
const V4_PREFIX: [u8; 17] = [
    0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0x10, 0, 0,
];

#[test]
fn fetch_topic_count_bomb_is_refused() {
    let mut body = V4_PREFIX.to_vec();
    body.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff, 0, 1, b't', 0, 0, 0, 0]);
    let err = flatten(FetchRequest::decode_body(&body, 4).unwrap_err());
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
fn fetch_negative_partition_count_is_refused() {
    let mut body = V4_PREFIX.to_vec();
    body.extend_from_slice(&[0, 0, 0, 1, 0, 1, b't', 0xff, 0xff, 0xff, 0xf0]);
    let err = flatten(FetchRequest::decode_body(&body, 4).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-16));
}

/// A v15 body up to its tag buffer: max_wait, min_bytes, max_bytes, isolation, session id
/// and epoch, no topics, no forgotten topics, empty rack id.
fn v15_untagged() -> Vec<u8> {
    let mut body = vec![0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0x10, 0, 0];
    body.extend_from_slice(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 1, 1]);
    body
}

#[test]
fn fetch_known_tags_decode_into_their_fields() {
    let mut body = v15_untagged();
    // Two tags: cluster_id "ab" (tag 0), replica_state {7, 9} (tag 1).
    body.extend_from_slice(&[2, 0, 3, 3, b'a', b'b', 1, 13, 0, 0, 0, 7]);
    body.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 9, 0]);
    let (rest, r) = FetchRequest::decode_body(&body, 15).unwrap();
    assert!(rest.is_empty());
    assert_eq!(r.cluster_id.as_deref(), Some("ab"));
    assert_eq!(r.replica_state.replica_id, BrokerId(7));
    assert_eq!(r.replica_state.replica_epoch, 9);
    assert!(r.unknown_tagged_fields.is_empty());
}

#[test]
fn fetch_truncated_replica_state_tag_is_refused() {
    let mut body = v15_untagged();
    // Tag 1 claims 13 bytes but holds only a 4-byte replica id: the nested parse runs short.
    body.extend_from_slice(&[1, 1, 4, 0, 0, 0, 7]);
    let err = flatten(FetchRequest::decode_body(&body, 15).unwrap_err());
    assert_eq!(err, WireError::Truncated);
    // And a tag whose size runs past the body.
    let mut body = v15_untagged();
    body.extend_from_slice(&[1, 1, 13, 0, 0]);
    let err = flatten(FetchRequest::decode_body(&body, 15).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}
