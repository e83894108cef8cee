//! The controller transport: Raft RPCs between quorum members over TCP, on the controller
//! listener (`--controller-listen`), separate from the Kafka listener.
//!
//! Frames are `length (u32 BE) | postcard(message)`, at most [`FRAME_BYTES_MAX`]: a peer
//! announcing more is dropped before anything is allocated. Each connection carries one
//! request at a time, answered in order; a client drops its connection after any error or
//! timeout, so a late answer can never be taken for the next request's.
//!
//! openraft's own error types never go on the wire: [`WireError`] carries what the caller
//! must act on (a snapshot chunk out of order, or that the remote node failed).

pub mod client;
pub mod server;

use std::io;

use openraft::error::SnapshotMismatch;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::controller::{ControllerError, ControllerReply, ControllerRequest};
use crate::types::{NodeId, TypeConfig};

/// The largest frame either side sends or accepts: a 1 MiB snapshot chunk or a batch of
/// log entries fits with room to spare.
pub const FRAME_BYTES_MAX: usize = 8 << 20;

/// A request from one quorum member to another.
#[derive(Debug, Serialize, Deserialize)]
pub enum WireRequest {
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<NodeId>),
    InstallSnapshot(InstallSnapshotRequest<TypeConfig>),
    /// For the active controller (from a broker, or a voter forwarding an admin request).
    Controller(ControllerRequest),
}

/// The answer to a [`WireRequest`] of the same kind.
#[derive(Debug, Serialize, Deserialize)]
pub enum WireResponse {
    AppendEntries(Result<AppendEntriesResponse<NodeId>, WireError>),
    Vote(Result<VoteResponse<NodeId>, WireError>),
    InstallSnapshot(Result<InstallSnapshotResponse<NodeId>, WireError>),
    Controller(Result<ControllerReply, ControllerError>),
}

/// Why a remote node could not answer.
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
pub enum WireError {
    /// The remote Raft node has stopped or failed (openraft's `Fatal`).
    #[error("remote raft node unavailable: {0}")]
    Unavailable(String),
    /// A snapshot chunk arrived out of order: the sender restarts the snapshot.
    #[error(transparent)]
    SnapshotMismatch(SnapshotMismatch),
}

/// Writes one frame.
pub async fn write_frame<W: AsyncWriteExt + Unpin, T: Serialize>(
    writer: &mut W,
    message: &T,
) -> io::Result<()> {
    let payload = postcard::to_allocvec(message)
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err.to_string()))?;
    if payload.len() > FRAME_BYTES_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("frame of {} bytes over the limit", payload.len()),
        ));
    }
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(&payload);
    writer.write_all(&frame).await?;
    writer.flush().await
}

/// Reads one frame; `Ok(None)` when the peer closed the connection between frames.
pub async fn read_frame<R: AsyncReadExt + Unpin, T: DeserializeOwned>(
    reader: &mut R,
) -> io::Result<Option<T>> {
    let mut length = [0u8; 4];
    match reader.read_exact(&mut length).await {
        Ok(_) => {}
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(err) => return Err(err),
    }
    let length = u32::from_be_bytes(length) as usize;
    if length > FRAME_BYTES_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("peer announced a frame of {length} bytes, over the limit"),
        ));
    }
    let mut payload = vec![0u8; length];
    reader.read_exact(&mut payload).await?;
    postcard::from_bytes(&payload)
        .map(Some)
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err.to_string()))
}
