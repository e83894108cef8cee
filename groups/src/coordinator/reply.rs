//! What the coordinator answers: one [`Reply`] per request token, carrying every field the
//! broker needs to encode the JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
//! OffsetDelete and DeleteGroups responses at any version.

use bytes::Bytes;

use super::errors;

/// One member listed to the leader in its JoinGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinReplyMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    /// The member's metadata for the chosen protocol.
    pub metadata: Bytes,
}

/// A JoinGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinReply {
    pub error_code: i16,
    /// -1 on errors.
    pub generation_id: i32,
    /// v7+ (null on errors).
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    /// "" on errors.
    pub leader: String,
    /// v9+: the (static) leader must not run the assignor again (KIP-814).
    pub skip_assignment: bool,
    pub member_id: String,
    /// Only the leader gets the member list.
    pub members: Vec<JoinReplyMember>,
}

impl JoinReply {
    /// Kafka's error form: generation -1, no protocol, no leader, no members.
    pub fn error(member_id: impl Into<String>, error_code: i16) -> Self {
        JoinReply {
            error_code,
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            skip_assignment: false,
            member_id: member_id.into(),
            members: Vec::new(),
        }
    }
}

/// A SyncGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReply {
    pub error_code: i16,
    /// v5+ (null on errors).
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: Bytes,
}

impl SyncReply {
    pub fn error(error_code: i16) -> Self {
        SyncReply {
            error_code,
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

/// One member's outcome in a LeaveGroup (v3+ batches several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveMemberReply {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub error_code: i16,
}

/// A LeaveGroup response. For v0-2 (one member, no per-member list) the broker reports the
/// single member's error as the top-level error, as Kafka does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveReply {
    pub error_code: i16,
    pub members: Vec<LeaveMemberReply>,
}

/// The outcome for one partition of OffsetCommit or OffsetDelete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionResult {
    pub topic: String,
    pub partition: i32,
    pub error_code: i16,
}

/// An OffsetDelete response: a group-level error (then no partitions), or per-partition
/// errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetDeleteReply {
    pub error_code: i16,
    pub partitions: Vec<PartitionResult>,
}

/// The answer to one request token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Join(JoinReply),
    Sync(SyncReply),
    Heartbeat {
        error_code: i16,
    },
    Leave(LeaveReply),
    OffsetCommit(Vec<PartitionResult>),
    OffsetDelete(OffsetDeleteReply),
    /// DeleteGroups: (group id, error) for each requested group.
    DeleteGroups(Vec<(String, i16)>),
}

impl Reply {
    /// The top-level error (for per-partition replies: the first non-zero one).
    pub fn error_code(&self) -> i16 {
        match self {
            Reply::Join(r) => r.error_code,
            Reply::Sync(r) => r.error_code,
            Reply::Heartbeat { error_code } => *error_code,
            Reply::Leave(r) => r.error_code,
            Reply::OffsetCommit(parts) => parts
                .iter()
                .map(|p| p.error_code)
                .find(|c| *c != errors::NONE)
                .unwrap_or(errors::NONE),
            Reply::OffsetDelete(r) => r.error_code,
            Reply::DeleteGroups(groups) => groups
                .iter()
                .map(|(_, c)| *c)
                .find(|c| *c != errors::NONE)
                .unwrap_or(errors::NONE),
        }
    }

    /// The same reply turned into a failure with `error_code`: what the broker sends instead
    /// when the outcome's records could not be made durable (e.g. COORDINATOR_NOT_AVAILABLE or
    /// NOT_COORDINATOR, as Kafka maps append errors).
    pub fn with_error(&self, error_code: i16) -> Reply {
        match self {
            Reply::Join(r) => Reply::Join(JoinReply::error(r.member_id.clone(), error_code)),
            Reply::Sync(_) => Reply::Sync(SyncReply::error(error_code)),
            Reply::Heartbeat { .. } => Reply::Heartbeat { error_code },
            Reply::Leave(_) => Reply::Leave(LeaveReply {
                error_code,
                members: Vec::new(),
            }),
            Reply::OffsetCommit(parts) => Reply::OffsetCommit(
                parts
                    .iter()
                    .map(|p| PartitionResult {
                        error_code,
                        ..p.clone()
                    })
                    .collect(),
            ),
            Reply::OffsetDelete(_) => Reply::OffsetDelete(OffsetDeleteReply {
                error_code,
                partitions: Vec::new(),
            }),
            Reply::DeleteGroups(groups) => Reply::DeleteGroups(
                groups
                    .iter()
                    .map(|(g, _)| (g.clone(), error_code))
                    .collect(),
            ),
        }
    }
}
