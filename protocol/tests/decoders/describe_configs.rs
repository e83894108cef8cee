//! DescribeConfigsRequest: differential test against the oracle, and hostile inputs.

use super::harness::*;
use kafka_protocol::messages::describe_configs_request::{
    DescribeConfigsRequest, DescribeConfigsResource,
};
use kafka_protocol::messages::ApiKey;
use petrel_protocol::error::{flatten, WireError};
use petrel_protocol::messages::DecodeBody;
use proptest::prelude::*;

fn resource(version: i16) -> impl Strategy<Value = DescribeConfigsResource> {
    let flexible = version >= 4;
    (
        any::<i8>(),
        text(),
        // configuration_keys is nullable in every version.
        prop::option::of(prop::collection::vec(text(), 0..3)),
        tags(flexible),
    )
        .prop_map(|(resource_type, name, keys, unknown)| {
            DescribeConfigsResource::default()
                .with_resource_type(resource_type)
                .with_resource_name(name)
                .with_configuration_keys(keys)
                .with_unknown_tagged_fields(unknown)
        })
}

fn request(version: i16) -> impl Strategy<Value = DescribeConfigsRequest> {
    let flexible = version >= 4;
    (
        prop::collection::vec(resource(version), 0..3),
        any::<bool>(),
        field(version >= 3, any::<bool>(), false),
        tags(flexible),
    )
        .prop_map(|(resources, synonyms, documentation, unknown)| {
            DescribeConfigsRequest::default()
                .with_resources(resources)
                .with_include_synonyms(synonyms)
                .with_include_documentation(documentation)
                .with_unknown_tagged_fields(unknown)
        })
}

#[test]
fn describe_configs_decodes_like_the_oracle() {
    let range = ApiKey::DescribeConfigs.valid_versions();
    check_decoder::<DescribeConfigsRequest, _>(
        ApiKey::DescribeConfigs,
        range.min..=range.max,
        96,
        request,
    );
}

#[test]
fn describe_configs_resource_count_bomb_is_refused() {
    // v1: resources count i32::MAX followed by a few bytes.
    let body = [0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0];
    let err = flatten(DescribeConfigsRequest::decode_body(&body, 1).unwrap_err());
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
fn describe_configs_key_count_bomb_is_refused() {
    // v4: one resource (compact count 2), type 0, empty name, then a key count of
    // u32::MAX - 1 (compact) with almost nothing behind it.
    let body = [0x02, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x00];
    let err = flatten(DescribeConfigsRequest::decode_body(&body, 4).unwrap_err());
    assert!(
        matches!(err, WireError::CountExceedsRemaining { .. }),
        "{err:?}"
    );
}

#[test]
fn describe_configs_negative_name_length_is_refused() {
    // v1: one resource, type 2, name length -2.
    let body = [0, 0, 0, 1, 2, 0xff, 0xfe, 0, 0, 0, 0, 0];
    let err = flatten(DescribeConfigsRequest::decode_body(&body, 1).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-2));
}

#[test]
fn describe_configs_truncated_tagged_field_is_refused() {
    // v4: no resources, include_synonyms, include_documentation, then one tagged field
    // claiming 10 bytes with 2 present.
    let body = [0x01, 0x01, 0x00, 0x01, 0x00, 0x0a, 1, 2];
    let err = flatten(DescribeConfigsRequest::decode_body(&body, 4).unwrap_err());
    assert_eq!(err, WireError::Truncated);
}
