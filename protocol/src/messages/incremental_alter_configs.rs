//! IncrementalAlterConfigsRequest (key 44), versions 0-1. Flexible from v1. No tagged
//! fields are declared by the schema.
//!
//! ```text
//! resources [AlterConfigsResource]
//!   resource_type INT8
//!   resource_name STRING
//!   configs [AlterableConfig]
//!     name STRING
//!     config_operation INT8            0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT
//!     value STRING                     nullable in all versions
//!     TAG_BUFFER                       v1+
//!   TAG_BUFFER                         v1+
//! validate_only BOOLEAN
//! TAG_BUFFER                           v1+
//! ```

use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig, IncrementalAlterConfigsRequest,
};

use super::DecodeBody;
use crate::primitives::{array, boolean, int8, nullable_string, string, tagged_fields, PResult};

const FLEXIBLE_FROM: i16 = 1;

/// Smallest encoding of one config entry, used to bound the config count.
fn min_config_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        // varint name length + INT8 operation + varint value length + empty tag buffer
        1 + 1 + 1 + 1
    } else {
        // INT16 name length + INT8 operation + INT16 value length
        2 + 1 + 2
    }
}

/// Smallest encoding of one resource entry, used to bound the resource count.
fn min_resource_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        // INT8 type + varint name length + varint config count + empty tag buffer
        1 + 1 + 1 + 1
    } else {
        // INT8 type + INT16 name length + INT32 config count
        1 + 2 + 4
    }
}

impl DecodeBody for AlterableConfig {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut config = AlterableConfig::default();
        let (input, name) = string(flexible)(input)?;
        let (input, config_operation) = int8(input)?;
        let (mut input, value) = nullable_string(flexible)(input)?;
        config.name = name;
        config.config_operation = config_operation;
        config.value = value;
        if flexible {
            let (rest, unknown) = tagged_fields(input)?;
            config.unknown_tagged_fields = unknown;
            input = rest;
        }
        Ok((input, config))
    }
}

impl DecodeBody for AlterConfigsResource {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut resource = AlterConfigsResource::default();
        let (input, resource_type) = int8(input)?;
        let (input, resource_name) = string(flexible)(input)?;
        let (mut input, configs) = array(flexible, min_config_bytes(version), |i| {
            AlterableConfig::decode_body(i, version)
        })(input)?;
        resource.resource_type = resource_type;
        resource.resource_name = resource_name;
        resource.configs = configs;
        if flexible {
            let (rest, unknown) = tagged_fields(input)?;
            resource.unknown_tagged_fields = unknown;
            input = rest;
        }
        Ok((input, resource))
    }
}

impl DecodeBody for IncrementalAlterConfigsRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = IncrementalAlterConfigsRequest::default();
        let (input, resources) = array(flexible, min_resource_bytes(version), |i| {
            AlterConfigsResource::decode_body(i, version)
        })(input)?;
        let (mut input, validate_only) = boolean(input)?;
        request.resources = resources;
        request.validate_only = validate_only;
        if flexible {
            let (rest, unknown) = tagged_fields(input)?;
            request.unknown_tagged_fields = unknown;
            input = rest;
        }
        Ok((input, request))
    }
}
