//! # petrel-groups: consumer groups (classic protocol)
//!
//! Free of I/O on purpose, so that every timeout and rebalance is unit-tested
//! deterministically with an injected clock:
//! - [`coordinator`]: the per-group state machine (Empty, PreparingRebalance,
//!   CompletingRebalance, Stable, Dead), members, generations, static membership, and
//!   committed offsets in memory;
//! - [`records`]: Apache Kafka's key/value schemas for the records of `__consumer_offsets`,
//!   through which the broker makes group state durable and replays it on start-up.
//!
//! The broker owns the sockets, the `__consumer_offsets` partitions and the timers; it feeds
//! requests and clock ticks in and carries the returned effects out.

#![forbid(unsafe_code)]

pub mod coordinator;
pub mod records;
