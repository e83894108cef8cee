//! # petrel-raft: the metadata quorum
//!
//! Empty on purpose: this crate only reserves its place in the workspace. The openraft-based
//! metadata log and its state machine (the metadata image: cluster, brokers, topics,
//! partitions, producer-id blocks) are built here by the metadata-quorum issue. It depends on
//! no workspace crate.

#![forbid(unsafe_code)]
