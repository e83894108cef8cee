//! The five states of a classic group and the transitions Kafka allows between them.

/// A group's state; [`GroupState::as_str`] gives the name Kafka reports in DescribeGroups and
/// ListGroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupState {
    /// No members (offsets may remain); the next JoinGroup starts a rebalance.
    Empty,
    /// Waiting for every member to (re)join; JoinGroup responses are parked.
    PreparingRebalance,
    /// Waiting for the leader's assignment; SyncGroup responses are parked.
    CompletingRebalance,
    /// Every member has the current generation's assignment.
    Stable,
    /// Deleted or expired; the owner drops the group.
    Dead,
}

impl GroupState {
    pub const ALL: [GroupState; 5] = [
        GroupState::Empty,
        GroupState::PreparingRebalance,
        GroupState::CompletingRebalance,
        GroupState::Stable,
        GroupState::Dead,
    ];

    /// Kafka's name for the state, exactly as clients and tools expect it.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }

    /// Case-insensitive, as ListGroups' state filter is matched in Kafka.
    pub fn parse(name: &str) -> Option<GroupState> {
        GroupState::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }

    /// Kafka's `validPreviousStates`: whether `self -> to` is a legal transition.
    pub fn can_transition_to(self, to: GroupState) -> bool {
        use GroupState::*;
        match to {
            PreparingRebalance => matches!(self, Stable | CompletingRebalance | Empty),
            CompletingRebalance => self == PreparingRebalance,
            Stable => self == CompletingRebalance,
            Empty => self == PreparingRebalance,
            Dead => true,
        }
    }
}

impl std::fmt::Display for GroupState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
