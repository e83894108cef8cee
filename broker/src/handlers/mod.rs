//! Request handlers: one module per API (or per family sharing a concern). A handler reads
//! the decoded request and the node context and returns the response struct; [`handle`]
//! encodes it with the right header.
//!
//! The match in [`handle`] is exhaustive over [`Request`], which has a variant per entry of
//! the supported-API table, so an advertised API cannot lack a handler.

pub mod api_versions;
pub mod configs;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_records;
pub mod delete_topics;
pub mod describe_cluster;
pub mod describe_log_dirs;
pub mod describe_quorum;
pub mod fetch;
pub mod groups;
pub mod init_producer_id;
pub mod list_offsets;
pub mod metadata;
pub mod produce;

use std::net::SocketAddr;

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, RequestHeader};
use kafka_protocol::protocol::Encodable;
use petrel_protocol::fetch_encoder::Chunk;
use petrel_protocol::response::{encode_response_frame, EncodeError};
use petrel_protocol::{DecodedRequest, Request};
use petrel_storage::FileRegion;

use crate::context::BrokerContext;
use crate::turn::Turn;

/// What goes back to the client for one request.
#[derive(Debug)]
pub enum ResponseBody {
    /// A whole response frame, length prefix included.
    Frame(Bytes),
    /// A frame in pieces, each partition's record data as file regions (one per segment
    /// it spans) sent with sendfile (Fetch).
    Chunks(Vec<Chunk<Vec<FileRegion>>>),
    /// Nothing at all (Produce with acks=0).
    None,
}

/// An encoded response and the top-level error code it carries (for metrics).
#[derive(Debug)]
pub struct HandledResponse {
    pub body: ResponseBody,
    /// The response's top-level error code (0 when the API has none).
    pub error_code: i16,
}

/// Encodes `response` as a frame for `header`'s API and version.
pub(crate) fn respond<R: Encodable>(
    header: &RequestHeader,
    response: &R,
    error_code: i16,
) -> Result<HandledResponse, EncodeError> {
    let api_key = ApiKey::try_from(header.request_api_key).unwrap_or(ApiKey::ApiVersions);
    let frame = encode_response_frame(
        api_key,
        header.request_api_version,
        header.correlation_id,
        response,
    )?;
    Ok(HandledResponse {
        body: ResponseBody::Frame(frame),
        error_code,
    })
}

/// Handles one request and encodes its response.
///
/// Returns an error only if the response cannot be encoded, which is a broker bug: the
/// caller closes the connection rather than send something malformed.
pub async fn handle(
    ctx: &BrokerContext,
    request: DecodedRequest,
    peer: SocketAddr,
    produce_turn: Option<Turn>,
) -> Result<HandledResponse, EncodeError> {
    let header = &request.header;
    let version = header.request_api_version;
    let client_id = header.client_id.as_deref().unwrap_or("");
    match &request.body {
        Request::ApiVersions(body) => {
            let response = api_versions::handle(version, body);
            respond(header, &response, response.error_code)
        }
        Request::Metadata(body) => {
            let response = metadata::handle(ctx, version, body).await;
            respond(header, &response, response.error_code)
        }
        Request::Produce(body) => {
            // The connection hands every Produce its turn; a caller that does not (tests
            // of single requests) gets one that waits for nothing.
            let turn = produce_turn.unwrap_or_else(Turn::first);
            produce::handle(ctx, header, body, turn).await
        }
        Request::Fetch(body) => fetch::handle(ctx, header, body).await,
        Request::ListOffsets(body) => {
            respond(header, &list_offsets::handle(ctx, version, body).await, 0)
        }
        Request::InitProducerId(body) => {
            let response = init_producer_id::handle(ctx, body).await;
            respond(header, &response, response.error_code)
        }
        Request::CreateTopics(body) => {
            respond(header, &create_topics::handle(ctx, version, body).await, 0)
        }
        Request::DeleteTopics(body) => {
            respond(header, &delete_topics::handle(ctx, version, body).await, 0)
        }
        Request::CreatePartitions(body) => {
            respond(header, &create_partitions::handle(ctx, body).await, 0)
        }
        Request::DeleteRecords(body) => {
            respond(header, &delete_records::handle(ctx, body).await, 0)
        }
        Request::DescribeCluster(body) => {
            let response = describe_cluster::handle(ctx, version, body);
            respond(header, &response, response.error_code)
        }
        Request::DescribeQuorum(body) => respond(
            header,
            &describe_quorum::handle(ctx, version, body).await,
            0,
        ),
        Request::DescribeConfigs(body) => {
            respond(header, &configs::describe(ctx, version, body), 0)
        }
        Request::AlterConfigs(body) => respond(header, &configs::alter(ctx, body).await, 0),
        Request::IncrementalAlterConfigs(body) => {
            respond(header, &configs::incremental_alter(ctx, body).await, 0)
        }
        Request::FindCoordinator(body) => {
            let response = groups::find_coordinator(ctx, version, body).await;
            respond(header, &response, response.error_code)
        }
        Request::JoinGroup(body) => {
            let response = groups::join_group(ctx, version, client_id, peer, body).await;
            respond(header, &response, response.error_code)
        }
        Request::SyncGroup(body) => {
            let response = groups::sync_group(ctx, body).await;
            respond(header, &response, response.error_code)
        }
        Request::Heartbeat(body) => {
            let response = groups::heartbeat(ctx, body).await;
            respond(header, &response, response.error_code)
        }
        Request::LeaveGroup(body) => {
            let response = groups::leave_group(ctx, version, body).await;
            respond(header, &response, response.error_code)
        }
        Request::OffsetCommit(body) => {
            respond(header, &groups::offset_commit(ctx, version, body).await, 0)
        }
        Request::OffsetFetch(body) => {
            let response = groups::offset_fetch(ctx, version, body).await;
            respond(header, &response, response.error_code)
        }
        Request::ListGroups(body) => {
            let response = groups::list_groups(ctx, body).await;
            respond(header, &response, response.error_code)
        }
        Request::DescribeGroups(body) => respond(
            header,
            &groups::describe_groups(ctx, version, body).await,
            0,
        ),
        Request::DeleteGroups(body) => respond(header, &groups::delete_groups(ctx, body).await, 0),
        Request::OffsetDelete(body) => {
            let response = groups::offset_delete(ctx, body).await;
            respond(header, &response, response.error_code)
        }
        Request::DescribeLogDirs(body) => {
            let response = describe_log_dirs::handle(ctx, version, body).await;
            respond(header, &response, response.error_code)
        }
    }
}
