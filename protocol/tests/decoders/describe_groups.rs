//! DescribeGroupsRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::{ApiKey, DescribeGroupsRequest, GroupId};
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;
use proptest::prelude::*;

use super::harness::*;

fn request(version: i16) -> impl Strategy<Value = DescribeGroupsRequest> {
    (
        prop::collection::vec(text().prop_map(GroupId), 0..4),
        field(version >= 3, any::<bool>(), false),
        tags(version >= 5),
    )
        .prop_map(|(groups, include_authorized_operations, unknown)| {
            let mut r = DescribeGroupsRequest::default();
            r.groups = groups;
            r.include_authorized_operations = include_authorized_operations;
            r.unknown_tagged_fields = unknown;
            r
        })
}

#[test]
fn describe_groups_decodes_like_the_oracle() {
    let range = ApiKey::DescribeGroups.valid_versions();
    check_decoder::<DescribeGroupsRequest, _>(
        ApiKey::DescribeGroups,
        range.min..=range.max,
        128,
        request,
    );
}

#[test]
fn describe_groups_negative_group_count_is_refused() {
    // v0: groups count -2.
    let body = [0xff, 0xff, 0xff, 0xfe, 0, 0];
    let err = flatten(DescribeGroupsRequest::decode_body(&body, 0).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-2));
}

#[test]
fn describe_groups_group_count_larger_than_body_is_refused() {
    // v3: i32::MAX groups, then 3 bytes.
    let body = [0x7f, 0xff, 0xff, 0xff, 0, 0, 1];
    let err = flatten(DescribeGroupsRequest::decode_body(&body, 3).unwrap_err());
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
fn describe_groups_null_group_id_is_refused() {
    // v5: two groups, "g" and a null one.
    let body = [3, 2, b'g', 0, 0, 0];
    let err = flatten(DescribeGroupsRequest::decode_body(&body, 5).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}
