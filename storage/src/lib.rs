//! # petrel-storage: the partition log on disk
//!
//! Kafka's log-directory layout, byte for byte: one directory per partition
//! (`<topic>-<partition>/`) holding segments `<20-digit base offset>.log` of v2 record
//! batches as stored, a sparse offset index `.index`, a time index `.timeindex`, and a
//! `leader-epoch-checkpoint`. Data flows like this:
//!
//! ```text
//! validated batches --PartitionLog::append--> offsets assigned (patched in place)
//!   --Disk::write_at--> segment file --Disk::sync_data (group commit, if Fsync)--> durable
//! PartitionLog::read(from, max_bytes, visible_up_to) --> FileRegions --sendfile--> socket
//! ```
//!
//! I/O goes through a [`io::Disk`] per data directory: an io_uring ring thread or a
//! portable pwrite/fdatasync backend, chosen at start-up by probing. Indexes are derived
//! data: recovery rebuilds them from the log. No networking and no Kafka APIs live here;
//! the only workspace dependency is `petrel_protocol::records`.

#![deny(unsafe_code)]

pub mod io;
pub mod sendfile;

pub mod clock;
pub mod config;
pub mod error;
pub mod index;
pub mod leader_epoch;
pub mod log;
pub mod scan;
pub mod segment;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{LogConfig, TimestampType};
pub use error::{Result, StorageError};
pub use log::{
    AppendInfo, CompactionStats, Durability, FileRegion, PartitionLog, ReadResult,
    RetentionOutcome, TimestampOffset, MAX_DECOMPRESSED_BATCH_BYTES,
};
