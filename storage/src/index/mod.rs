//! Segment indexes in Kafka's on-disk format. Both are derived data: recovery rebuilds
//! them from the log, so they are written without fsync on the append path.
//!
//! The types here are pure (entries in memory, encode/decode of the file bytes); the
//! segment writes the bytes through the disk backend.

pub mod offset_index;
pub mod time_index;

pub use offset_index::{OffsetEntry, OffsetIndex};
pub use time_index::{TimeEntry, TimeIndex};
