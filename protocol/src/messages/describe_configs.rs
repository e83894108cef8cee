//! DescribeConfigsRequest (key 32), versions 1-4 (v0 is not supported by the crate).
//! Flexible from v4. No tagged fields are declared by the schema.
//!
//! ```text
//! resources [DescribeConfigsResource]
//!   resource_type INT8
//!   resource_name STRING
//!   configuration_keys [STRING]        nullable in all versions (null = all keys)
//!   TAG_BUFFER                         v4+
//! include_synonyms BOOLEAN
//! include_documentation BOOLEAN        v3+  (false before)
//! TAG_BUFFER                           v4+
//! ```

use kafka_protocol::messages::describe_configs_request::{
    DescribeConfigsRequest, DescribeConfigsResource,
};

use super::DecodeBody;
use crate::primitives::{array, boolean, int8, nullable_array, string, tagged_fields, PResult};

const FLEXIBLE_FROM: i16 = 4;

/// Smallest encoding of one configuration key (an empty string).
fn min_key_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        // varint length
        1
    } else {
        // INT16 length
        2
    }
}

/// Smallest encoding of one resource entry, used to bound the resource count.
fn min_resource_bytes(version: i16) -> usize {
    if version >= FLEXIBLE_FROM {
        // INT8 type + varint name length + varint key count + empty tag buffer
        1 + 1 + 1 + 1
    } else {
        // INT8 type + INT16 name length + INT32 key count
        1 + 2 + 4
    }
}

impl DecodeBody for DescribeConfigsResource {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut resource = DescribeConfigsResource::default();
        let (input, resource_type) = int8(input)?;
        let (input, resource_name) = string(flexible)(input)?;
        let (mut input, configuration_keys) =
            nullable_array(flexible, min_key_bytes(version), string(flexible))(input)?;
        resource.resource_type = resource_type;
        resource.resource_name = resource_name;
        resource.configuration_keys = configuration_keys;
        if flexible {
            let (rest, unknown) = tagged_fields(input)?;
            resource.unknown_tagged_fields = unknown;
            input = rest;
        }
        Ok((input, resource))
    }
}

impl DecodeBody for DescribeConfigsRequest {
    fn decode_body(input: &[u8], version: i16) -> PResult<'_, Self> {
        let flexible = version >= FLEXIBLE_FROM;
        let mut request = DescribeConfigsRequest::default();
        let (input, resources) = array(flexible, min_resource_bytes(version), |i| {
            DescribeConfigsResource::decode_body(i, version)
        })(input)?;
        let (mut input, include_synonyms) = boolean(input)?;
        request.resources = resources;
        request.include_synonyms = include_synonyms;
        if version >= 3 {
            let (rest, include) = boolean(input)?;
            request.include_documentation = include;
            input = rest;
        }
        if flexible {
            let (rest, unknown) = tagged_fields(input)?;
            request.unknown_tagged_fields = unknown;
            input = rest;
        }
        Ok((input, request))
    }
}
