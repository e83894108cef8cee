//! # petrel-storage: the partition log on disk
//!
//! Empty on purpose: this crate only reserves its place in the workspace. The segment
//! log (Kafka-compatible layout, io_uring and portable write backends with group commit,
//! sendfile reads, recovery, retention) is built here by the storage issue. It may depend on
//! `petrel-protocol`'s record-batch module and nothing else in the workspace.
