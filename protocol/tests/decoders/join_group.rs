//! JoinGroupRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::join_group_request::{JoinGroupRequest, JoinGroupRequestProtocol};
use kafka_protocol::messages::{ApiKey, GroupId};
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

use super::harness::*;

fn protocol(version: i16) -> impl Strategy<Value = JoinGroupRequestProtocol> {
    (text(), bytes(32), tags(version >= 6)).prop_map(|(name, metadata, unknown)| {
        let mut p = JoinGroupRequestProtocol::default();
        p.name = name;
        p.metadata = metadata;
        p.unknown_tagged_fields = unknown;
        p
    })
}

fn request(version: i16) -> impl Strategy<Value = JoinGroupRequest> {
    (
        (
            text().prop_map(GroupId),
            any::<i32>(),
            field(version >= 1, any::<i32>(), -1),
            text(),
            field(version >= 5, prop::option::of(text()), None),
        ),
        (
            text(),
            prop::collection::vec(protocol(version), 0..3),
            field(version >= 8, prop::option::of(text()), None),
            tags(version >= 6),
        ),
    )
        .prop_map(
            |(
                (group_id, session_timeout_ms, rebalance_timeout_ms, member_id, instance),
                (protocol_type, protocols, reason, unknown),
            )| {
                let mut r = JoinGroupRequest::default();
                r.group_id = group_id;
                r.session_timeout_ms = session_timeout_ms;
                r.rebalance_timeout_ms = rebalance_timeout_ms;
                r.member_id = member_id;
                r.group_instance_id = instance;
                r.protocol_type = protocol_type;
                r.protocols = protocols;
                r.reason = reason;
                r.unknown_tagged_fields = unknown;
                r
            },
        )
}

#[test]
fn join_group_decodes_like_the_oracle() {
    let range = ApiKey::JoinGroup.valid_versions();
    check_decoder::<JoinGroupRequest, _>(ApiKey::JoinGroup, range.min..=range.max, 96, request);
}

#[test]
fn join_group_protocol_count_larger_than_body_is_refused() {
    // v0: group "g", session timeout 1, member "", protocol type "c", then i32::MAX
    // protocols with 8 bytes left.
    let mut body = vec![
        0, 1, b'g', 0, 0, 0, 1, 0, 0, 0, 1, b'c', 0x7f, 0xff, 0xff, 0xff,
    ];
    body.extend_from_slice(&[0; 8]);
    let err = flatten(JoinGroupRequest::decode_body(&body, 0).unwrap_err());
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
fn join_group_negative_metadata_length_is_refused() {
    // v1: group "g", timeouts 0 and 0, member "", type "", one protocol "r" whose
    // metadata length is -2 (only -1 means null, and even that is not allowed here).
    let body = [
        0, 1, b'g', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // group, timeouts, member, type
        0, 0, 0, 1, 0, 1, b'r', // protocols: 1, name "r"
        0xff, 0xff, 0xff, 0xfe, 0, 0,
    ];
    let err = flatten(JoinGroupRequest::decode_body(&body, 1).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-2));
}

#[test]
fn join_group_null_metadata_is_refused() {
    // v6: group "g", timeouts, member "", instance id null (allowed), type "", one protocol
    // "r" with compact metadata 0 = null (not allowed).
    let body = [
        2, b'g', 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, // .. protocol_type
        2, 2, b'r', 0, 0, 0,
    ];
    let err = flatten(JoinGroupRequest::decode_body(&body, 6).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}
