//! Response encoding with `kafka-protocol`: length prefix, response header, body.
//!
//! The response header version follows from (API key, version); ApiVersions always uses
//! header v0 so that a client that sent a too-new version can still read the answer.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ResponseHeader};
use kafka_protocol::protocol::Encodable;

/// A response the crate refused to encode (a field set that the version lacks, say):
/// always a broker bug, never the client's fault.
#[derive(Debug, thiserror::Error)]
#[error("cannot encode {api_key:?} v{version} response: {reason}")]
pub struct EncodeError {
    pub api_key: ApiKey,
    pub version: i16,
    pub reason: String,
}

/// Encodes a whole response frame: 4-byte length, header, body.
pub fn encode_response_frame<R: Encodable>(
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &R,
) -> Result<Bytes, EncodeError> {
    // The crate reports encoding errors as anyhow::Error; we keep only the message.
    let error = |reason: anyhow::Error| EncodeError {
        api_key,
        version,
        reason: reason.to_string(),
    };
    let header_version = api_key.response_header_version(version);
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    let mut buf = BytesMut::with_capacity(64);
    buf.put_i32(0); // length, patched below
    header.encode(&mut buf, header_version).map_err(error)?;
    body.encode(&mut buf, version).map_err(error)?;
    let len = i32::try_from(buf.len() - 4).map_err(|_| EncodeError {
        api_key,
        version,
        reason: "response over 2 GiB".into(),
    })?;
    if let Some(prefix) = buf.get_mut(..4) {
        prefix.copy_from_slice(&len.to_be_bytes());
    }
    Ok(buf.freeze())
}
