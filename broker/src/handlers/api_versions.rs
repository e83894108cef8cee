//! ApiVersions (key 18): the versions of every API this broker serves, generated from
//! `petrel_protocol::SUPPORTED_APIS` and nothing else.
//!
//! KIP-511: a client may send ApiVersions at a version newer than ours; it gets a v0
//! response (header v0) with `UNSUPPORTED_VERSION` and our ApiVersions range, and retries
//! at a version we support. From v3 the client names itself; names that do not match
//! Kafka's pattern get `INVALID_REQUEST`, as Apache Kafka answers.

use bytes::Bytes;
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use petrel_protocol::api::api_versions_support;
use petrel_protocol::response::{encode_response_frame, EncodeError};
use petrel_protocol::SUPPORTED_APIS;

/// The response to a supported ApiVersions request.
pub fn handle(version: i16, request: &ApiVersionsRequest) -> ApiVersionsResponse {
    if version >= 3
        && !(is_valid_software_field(request.client_software_name.as_str())
            && is_valid_software_field(request.client_software_version.as_str()))
    {
        return ApiVersionsResponse::default()
            .with_error_code(ResponseError::InvalidRequest.code());
    }
    let api_keys = SUPPORTED_APIS
        .iter()
        .map(|api| {
            ApiVersion::default()
                .with_api_key(api.key as i16)
                .with_min_version(api.advertised_min_version)
                .with_max_version(api.max_version)
        })
        .collect();
    ApiVersionsResponse::default().with_api_keys(api_keys)
}

/// The KIP-511 answer to an ApiVersions request newer than we support, encoded as v0.
pub fn too_new_response(correlation_id: i32) -> Result<Bytes, EncodeError> {
    let own = api_versions_support();
    let response = ApiVersionsResponse::default()
        .with_error_code(ResponseError::UnsupportedVersion.code())
        .with_api_keys(vec![ApiVersion::default()
            .with_api_key(ApiKey::ApiVersions as i16)
            .with_min_version(own.min_version)
            .with_max_version(own.max_version)]);
    encode_response_frame(ApiKey::ApiVersions, 0, correlation_id, &response)
}

/// Kafka's rule for `client_software_name`/`version`:
/// `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`.
fn is_valid_software_field(value: &str) -> bool {
    let bytes = value.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_field_rule_matches_kafka() {
        for ok in [
            "librdkafka",
            "apache-kafka-java",
            "3.9.0",
            "a",
            "franz-go.v1",
        ] {
            assert!(is_valid_software_field(ok), "{ok}");
        }
        for bad in ["", "-x", "x-", "x y", "x/1", ".x", "ü"] {
            assert!(!is_valid_software_field(bad), "{bad}");
        }
    }

    #[test]
    fn lists_exactly_the_supported_table() {
        let response = handle(
            3,
            &ApiVersionsRequest::default()
                .with_client_software_name("a".into())
                .with_client_software_version("1".into()),
        );
        assert_eq!(response.error_code, 0);
        assert_eq!(response.api_keys.len(), SUPPORTED_APIS.len());
        for (entry, api) in response.api_keys.iter().zip(SUPPORTED_APIS) {
            assert_eq!(
                (entry.api_key, entry.min_version, entry.max_version),
                (api.key as i16, api.advertised_min_version, api.max_version)
            );
        }
    }

    #[test]
    fn invalid_client_software_name_is_invalid_request() {
        let response = handle(
            3,
            &ApiVersionsRequest::default()
                .with_client_software_name("bad name".into())
                .with_client_software_version("1".into()),
        );
        assert_eq!(response.error_code, ResponseError::InvalidRequest.code());
    }
}
