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

use kafka_protocol::messages::{
    AlterConfigsRequest, ApiKey, ApiVersionsRequest, CreatePartitionsRequest, CreateTopicsRequest,
    DeleteRecordsRequest, DeleteTopicsRequest, DescribeClusterRequest, DescribeConfigsRequest,
    DescribeLogDirsRequest, DescribeQuorumRequest, FetchRequest, IncrementalAlterConfigsRequest,
    InitProducerIdRequest, ListOffsetsRequest, MetadataRequest, ProduceRequest, RequestHeader,
};
use kafka_protocol::messages::{
    DeleteGroupsRequest, DescribeGroupsRequest, FindCoordinatorRequest, HeartbeatRequest,
    JoinGroupRequest, LeaveGroupRequest, ListGroupsRequest, OffsetCommitRequest,
    OffsetDeleteRequest, OffsetFetchRequest, SyncGroupRequest,
};

use crate::api::support_for;
use crate::error::{flatten, WireError};
use crate::header::{fixed_header, request_header, FixedHeader, FIXED_HEADER_BYTES};
use crate::messages::DecodeBody;

/// A decoded request body. One variant per supported API: the broker's router matches on
/// this exhaustively, so adding an API here forces a handler for it.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Produce(ProduceRequest),
    Fetch(FetchRequest),
    ListOffsets(ListOffsetsRequest),
    Metadata(MetadataRequest),
    ApiVersions(ApiVersionsRequest),
    CreateTopics(CreateTopicsRequest),
    DeleteTopics(DeleteTopicsRequest),
    DeleteRecords(DeleteRecordsRequest),
    InitProducerId(InitProducerIdRequest),
    DescribeConfigs(DescribeConfigsRequest),
    AlterConfigs(AlterConfigsRequest),
    DescribeLogDirs(DescribeLogDirsRequest),
    CreatePartitions(CreatePartitionsRequest),
    IncrementalAlterConfigs(IncrementalAlterConfigsRequest),
    DescribeCluster(DescribeClusterRequest),
    DescribeQuorum(DescribeQuorumRequest),
    FindCoordinator(FindCoordinatorRequest),
    JoinGroup(JoinGroupRequest),
    SyncGroup(SyncGroupRequest),
    Heartbeat(HeartbeatRequest),
    LeaveGroup(LeaveGroupRequest),
    OffsetCommit(OffsetCommitRequest),
    OffsetFetch(OffsetFetchRequest),
    ListGroups(ListGroupsRequest),
    DescribeGroups(DescribeGroupsRequest),
    DeleteGroups(DeleteGroupsRequest),
    OffsetDelete(OffsetDeleteRequest),
}

impl Request {
    /// Encodes the body with `kafka-protocol` (a client's view: used by tests as the
    /// oracle's encoding, and by a follower sending Fetch to its leader).
    pub fn encode_body(&self, buf: &mut bytes::BytesMut, version: i16) -> Result<(), String> {
        use kafka_protocol::protocol::Encodable;
        let result = match self {
            Request::Produce(r) => r.encode(buf, version),
            Request::Fetch(r) => r.encode(buf, version),
            Request::ListOffsets(r) => r.encode(buf, version),
            Request::Metadata(r) => r.encode(buf, version),
            Request::ApiVersions(r) => r.encode(buf, version),
            Request::CreateTopics(r) => r.encode(buf, version),
            Request::DeleteTopics(r) => r.encode(buf, version),
            Request::DeleteRecords(r) => r.encode(buf, version),
            Request::InitProducerId(r) => r.encode(buf, version),
            Request::DescribeConfigs(r) => r.encode(buf, version),
            Request::AlterConfigs(r) => r.encode(buf, version),
            Request::DescribeLogDirs(r) => r.encode(buf, version),
            Request::CreatePartitions(r) => r.encode(buf, version),
            Request::IncrementalAlterConfigs(r) => r.encode(buf, version),
            Request::DescribeCluster(r) => r.encode(buf, version),
            Request::DescribeQuorum(r) => r.encode(buf, version),
            Request::FindCoordinator(r) => r.encode(buf, version),
            Request::JoinGroup(r) => r.encode(buf, version),
            Request::SyncGroup(r) => r.encode(buf, version),
            Request::Heartbeat(r) => r.encode(buf, version),
            Request::LeaveGroup(r) => r.encode(buf, version),
            Request::OffsetCommit(r) => r.encode(buf, version),
            Request::OffsetFetch(r) => r.encode(buf, version),
            Request::ListGroups(r) => r.encode(buf, version),
            Request::DescribeGroups(r) => r.encode(buf, version),
            Request::DeleteGroups(r) => r.encode(buf, version),
            Request::OffsetDelete(r) => r.encode(buf, version),
        };
        result.map_err(|e| e.to_string())
    }

    /// The default (empty) body of an API, for header-level tests.
    pub fn default_for(api_key: ApiKey) -> Option<Request> {
        Some(match api_key {
            ApiKey::Produce => Request::Produce(Default::default()),
            ApiKey::Fetch => Request::Fetch(Default::default()),
            ApiKey::ListOffsets => Request::ListOffsets(Default::default()),
            ApiKey::Metadata => Request::Metadata(Default::default()),
            ApiKey::ApiVersions => Request::ApiVersions(Default::default()),
            ApiKey::CreateTopics => Request::CreateTopics(Default::default()),
            ApiKey::DeleteTopics => Request::DeleteTopics(Default::default()),
            ApiKey::DeleteRecords => Request::DeleteRecords(Default::default()),
            ApiKey::InitProducerId => Request::InitProducerId(Default::default()),
            ApiKey::DescribeConfigs => Request::DescribeConfigs(Default::default()),
            ApiKey::AlterConfigs => Request::AlterConfigs(Default::default()),
            ApiKey::DescribeLogDirs => Request::DescribeLogDirs(Default::default()),
            ApiKey::CreatePartitions => Request::CreatePartitions(Default::default()),
            ApiKey::IncrementalAlterConfigs => Request::IncrementalAlterConfigs(Default::default()),
            ApiKey::DescribeCluster => Request::DescribeCluster(Default::default()),
            ApiKey::DescribeQuorum => Request::DescribeQuorum(Default::default()),
            ApiKey::FindCoordinator => Request::FindCoordinator(Default::default()),
            ApiKey::JoinGroup => Request::JoinGroup(Default::default()),
            ApiKey::SyncGroup => Request::SyncGroup(Default::default()),
            ApiKey::Heartbeat => Request::Heartbeat(Default::default()),
            ApiKey::LeaveGroup => Request::LeaveGroup(Default::default()),
            ApiKey::OffsetCommit => Request::OffsetCommit(Default::default()),
            ApiKey::OffsetFetch => Request::OffsetFetch(Default::default()),
            ApiKey::ListGroups => Request::ListGroups(Default::default()),
            ApiKey::DescribeGroups => Request::DescribeGroups(Default::default()),
            ApiKey::DeleteGroups => Request::DeleteGroups(Default::default()),
            ApiKey::OffsetDelete => Request::OffsetDelete(Default::default()),
            _ => return None,
        })
    }
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
        ApiKey::Produce => Request::Produce(ProduceRequest::decode_body(input, version)?.1),
        ApiKey::Fetch => Request::Fetch(FetchRequest::decode_body(input, version)?.1),
        ApiKey::ListOffsets => {
            Request::ListOffsets(ListOffsetsRequest::decode_body(input, version)?.1)
        }
        ApiKey::Metadata => Request::Metadata(MetadataRequest::decode_body(input, version)?.1),
        ApiKey::ApiVersions => {
            Request::ApiVersions(ApiVersionsRequest::decode_body(input, version)?.1)
        }
        ApiKey::CreateTopics => {
            Request::CreateTopics(CreateTopicsRequest::decode_body(input, version)?.1)
        }
        ApiKey::DeleteTopics => {
            Request::DeleteTopics(DeleteTopicsRequest::decode_body(input, version)?.1)
        }
        ApiKey::DeleteRecords => {
            Request::DeleteRecords(DeleteRecordsRequest::decode_body(input, version)?.1)
        }
        ApiKey::InitProducerId => {
            Request::InitProducerId(InitProducerIdRequest::decode_body(input, version)?.1)
        }
        ApiKey::DescribeConfigs => {
            Request::DescribeConfigs(DescribeConfigsRequest::decode_body(input, version)?.1)
        }
        ApiKey::AlterConfigs => {
            Request::AlterConfigs(AlterConfigsRequest::decode_body(input, version)?.1)
        }
        ApiKey::DescribeLogDirs => {
            Request::DescribeLogDirs(DescribeLogDirsRequest::decode_body(input, version)?.1)
        }
        ApiKey::CreatePartitions => {
            Request::CreatePartitions(CreatePartitionsRequest::decode_body(input, version)?.1)
        }
        ApiKey::IncrementalAlterConfigs => Request::IncrementalAlterConfigs(
            IncrementalAlterConfigsRequest::decode_body(input, version)?.1,
        ),
        ApiKey::DescribeCluster => {
            Request::DescribeCluster(DescribeClusterRequest::decode_body(input, version)?.1)
        }
        ApiKey::DescribeQuorum => {
            Request::DescribeQuorum(DescribeQuorumRequest::decode_body(input, version)?.1)
        }
        ApiKey::FindCoordinator => {
            Request::FindCoordinator(FindCoordinatorRequest::decode_body(input, version)?.1)
        }
        ApiKey::JoinGroup => Request::JoinGroup(JoinGroupRequest::decode_body(input, version)?.1),
        ApiKey::SyncGroup => Request::SyncGroup(SyncGroupRequest::decode_body(input, version)?.1),
        ApiKey::Heartbeat => Request::Heartbeat(HeartbeatRequest::decode_body(input, version)?.1),
        ApiKey::LeaveGroup => {
            Request::LeaveGroup(LeaveGroupRequest::decode_body(input, version)?.1)
        }
        ApiKey::OffsetCommit => {
            Request::OffsetCommit(OffsetCommitRequest::decode_body(input, version)?.1)
        }
        ApiKey::OffsetFetch => {
            Request::OffsetFetch(OffsetFetchRequest::decode_body(input, version)?.1)
        }
        ApiKey::ListGroups => {
            Request::ListGroups(ListGroupsRequest::decode_body(input, version)?.1)
        }
        ApiKey::DescribeGroups => {
            Request::DescribeGroups(DescribeGroupsRequest::decode_body(input, version)?.1)
        }
        ApiKey::DeleteGroups => {
            Request::DeleteGroups(DeleteGroupsRequest::decode_body(input, version)?.1)
        }
        ApiKey::OffsetDelete => {
            Request::OffsetDelete(OffsetDeleteRequest::decode_body(input, version)?.1)
        }
        // Unreachable while SUPPORTED_APIS and this match agree (the differential test decodes
        // every advertised API and version through here);
        // if they ever disagree it is a refused request, not a panic.
        _ => {
            return Err(nom::Err::Error(WireError::Malformed(
                nom::error::ErrorKind::Switch,
            )))
        }
    };
    Ok(body)
}
