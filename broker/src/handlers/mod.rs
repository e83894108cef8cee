//! Request handlers: one module per API. A handler reads the decoded request and the node
//! context and returns the response struct; [`handle`] encodes it with the right header.
//!
//! The match in [`handle`] is exhaustive over [`Request`], which has a variant per entry of
//! the supported-API table, so an advertised API cannot lack a handler.

pub mod api_versions;
pub mod metadata;

use bytes::Bytes;
use petrel_protocol::response::{encode_response_frame, EncodeError};
use petrel_protocol::{DecodedRequest, Request};

use crate::context::BrokerContext;

/// An encoded response and the top-level error code it carries (for metrics).
#[derive(Debug)]
pub struct HandledResponse {
    /// The full response frame, length prefix included.
    pub frame: Bytes,
    /// The response's top-level error code (0 when the API has none).
    pub error_code: i16,
}

/// Handles one request and encodes its response.
///
/// Returns an error only if the response cannot be encoded, which is a broker bug: the
/// caller closes the connection rather than send something malformed.
pub async fn handle(
    ctx: &BrokerContext,
    request: DecodedRequest,
) -> Result<HandledResponse, EncodeError> {
    let version = request.header.request_api_version;
    let correlation_id = request.header.correlation_id;
    let key = request.api_key;
    match &request.body {
        Request::ApiVersions(body) => {
            let response = api_versions::handle(version, body);
            let error_code = response.error_code;
            let frame = encode_response_frame(key, version, correlation_id, &response)?;
            Ok(HandledResponse { frame, error_code })
        }
        Request::Metadata(body) => {
            let response = metadata::handle(ctx, version, body);
            let error_code = response.error_code;
            let frame = encode_response_frame(key, version, correlation_id, &response)?;
            Ok(HandledResponse { frame, error_code })
        }
    }
}
