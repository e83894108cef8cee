//! The classic-protocol group coordinator: one [`Group`] state machine per consumer group,
//! free of I/O, with the clock passed in.
//!
//! The behaviour follows Apache Kafka's classic group coordinator (`GroupCoordinator` /
//! `GroupMetadata` in 3.x, `ClassicGroup` in 4.x): JoinGroup/SyncGroup rebalances with
//! generations and a leader-chosen assignment, heartbeats and session expiry, KIP-394
//! (member id required), KIP-345 static membership, KIP-814 skip-assignment,
//! `group.initial.rebalance.delay.ms`, batched LeaveGroup, committed offsets with retention,
//! OffsetDelete (KIP-496) and DeleteGroups.
//!
//! # Driving it
//! Every request call takes the current time and a caller-chosen [`ReplyToken`] and returns an
//! [`Outcome`]: the replies that are ready (possibly for tokens of *earlier* requests, e.g. the
//! parked JoinGroups of the other members when the last one joins), the records to append to
//! `__consumer_offsets`, and when to call [`Group::tick`] next. JoinGroup and SyncGroup often
//! get no reply in their own outcome: it comes later, in some other call's outcome.
//!
//! # Durability contract
//! The records of an outcome must be durable before any of its replies is sent. If the append
//! fails, send [`Reply::with_error`] versions instead (Kafka maps append failures to
//! COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR) and rebuild the group from the log with
//! [`Group::replay_group`] / [`Group::replay_offset`]: the in-memory state already moved on, and
//! the log is the truth. Members then see errors and rejoin, as after a coordinator failover.
//!
//! [`GroupCoordinator`] is an optional map of groups around [`Group`] that adds the
//! group-lookup rules (creation on first join or simple commit, unknown-group errors) and one
//! timer index for all groups.

mod config;
pub mod errors;
mod group;
mod ids;
mod join;
mod leave;
mod member;
mod offsets;
mod rebalance;
mod registry;
mod replay;
mod reply;
mod state;
mod subscription;
mod summary;
mod sync;
mod timers;

#[cfg(test)]
mod tests;

pub use config::GroupConfig;
pub use group::Group;
pub use ids::MemberIdGenerator;
pub use join::JoinRequest;
pub use leave::LeaveMember;
pub use member::{Member, Protocol};
pub use offsets::{CommitOffset, FetchedOffset, OffsetCommitRequest, TopicPartitions};
pub use registry::GroupCoordinator;
pub use reply::{
    JoinReply, JoinReplyMember, LeaveMemberReply, LeaveReply, OffsetDeleteReply, PartitionResult,
    Reply, SyncReply,
};
pub use state::GroupState;
pub use subscription::subscribed_topics;
pub use summary::{GroupOverview, GroupSummary, MemberSummary};
pub use sync::{HeartbeatRequest, SyncRequest};

use crate::records::{
    GroupMetadataKey, GroupMetadataValue, OffsetCommitKey, OffsetCommitValue, RecordKey,
};

/// Identifies one request to the caller; the coordinator hands it back with the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplyToken(pub u64);

/// A record to append to the group's `__consumer_offsets` partition; `None` values are
/// tombstones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Group {
        key: GroupMetadataKey,
        value: Option<GroupMetadataValue>,
    },
    Offset {
        key: OffsetCommitKey,
        value: Option<OffsetCommitValue>,
    },
}

impl Record {
    pub fn key(&self) -> RecordKey {
        match self {
            Record::Group { key, .. } => RecordKey::Group(key.clone()),
            Record::Offset { key, .. } => RecordKey::Offset(key.clone()),
        }
    }

    pub fn is_tombstone(&self) -> bool {
        match self {
            Record::Group { value, .. } => value.is_none(),
            Record::Offset { value, .. } => value.is_none(),
        }
    }
}

/// What one call produced. Make `records` durable, then send `replies`, then arrange a
/// [`Group::tick`] at `next_deadline_ms`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Outcome {
    pub replies: Vec<(ReplyToken, Reply)>,
    pub records: Vec<Record>,
    /// The earliest time at which a timer (session, join/sync phase, KIP-394 pending member,
    /// offset-retention check) fires; `None` when nothing is scheduled.
    pub next_deadline_ms: Option<i64>,
}

impl Outcome {
    /// The reply for `token`, if this outcome carries one.
    pub fn reply(&self, token: ReplyToken) -> Option<&Reply> {
        self.replies
            .iter()
            .find(|(t, _)| *t == token)
            .map(|(_, r)| r)
    }

    /// Appends another outcome (e.g. of another group) and keeps the earlier deadline.
    pub fn merge(&mut self, other: Outcome) {
        self.replies.extend(other.replies);
        self.records.extend(other.records);
        self.next_deadline_ms = match (self.next_deadline_ms, other.next_deadline_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Replies and records gathered while one call runs.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    pub(crate) replies: Vec<(ReplyToken, Reply)>,
    pub(crate) records: Vec<Record>,
}

impl Effects {
    pub(crate) fn reply(&mut self, token: ReplyToken, reply: Reply) {
        self.replies.push((token, reply));
    }

    pub(crate) fn join_error(&mut self, token: ReplyToken, member_id: &str, code: i16) {
        self.reply(token, Reply::Join(JoinReply::error(member_id, code)));
    }

    pub(crate) fn sync_error(&mut self, token: ReplyToken, code: i16) {
        self.reply(token, Reply::Sync(SyncReply::error(code)));
    }
}
