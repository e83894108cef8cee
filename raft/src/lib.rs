//! # petrel-raft: the metadata quorum
//!
//! The metadata log of ARCHITECTURE.md on openraft 0.9 (plan and order of work:
//! `raft/PLAN.md`). What exists so far, by openraft trait:
//!
//! | piece | file |
//! | --- | --- |
//! | type configuration (`declare_raft_types!`) | [`types`] |
//! | the metadata image and its commands (the state machine's data) | [`image`] |
//! | `RaftLogStorage` + `RaftLogReader`: the log file and the vote | [`log_store`] |
//! | `RaftStateMachine` + `RaftSnapshotBuilder`: image, snapshots | [`state_machine`] |
//! | `RaftNetworkFactory` + `RaftNetwork`, and the listener side: the TCP transport | [`net`] |
//! | start-up, initialization and proposals: the broker's entry point | [`quorum`] |
//! | replica placement for new partitions (Kafka's rack-aware round robin) | [`placement`] |
//!
//! Not yet: the controller's duties (registration, heartbeats, fencing, placement), the
//! cluster-id agreement and legacy import of PLAN.md §4, and the broker's use of the image
//! (the broker still keeps its own topic registry). This crate depends on no
//! workspace crate.

#![forbid(unsafe_code)]

pub mod durable_file;
pub mod image;
pub mod log_store;
pub mod net;
pub mod placement;
pub mod quorum;
pub mod state_machine;
pub mod types;
