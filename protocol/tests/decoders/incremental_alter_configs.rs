//! IncrementalAlterConfigsRequest: differential test against the oracle, and hostile inputs.

use super::harness::*;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig, IncrementalAlterConfigsRequest,
};
use kafka_protocol::messages::ApiKey;
use petrel_protocol::error::{flatten, WireError};
use petrel_protocol::messages::DecodeBody;
use proptest::prelude::*;

fn config(version: i16) -> impl Strategy<Value = AlterableConfig> {
    let flexible = version >= 1;
    (
        text(),
        any::<i8>(),
        // value is nullable in every version.
        prop::option::of(text()),
        tags(flexible),
    )
        .prop_map(|(name, operation, value, unknown)| {
            AlterableConfig::default()
                .with_name(name)
                .with_config_operation(operation)
                .with_value(value)
                .with_unknown_tagged_fields(unknown)
        })
}

fn resource(version: i16) -> impl Strategy<Value = AlterConfigsResource> {
    let flexible = version >= 1;
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

fn request(version: i16) -> impl Strategy<Value = IncrementalAlterConfigsRequest> {
    let flexible = version >= 1;
    (
        prop::collection::vec(resource(version), 0..3),
        any::<bool>(),
        tags(flexible),
    )
        .prop_map(|(resources, validate_only, unknown)| {
            IncrementalAlterConfigsRequest::default()
                .with_resources(resources)
                .with_validate_only(validate_only)
                .with_unknown_tagged_fields(unknown)
        })
}

#[test]
fn incremental_alter_configs_decodes_like_the_oracle() {
    let range = ApiKey::IncrementalAlterConfigs.valid_versions();
    check_decoder::<IncrementalAlterConfigsRequest, _>(
        ApiKey::IncrementalAlterConfigs,
        range.min..=range.max,
        128,
        request,
    );
}

#[test]
fn incremental_alter_configs_resource_count_bomb_is_refused() {
    // v1: compact resources count u32::MAX - 1, two bytes left.
    let body = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x00];
    let err = flatten(IncrementalAlterConfigsRequest::decode_body(&body, 1).unwrap_err());
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
fn incremental_alter_configs_tagged_field_count_bomb_is_refused() {
    // v1: no resources, validate_only, then a tagged-field count of u32::MAX.
    let body = [0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
    let err = flatten(IncrementalAlterConfigsRequest::decode_body(&body, 1).unwrap_err());
    assert!(
        matches!(err, WireError::CountExceedsRemaining { .. }),
        "{err:?}"
    );
}

#[test]
fn incremental_alter_configs_invalid_utf8_value_is_refused() {
    // v0: one resource, type 4, empty name, one config: name "a", op 0, value [0xff].
    let body = [
        0, 0, 0, 1, 4, 0, 0, 0, 0, 0, 1, 0, 1, b'a', 0, 0, 1, 0xff, 0,
    ];
    let err = flatten(IncrementalAlterConfigsRequest::decode_body(&body, 0).unwrap_err());
    assert_eq!(err, WireError::InvalidUtf8);
}
