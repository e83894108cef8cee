//! Differential tests of every request body decoder, one module per API (see harness.rs).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod alter_configs;
mod create_partitions;
mod create_topics;
mod delete_records;
mod delete_topics;
mod describe_cluster;
mod describe_configs;
mod describe_log_dirs;
mod fetch;
mod harness;
mod incremental_alter_configs;
mod init_producer_id;
mod list_offsets;
mod produce;
