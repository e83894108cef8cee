//! petrel-raft's integration tests, in one binary so openraft is linked once:
//! openraft's own storage test suite against our stores, and crash recovery of the log.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cluster;
mod faults;
mod log_recovery;
mod quorum;
mod storage_suite;
mod support;
