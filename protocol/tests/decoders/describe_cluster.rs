//! DescribeClusterRequest: differential test against the oracle, and hostile inputs.

use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::DescribeClusterRequest;
use petrel_protocol::error::flatten;
use petrel_protocol::messages::DecodeBody;
use petrel_protocol::WireError;

use proptest::prelude::*;

use super::harness::*;

fn request(version: i16) -> impl Strategy<Value = DescribeClusterRequest> {
    (
        any::<bool>(),
        field(version >= 1, any::<i8>(), 1),
        field(version >= 2, any::<bool>(), false),
        tags(true),
    )
        .prop_map(|(include_ops, endpoint_type, include_fenced, tags)| {
            DescribeClusterRequest::default()
                .with_include_cluster_authorized_operations(include_ops)
                .with_endpoint_type(endpoint_type)
                .with_include_fenced_brokers(include_fenced)
                .with_unknown_tagged_fields(tags)
        })
}

#[test]
fn describe_cluster_decodes_like_the_oracle() {
    let range = ApiKey::DescribeCluster.valid_versions();
    check_decoder::<DescribeClusterRequest, _>(
        ApiKey::DescribeCluster,
        range.min..=range.max,
        128,
        request,
    );
}

#[test]
fn describe_cluster_truncated_tagged_field_is_refused() {
    // v2: flags, then one tagged field (tag 3) claiming 64 bytes with 2 present.
    let body = [1, 2, 0, 1, 3, 64, 0xaa, 0xbb];
    let err = flatten(DescribeClusterRequest::decode_body(&body, 2).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}

#[test]
fn describe_cluster_tagged_field_count_larger_than_body_is_refused() {
    // v0: flag, then a tagged-field count of u32::MAX with 4 bytes left.
    let body = [0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0];
    let err = flatten(DescribeClusterRequest::decode_body(&body, 0).unwrap_err());
    assert!(
        matches!(err, WireError::CountExceedsRemaining { .. }),
        "{err:?}"
    );
}

#[test]
fn describe_cluster_missing_tag_buffer_is_refused() {
    // v1: every version is flexible, so the TAG_BUFFER is mandatory.
    let body = [1, 1];
    let err = flatten(DescribeClusterRequest::decode_body(&body, 1).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}
