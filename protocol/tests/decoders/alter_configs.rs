//! AlterConfigsRequest: differential test against the oracle, and hostile inputs.

use super::harness::*;
use kafka_protocol::messages::alter_configs_request::{
    AlterConfigsRequest, AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::ApiKey;
use petrel_protocol::error::{flatten, WireError};
use petrel_protocol::messages::DecodeBody;
use proptest::prelude::*;

fn config(version: i16) -> impl Strategy<Value = AlterableConfig> {
    let flexible = version >= 2;
    // value is nullable in every version.
    (text(), prop::option::of(text()), tags(flexible)).prop_map(|(name, value, unknown)| {
        AlterableConfig::default()
            .with_name(name)
            .with_value(value)
            .with_unknown_tagged_fields(unknown)
    })
}

fn resource(version: i16) -> impl Strategy<Value = AlterConfigsResource> {
    let flexible = version >= 2;
    (
        any::<i8>(),
        text(),
        prop::collection::vec(config(version), 0..3),
        tags(flexible),
    )
        .prop_map(|(resource_type, name, configs, unknown)| {
            AlterConfigsResource::default()
                .with_resource_type(resource_type)
                .with_resource_name(name)
                .with_configs(configs)
                .with_unknown_tagged_fields(unknown)
        })
}

fn request(version: i16) -> impl Strategy<Value = AlterConfigsRequest> {
    let flexible = version >= 2;
    (
        prop::collection::vec(resource(version), 0..3),
        any::<bool>(),
        tags(flexible),
    )
        .prop_map(|(resources, validate_only, unknown)| {
            AlterConfigsRequest::default()
                .with_resources(resources)
                .with_validate_only(validate_only)
                .with_unknown_tagged_fields(unknown)
        })
}

#[test]
fn alter_configs_decodes_like_the_oracle() {
    let range = ApiKey::AlterConfigs.valid_versions();
    check_decoder::<AlterConfigsRequest, _>(
        ApiKey::AlterConfigs,
        range.min..=range.max,
        96,
        request,
    );
}

#[test]
fn alter_configs_config_count_bomb_is_refused() {
    // v0: one resource, type 2, name "t", configs count i32::MAX, a few bytes left.
    let body = [
        0, 0, 0, 1, 2, 0, 1, b't', 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0,
    ];
    let err = flatten(AlterConfigsRequest::decode_body(&body, 0).unwrap_err());
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
fn alter_configs_null_resources_and_names_are_refused() {
    // v0: resources array null (-1).
    let body = [0xff, 0xff, 0xff, 0xff, 0];
    let err = flatten(AlterConfigsRequest::decode_body(&body, 0).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
    // v2: one resource, one config whose name is null (compact 0).
    let body = [0x02, 0x02, 0x01, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00];
    let err = flatten(AlterConfigsRequest::decode_body(&body, 2).unwrap_err());
    assert_eq!(err, WireError::UnexpectedNull);
}

#[test]
fn alter_configs_negative_count_is_refused() {
    // v1: resources count -7.
    let body = [0xff, 0xff, 0xff, 0xf9, 0];
    let err = flatten(AlterConfigsRequest::decode_body(&body, 1).unwrap_err());
    assert_eq!(err, WireError::NegativeLength(-7));
}
