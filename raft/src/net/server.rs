//! The receiving side of the controller transport: accepts quorum members' connections
//! and hands their Raft RPCs to the local node.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{InstallSnapshotError, RaftError};
use openraft::Raft;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::{debug, warn};

use super::{read_frame, write_frame, WireError, WireRequest, WireResponse};
use crate::controller::{Controller, ControllerError};
use crate::types::{NodeId, TypeConfig};

/// Connections served at once; more wait in the kernel's accept queue.
const CONNECTIONS_MAX: usize = 64;
/// A connection with no request for this long is closed (peers reconnect on demand).
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves Raft RPCs from `listener` to `raft`, and controller requests to `controller`
/// (a node that is not a voter has none and answers that it is not the controller), until
/// the task is dropped or aborted.
pub async fn serve(
    listener: TcpListener,
    raft: Raft<TypeConfig>,
    controller: Option<Arc<Controller>>,
) {
    let slots = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                warn!(%err, "controller listener: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let raft = raft.clone();
        let controller = controller.clone();
        tokio::spawn(async move {
            if let Err(err) = serve_connection(stream, peer, raft, controller).await {
                warn!(%peer, %err, "controller connection closed");
            }
            drop(permit);
        });
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    raft: Raft<TypeConfig>,
    controller: Option<Arc<Controller>>,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    loop {
        let request: WireRequest =
            match tokio::time::timeout(IDLE_TIMEOUT, read_frame(&mut stream)).await {
                Err(_) | Ok(Ok(None)) => return Ok(()),
                Ok(Err(err)) => return Err(err),
                Ok(Ok(Some(request))) => request,
            };
        let response = answer(&raft, controller.as_deref(), request).await;
        debug!(%peer, "controller RPC answered");
        write_frame(&mut stream, &response).await?;
    }
}

async fn answer(
    raft: &Raft<TypeConfig>,
    controller: Option<&Controller>,
    request: WireRequest,
) -> WireResponse {
    fn unavailable<E: std::fmt::Display>(err: RaftError<NodeId, E>) -> WireError {
        WireError::Unavailable(err.to_string())
    }
    match request {
        WireRequest::AppendEntries(rpc) => {
            WireResponse::AppendEntries(raft.append_entries(rpc).await.map_err(unavailable))
        }
        WireRequest::Vote(rpc) => WireResponse::Vote(raft.vote(rpc).await.map_err(unavailable)),
        WireRequest::InstallSnapshot(rpc) => WireResponse::InstallSnapshot(
            raft.install_snapshot(rpc).await.map_err(|err| match err {
                RaftError::APIError(InstallSnapshotError::SnapshotMismatch(mismatch)) => {
                    WireError::SnapshotMismatch(mismatch)
                }
                other => unavailable(other),
            }),
        ),
        WireRequest::Controller(request) => WireResponse::Controller(match controller {
            Some(controller) => controller.handle(request).await,
            None => Err(ControllerError::NotController {
                leader: raft.metrics().borrow().current_leader,
            }),
        }),
    }
}
