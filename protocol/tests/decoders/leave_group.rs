//! LeaveGroupRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::leave_group_request::{LeaveGroupRequest, MemberIdentity};
use kafka_protocol::messages::{ApiKey, GroupId};
use kafka_protocol::protocol::StrBytes;
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

use super::harness::*;

fn member(version: i16) -> impl Strategy<Value = MemberIdentity> {
    (
        text(),
        prop::option::of(text()),
        field(version >= 5, prop::option::of(text()), None),
        tags(version >= 4),
    )
        .prop_map(|(member_id, instance, reason, unknown)| {
            let mut m = MemberIdentity::default();
            m.member_id = member_id;
            m.group_instance_id = instance;
            m.reason = reason;
            m.unknown_tagged_fields = unknown;
            m
        })
}

fn request(version: i16) -> impl Strategy<Value = LeaveGroupRequest> {
    (
        text().prop_map(GroupId),
        field(version <= 2, text(), StrBytes::from_static_str("")),
        field(
            version >= 3,
            prop::collection::vec(member(version), 0..4),
            Vec::new(),
        ),
        tags(version >= 4),
    )
        .prop_map(|(group_id, member_id, members, unknown)| {
            let mut r = LeaveGroupRequest::default();
            r.group_id = group_id;
            r.member_id = member_id;
            r.members = members;
            r.unknown_tagged_fields = unknown;
            r
        })
}

#[test]
fn leave_group_decodes_like_the_oracle() {
    let range = ApiKey::LeaveGroup.valid_versions();
    check_decoder::<LeaveGroupRequest, _>(ApiKey::LeaveGroup, range.min..=range.max, 128, request);
}

#[test]
fn leave_group_member_count_larger_than_body_is_refused() {
    // v3: group "g", then i32::MAX members with 8 bytes left.
    let body = [0, 1, b'g', 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0];
    let err = flatten(LeaveGroupRequest::decode_body(&body, 3).unwrap_err());
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
fn leave_group_null_member_ids_are_refused() {
    // v0: group "g", member id length -1 (null).
    let err = flatten(LeaveGroupRequest::decode_body(&[0, 1, b'g', 0xff, 0xff], 0).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
    // v5: group "g", one member whose compact member id is 0 (null); the instance id and
    // reason after it may be null, the member id may not.
    let body = [2, b'g', 2, 0, 0, 0, 0, 0];
    let err = flatten(LeaveGroupRequest::decode_body(&body, 5).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}

#[test]
fn leave_group_v3_reads_a_null_instance_id() {
    // v3: group "g", one member "m" with a null instance id. Decodes, as the schema allows.
    let body = [0, 1, b'g', 0, 0, 0, 1, 0, 1, b'm', 0xff, 0xff];
    let (rest, r) = LeaveGroupRequest::decode_body(&body, 3).unwrap();
    assert!(rest.is_empty());
    assert_eq!(r.members.len(), 1);
    assert_eq!(r.members[0].member_id.as_str(), "m");
    assert_eq!(r.members[0].group_instance_id, None);
}
