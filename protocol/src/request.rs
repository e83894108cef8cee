//! From one request frame to a typed request, or a typed reason to refuse it.
//!
//! The order of checks mirrors Apache Kafka's `SocketServer`/`RequestContext`:
//! 1. fixed header (api key, version, correlation id) must be readable, else the
//!    connection is closed;
//! 2. an unknown or unsupported API key closes the connection;
//! 3. ApiVersions at a version newer than ours is answered (KIP-511) with
//!    `UNSUPPORTED_VERSION` in a v0 response; any other unsupported version closes the
//!    connection;
//! 4. the header (v0/v1/v2) and the body are parsed; a malformed one closes the connection.

use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, MetadataRequest, RequestHeader};

use crate::api::support_for;
use crate::error::{flatten, WireError};
use crate::header::{fixed_header, request_header, FixedHeader, FIXED_HEADER_BYTES};
use crate::messages::DecodeBody;

/// A decoded request body. One variant per supported API: the broker's router matches on
/// this exhaustively, so adding an API here forces a handler for it.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    ApiVersions(ApiVersionsRequest),
    Metadata(MetadataRequest),
}

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedRequest {
    pub api_key: ApiKey,
    pub header: RequestHeader,
    pub body: Request,
}

/// Why a frame did not become a [`DecodedRequest`], with what is needed to act on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestRejection {
    /// Not even the fixed header could be read: close the connection.
    #[error("unreadable request header: {0}")]
    Unreadable(WireError),
    /// The API key is not one Kafka defines, or one we do not serve: close the connection.
    #[error("unknown or unsupported api key {}", .0.api_key)]
    UnsupportedApi(FixedHeader),
    /// A supported API at a version outside our range: close the connection.
    #[error("api key {} version {} is not supported", .0.api_key, .0.api_version)]
    UnsupportedVersion(FixedHeader),
    /// ApiVersions newer than we know: answer with UNSUPPORTED_VERSION (KIP-511).
    #[error("ApiVersions version {} is newer than supported", .0.api_version)]
    ApiVersionsTooNew(FixedHeader),
    /// The header or body did not parse: close the connection.
    #[error("malformed request (api key {}, version {}): {error}", .header.api_key, .header.api_version)]
    Malformed {
        header: FixedHeader,
        error: WireError,
    },
}

/// Decodes one frame (without its length prefix) into a request.
///
/// Bytes after the body are ignored, as Apache Kafka does.
pub fn decode_request(frame: &[u8]) -> Result<DecodedRequest, RequestRejection> {
    if frame.len() < FIXED_HEADER_BYTES {
        return Err(RequestRejection::Unreadable(
            WireError::FrameShorterThanHeader(frame.len()),
        ));
    }
    let (_, fixed) = fixed_header(frame).map_err(|e| RequestRejection::Unreadable(flatten(e)))?;
    let api_key =
        ApiKey::try_from(fixed.api_key).map_err(|_| RequestRejection::UnsupportedApi(fixed))?;
    let support = support_for(api_key).ok_or(RequestRejection::UnsupportedApi(fixed))?;
    if !support.supports(fixed.api_version) {
        return Err(
            if api_key == ApiKey::ApiVersions && fixed.api_version > support.max_version {
                RequestRejection::ApiVersionsTooNew(fixed)
            } else {
                RequestRejection::UnsupportedVersion(fixed)
            },
        );
    }
    let malformed = |e| RequestRejection::Malformed {
        header: fixed,
        error: flatten(e),
    };
    let header_version = api_key.request_header_version(fixed.api_version);
    let (body_bytes, header) = request_header(frame, header_version).map_err(malformed)?;
    let body = decode_body(api_key, fixed.api_version, body_bytes).map_err(malformed)?;
    Ok(DecodedRequest {
        api_key,
        header,
        body,
    })
}

fn decode_body(
    api_key: ApiKey,
    version: i16,
    input: &[u8],
) -> Result<Request, nom::Err<WireError>> {
    let body = match api_key {
        ApiKey::ApiVersions => {
            Request::ApiVersions(ApiVersionsRequest::decode_body(input, version)?.1)
        }
        ApiKey::Metadata => Request::Metadata(MetadataRequest::decode_body(input, version)?.1),
        // Unreachable while SUPPORTED_APIS and this match agree (a test checks they do);
        // if they ever disagree it is a refused request, not a panic.
        _ => {
            return Err(nom::Err::Error(WireError::Malformed(
                nom::error::ErrorKind::Switch,
            )))
        }
    };
    Ok(body)
}
