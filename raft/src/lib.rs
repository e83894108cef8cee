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
//! | the active controller: requests, registration, heartbeats, fencing, cluster id | [`controller`] |
//!
//! This crate depends on no workspace crate and knows no Kafka error codes: the broker maps
//! [`controller::ControllerError`] to them.

#![forbid(unsafe_code)]

pub mod controller;
pub mod durable_file;
pub mod image;
pub mod log_store;
pub mod net;
pub mod placement;
pub mod quorum;
pub mod state_machine;
pub mod types;
