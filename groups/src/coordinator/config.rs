//! Broker settings the coordinator obeys, with Apache Kafka's defaults.

/// The `group.*` and `offsets.*` broker settings that shape a group's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupConfig {
    /// `group.min.session.timeout.ms`: JoinGroup below it gets INVALID_SESSION_TIMEOUT.
    pub min_session_timeout_ms: i32,
    /// `group.max.session.timeout.ms`: JoinGroup above it gets INVALID_SESSION_TIMEOUT.
    pub max_session_timeout_ms: i32,
    /// `group.initial.rebalance.delay.ms`: how long an Empty group's first join phase waits
    /// for more members before completing.
    pub initial_rebalance_delay_ms: i32,
    /// `group.max.size`: members beyond it get GROUP_MAX_SIZE_REACHED.
    pub max_size: usize,
    /// `offsets.retention.minutes` in ms: how long committed offsets outlive the group's
    /// members (or their last commit, for groups without members).
    pub offsets_retention_ms: i64,
    /// `offsets.retention.check.interval.ms`: how often a group runs its offset expiry (and
    /// the removal of an Empty group left without offsets).
    pub offsets_retention_check_interval_ms: i64,
    /// `offset.metadata.max.bytes`: longer commit metadata gets OFFSET_METADATA_TOO_LARGE.
    pub offset_metadata_max_bytes: usize,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            min_session_timeout_ms: 6_000,
            max_session_timeout_ms: 1_800_000,
            initial_rebalance_delay_ms: 3_000,
            // Kafka's default is Integer.MAX_VALUE, i.e. unlimited.
            max_size: i32::MAX as usize,
            offsets_retention_ms: 7 * 24 * 60 * 60 * 1000,
            offsets_retention_check_interval_ms: 600_000,
            offset_metadata_max_bytes: 4096,
        }
    }
}

/// How long a member that joined during the current rebalance may wait for the join phase to
/// complete before it is dropped. Its connection is muted while JoinGroup is parked, so a
/// client that gave up and retried would otherwise leave a defunct member behind (Kafka's
/// `NewMemberJoinTimeoutMs`).
pub(crate) const NEW_MEMBER_JOIN_TIMEOUT_MS: i64 = 5 * 60 * 1000;
