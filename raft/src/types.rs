//! The Raft type configuration: which command, result, node and snapshot types openraft
//! carries for Petrel's metadata quorum.

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use crate::image::{CommandResult, ControllerCommand};

/// A quorum member's id: Kafka's `node.id` (an `i32` >= 0) widened to openraft's `u64`.
pub type NodeId = u64;

/// A quorum member as the others reach it: its controller listener address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerNode {
    pub addr: String,
}

openraft::declare_raft_types!(
    /// Petrel's metadata log: controller commands in, their results out.
    pub TypeConfig:
        D = ControllerCommand,
        R = CommandResult,
        NodeId = NodeId,
        Node = PeerNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
        Responder = openraft::impls::OneshotResponder<TypeConfig>,
);

pub type LogId = openraft::LogId<NodeId>;
pub type Entry = openraft::Entry<TypeConfig>;
pub type Vote = openraft::Vote<NodeId>;
pub type StorageError = openraft::StorageError<NodeId>;
pub type StoredMembership = openraft::StoredMembership<NodeId, PeerNode>;
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, PeerNode>;
