//! One member of a classic group: identity, timeouts, protocols and its parked requests.

use bytes::Bytes;

use super::ReplyToken;

/// One entry of JoinGroup's protocol list: an assignor name and the member's metadata for it
/// (for consumers, the consumer-protocol subscription).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol {
    pub name: String,
    pub metadata: Bytes,
}

impl Protocol {
    pub fn new(name: impl Into<String>, metadata: impl Into<Bytes>) -> Self {
        Protocol {
            name: name.into(),
            metadata: metadata.into(),
        }
    }
}

/// A member as the coordinator tracks it.
#[derive(Debug, Clone)]
pub struct Member {
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) rebalance_timeout_ms: i32,
    pub(crate) session_timeout_ms: i32,
    /// In the member's order of preference, which drives protocol selection.
    pub(crate) protocols: Vec<Protocol>,
    pub(crate) assignment: Bytes,
    /// A parked JoinGroup, answered when the join phase completes.
    pub(crate) awaiting_join: Option<ReplyToken>,
    /// A parked SyncGroup, answered when the leader's assignment arrives.
    pub(crate) awaiting_sync: Option<ReplyToken>,
    /// Joined during the current rebalance: such a member can still expire while its
    /// JoinGroup is parked (see `NEW_MEMBER_JOIN_TIMEOUT_MS`).
    pub(crate) is_new: bool,
    /// When the session expires unless a heartbeat (or join/sync activity) pushes it back.
    pub(crate) heartbeat_deadline_ms: i64,
}

impl Member {
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    pub fn group_instance_id(&self) -> Option<&str> {
        self.group_instance_id.as_deref()
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn client_host(&self) -> &str {
        &self.client_host
    }

    pub fn rebalance_timeout_ms(&self) -> i32 {
        self.rebalance_timeout_ms
    }

    pub fn session_timeout_ms(&self) -> i32 {
        self.session_timeout_ms
    }

    pub fn protocols(&self) -> &[Protocol] {
        &self.protocols
    }

    pub fn assignment(&self) -> &Bytes {
        &self.assignment
    }

    pub fn is_awaiting_join(&self) -> bool {
        self.awaiting_join.is_some()
    }

    pub fn is_awaiting_sync(&self) -> bool {
        self.awaiting_sync.is_some()
    }

    /// When the session expires if nothing happens; `None` while a parked JoinGroup or
    /// SyncGroup stands in for heartbeats (the client cannot heartbeat on a muted connection).
    pub fn session_deadline_ms(&self) -> Option<i64> {
        let parked = self.awaiting_join.is_some() || self.awaiting_sync.is_some();
        if parked && !self.is_new {
            None
        } else {
            Some(self.heartbeat_deadline_ms)
        }
    }

    pub(crate) fn metadata(&self, protocol: &str) -> Option<&Bytes> {
        self.protocols
            .iter()
            .find(|p| p.name == protocol)
            .map(|p| &p.metadata)
    }

    pub(crate) fn supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|p| p.name == protocol)
    }

    /// Same protocols, same order, same metadata: a rejoin that changes nothing.
    pub(crate) fn matches(&self, protocols: &[Protocol]) -> bool {
        self.protocols == protocols
    }

    pub(crate) fn reset_session(&mut self, now_ms: i64) {
        self.heartbeat_deadline_ms = now_ms.saturating_add(i64::from(self.session_timeout_ms));
    }
}
