//! The sending side of the controller transport: openraft's `RaftNetworkFactory` and
//! `RaftNetwork` over TCP.
//!
//! A client connects lazily, on its first RPC, and resolves the peer's address on every
//! connect (container and Kubernetes addresses change across restarts). Connect failures
//! are `Unreachable` (openraft backs off); anything else is a `Network` error. The
//! connection is dropped after any failure.

use std::io;
use std::time::Duration;

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{Backoff, RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use tokio::net::TcpStream;

use super::{read_frame, write_frame, WireError, WireRequest, WireResponse};
use crate::controller::{ControllerError, ControllerReply, ControllerRequest};
use crate::types::{NodeId, PeerNode, TypeConfig};

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// Makes one [`PeerClient`] per peer openraft talks to.
#[derive(Debug, Clone, Default)]
pub struct NetworkFactory;

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &PeerNode) -> PeerClient {
        PeerClient {
            target,
            node: node.clone(),
            connection: None,
        }
    }
}

/// The connection to one peer; openraft sends one RPC at a time through it.
#[derive(Debug)]
pub struct PeerClient {
    target: NodeId,
    node: PeerNode,
    connection: Option<TcpStream>,
}

/// A failed call, before it is shaped into the error type of the RPC at hand.
enum CallError {
    Unreachable(io::Error),
    Network(io::Error),
    Remote(WireError),
}

impl PeerClient {
    /// Sends `request` and waits (within `ttl`) for its answer.
    async fn call(
        &mut self,
        request: WireRequest,
        ttl: Duration,
    ) -> Result<WireResponse, CallError> {
        let result = tokio::time::timeout(ttl, self.call_within(request))
            .await
            .unwrap_or_else(|_| {
                Err(CallError::Network(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no answer from node {} within {ttl:?}", self.target),
                )))
            });
        if result.is_err() {
            self.connection = None;
        }
        result
    }

    async fn call_within(&mut self, request: WireRequest) -> Result<WireResponse, CallError> {
        if self.connection.is_none() {
            let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.node.addr))
                .await
                .unwrap_or_else(|_| {
                    Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))
                })
                .map_err(CallError::Unreachable)?;
            stream.set_nodelay(true).map_err(CallError::Network)?;
            self.connection = Some(stream);
        }
        let Some(stream) = self.connection.as_mut() else {
            return Err(CallError::Network(io::Error::other("no connection")));
        };
        write_frame(stream, &request)
            .await
            .map_err(CallError::Network)?;
        match read_frame(stream).await {
            Ok(Some(response)) => Ok(response),
            Ok(None) => Err(CallError::Network(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "peer closed the connection",
            ))),
            Err(err) => Err(CallError::Network(err)),
        }
    }

    /// The RPC error for a failure that is not the remote's API error.
    fn transport_error<E: std::error::Error>(
        &self,
        failure: CallError,
    ) -> RPCError<NodeId, PeerNode, RaftError<NodeId, E>> {
        match failure {
            CallError::Unreachable(err) => RPCError::Unreachable(Unreachable::new(&err)),
            CallError::Network(err) => RPCError::Network(NetworkError::new(&err)),
            CallError::Remote(err) => RPCError::Network(NetworkError::new(&err)),
        }
    }

    fn unexpected<E: std::error::Error>(&self) -> RPCError<NodeId, PeerNode, RaftError<NodeId, E>> {
        let err = io::Error::new(io::ErrorKind::InvalidData, "answer of the wrong kind");
        RPCError::Network(NetworkError::new(&err))
    }
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, PeerNode, RaftError<NodeId>>> {
        match self
            .call(WireRequest::AppendEntries(rpc), option.hard_ttl())
            .await
        {
            Ok(WireResponse::AppendEntries(Ok(response))) => Ok(response),
            Ok(WireResponse::AppendEntries(Err(err))) => {
                Err(self.transport_error(CallError::Remote(err)))
            }
            Ok(_) => Err(self.unexpected()),
            Err(failure) => Err(self.transport_error(failure)),
        }
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, PeerNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        match self
            .call(WireRequest::InstallSnapshot(rpc), option.hard_ttl())
            .await
        {
            Ok(WireResponse::InstallSnapshot(Ok(response))) => Ok(response),
            // Only this error makes openraft restart the snapshot from its first chunk.
            Ok(WireResponse::InstallSnapshot(Err(WireError::SnapshotMismatch(mismatch)))) => {
                Err(RPCError::RemoteError(RemoteError::new_with_node(
                    self.target,
                    self.node.clone(),
                    RaftError::APIError(InstallSnapshotError::SnapshotMismatch(mismatch)),
                )))
            }
            Ok(WireResponse::InstallSnapshot(Err(err))) => {
                Err(self.transport_error(CallError::Remote(err)))
            }
            Ok(_) => Err(self.unexpected()),
            Err(failure) => Err(self.transport_error(failure)),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, PeerNode, RaftError<NodeId>>> {
        match self.call(WireRequest::Vote(rpc), option.hard_ttl()).await {
            Ok(WireResponse::Vote(Ok(response))) => Ok(response),
            Ok(WireResponse::Vote(Err(err))) => Err(self.transport_error(CallError::Remote(err))),
            Ok(_) => Err(self.unexpected()),
            Err(failure) => Err(self.transport_error(failure)),
        }
    }

    /// 100 ms, doubling up to 1 s (openraft's default is a constant 500 ms), so a peer that
    /// comes back is found quickly.
    fn backoff(&self) -> Backoff {
        let mut delay = Duration::from_millis(100);
        Backoff::new(std::iter::repeat_with(move || {
            let current = delay;
            delay = (delay * 2).min(Duration::from_secs(1));
            current
        }))
    }
}

/// Sends one controller request to the node at `addr` on a connection of its own (these
/// are rare: registrations, heartbeats, admin changes), waiting at most `ttl`.
pub async fn call_controller(
    addr: &str,
    request: ControllerRequest,
    ttl: Duration,
) -> io::Result<Result<ControllerReply, ControllerError>> {
    let exchange = async {
        let mut stream = tokio::time::timeout(CONNECT_TIMEOUT.min(ttl), TcpStream::connect(addr))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        write_frame(&mut stream, &WireRequest::Controller(request)).await?;
        match read_frame(&mut stream).await? {
            Some(WireResponse::Controller(answer)) => Ok(answer),
            Some(_) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "answer of the wrong kind",
            )),
            None => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "controller closed the connection",
            )),
        }
    };
    tokio::time::timeout(ttl, exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer in time"))?
}
