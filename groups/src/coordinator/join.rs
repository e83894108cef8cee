//! JoinGroup: new members (dynamic, KIP-394 pending, static), rejoining members, and the
//! static-member replacement that avoids a rebalance (KIP-345).

use super::config::NEW_MEMBER_JOIN_TIMEOUT_MS;
use super::member::{Member, Protocol};
use super::reply::{JoinReply, Reply};
use super::state::GroupState;
use super::{errors, Effects, Group, MemberIdGenerator, Outcome, ReplyToken};

/// A JoinGroup request, all versions. The broker fills the fields older versions lack:
/// `rebalance_timeout_ms` = session timeout for v0, `require_known_member_id` = (version >= 4),
/// `supports_skip_assignment` = (version >= 9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    /// "" for a first join.
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub require_known_member_id: bool,
    pub supports_skip_assignment: bool,
    pub client_id: String,
    pub client_host: String,
    pub rebalance_timeout_ms: i32,
    pub session_timeout_ms: i32,
    pub protocol_type: String,
    pub protocols: Vec<Protocol>,
}

/// How many times a freshly generated member id may collide before giving up on uniqueness
/// checks (a collision needs a repeated 122-bit value; this only bounds the loop).
const MEMBER_ID_ATTEMPTS: usize = 8;

impl Group {
    /// Handles a JoinGroup. The reply for `token` may come in this outcome (errors, KIP-394,
    /// rejoins that change nothing) or in a later one, when the join phase completes.
    pub fn join(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        request: JoinRequest,
        ids: &mut MemberIdGenerator,
    ) -> Outcome {
        self.run(now_ms, |group, fx| {
            group.handle_join(now_ms, token, request, ids, fx)
        })
    }

    fn handle_join(
        &mut self,
        now: i64,
        token: ReplyToken,
        req: JoinRequest,
        ids: &mut MemberIdGenerator,
        fx: &mut Effects,
    ) {
        if req.session_timeout_ms < self.config.min_session_timeout_ms
            || req.session_timeout_ms > self.config.max_session_timeout_ms
        {
            fx.join_error(token, &req.member_id, errors::INVALID_SESSION_TIMEOUT);
            return;
        }
        if !self.accept_joining_member(&req.member_id) {
            // Kafka also drops the member: in a shrunk or full group the last ones to rejoin
            // are shed, and they are not expected by the join phase any more.
            self.remove_member(&req.member_id, fx);
            fx.join_error(token, "", errors::GROUP_MAX_SIZE_REACHED);
            return;
        }
        if req.member_id.is_empty() {
            self.join_new_member(now, token, req, ids, fx);
        } else {
            self.join_known_member(now, token, req, fx);
        }
    }

    /// Kafka's `acceptJoiningMember`. While preparing a rebalance the count of members that
    /// already rejoined is used, so that when the group is over `max_size` (the setting was
    /// lowered) the last ones to rejoin are the ones refused.
    fn accept_joining_member(&self, member_id: &str) -> bool {
        let max = self.config.max_size;
        match self.state {
            GroupState::Empty | GroupState::Dead => true,
            GroupState::PreparingRebalance => {
                self.members
                    .get(member_id)
                    .is_some_and(|m| m.awaiting_join.is_some())
                    || self.awaiting_join_count() < max
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.members.contains_key(member_id) || self.members.len() < max
            }
        }
    }

    fn join_new_member(
        &mut self,
        now: i64,
        token: ReplyToken,
        req: JoinRequest,
        ids: &mut MemberIdGenerator,
        fx: &mut Effects,
    ) {
        if self.state == GroupState::Dead {
            fx.join_error(token, "", errors::COORDINATOR_NOT_AVAILABLE);
            return;
        }
        if !self.supports_protocols(&req.protocol_type, &req.protocols) {
            fx.join_error(token, "", errors::INCONSISTENT_GROUP_PROTOCOL);
            return;
        }
        let prefix = req
            .group_instance_id
            .clone()
            .unwrap_or_else(|| req.client_id.clone());
        let new_id = self.fresh_member_id(&prefix, ids);
        match req.group_instance_id.clone() {
            Some(instance) => match self.static_members.get(&instance).cloned() {
                Some(old_id) => {
                    self.replace_static_member(now, token, &old_id, new_id, &instance, req, fx)
                }
                None => self.add_member_and_rebalance(now, token, new_id, Some(instance), req, fx),
            },
            None if req.require_known_member_id => {
                // KIP-394: the id is only reserved; the member is expected back with it within
                // its session timeout, and a rebalance waits for it meanwhile.
                let deadline = now.saturating_add(i64::from(req.session_timeout_ms));
                self.pending_members.insert(new_id.clone(), deadline);
                fx.join_error(token, &new_id, errors::MEMBER_ID_REQUIRED);
            }
            None => self.add_member_and_rebalance(now, token, new_id, None, req, fx),
        }
    }

    fn fresh_member_id(&self, prefix: &str, ids: &mut MemberIdGenerator) -> String {
        let mut id = ids.next_id(prefix);
        for _ in 1..MEMBER_ID_ATTEMPTS {
            if !self.members.contains_key(&id) && !self.pending_members.contains_key(&id) {
                break;
            }
            id = ids.next_id(prefix);
        }
        id
    }

    fn join_known_member(
        &mut self,
        now: i64,
        token: ReplyToken,
        req: JoinRequest,
        fx: &mut Effects,
    ) {
        let member_id = req.member_id.clone();
        if self.state == GroupState::Dead {
            fx.join_error(token, &member_id, errors::COORDINATOR_NOT_AVAILABLE);
            return;
        }
        if !self.supports_protocols(&req.protocol_type, &req.protocols) {
            fx.join_error(token, &member_id, errors::INCONSISTENT_GROUP_PROTOCOL);
            return;
        }
        if self.pending_members.contains_key(&member_id) {
            if req.group_instance_id.is_some() {
                // Pending ids are only handed to dynamic members; Kafka treats this as an
                // internal error. Asking the client to start over is the useful equivalent.
                fx.join_error(token, &member_id, errors::UNKNOWN_MEMBER_ID);
            } else {
                self.add_member_and_rebalance(now, token, member_id, None, req, fx);
            }
            return;
        }
        if let Some(code) = self.validate_member(&member_id, req.group_instance_id.as_deref()) {
            fx.join_error(token, &member_id, code);
            return;
        }
        let (is_leader, unchanged) = match self.members.get(&member_id) {
            Some(m) => (
                self.leader_id.as_deref() == Some(member_id.as_str()),
                m.matches(&req.protocols),
            ),
            None => {
                fx.join_error(token, &member_id, errors::UNKNOWN_MEMBER_ID);
                return;
            }
        };
        match self.state {
            GroupState::PreparingRebalance => self.update_member_and_rebalance(now, token, req, fx),
            // Same metadata: most likely the JoinGroup response was lost; resend the current
            // generation rather than start another rebalance.
            GroupState::CompletingRebalance if unchanged => {
                let reply = self.current_generation_reply(&member_id, is_leader);
                fx.reply(token, Reply::Join(reply));
            }
            GroupState::CompletingRebalance => {
                self.update_member_and_rebalance(now, token, req, fx)
            }
            // The leader rejoining forces a rebalance: that is how it reacts to changes the
            // member metadata does not show (e.g. new partitions of a subscribed topic).
            GroupState::Stable if is_leader || !unchanged => {
                self.update_member_and_rebalance(now, token, req, fx)
            }
            GroupState::Stable => {
                let reply = self.current_generation_reply(&member_id, false);
                fx.reply(token, Reply::Join(reply));
            }
            GroupState::Empty | GroupState::Dead => {
                fx.join_error(token, &member_id, errors::UNKNOWN_MEMBER_ID)
            }
        }
    }

    fn current_generation_reply(&self, member_id: &str, with_members: bool) -> JoinReply {
        JoinReply {
            error_code: errors::NONE,
            generation_id: self.generation_id,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader_id.clone().unwrap_or_default(),
            skip_assignment: false,
            member_id: member_id.to_owned(),
            members: if with_members {
                self.join_member_list()
            } else {
                Vec::new()
            },
        }
    }

    fn add_member_and_rebalance(
        &mut self,
        now: i64,
        token: ReplyToken,
        member_id: String,
        group_instance_id: Option<String>,
        req: JoinRequest,
        fx: &mut Effects,
    ) {
        let member = Member {
            member_id,
            group_instance_id,
            client_id: req.client_id,
            client_host: req.client_host,
            rebalance_timeout_ms: req.rebalance_timeout_ms,
            session_timeout_ms: req.session_timeout_ms,
            protocols: req.protocols,
            assignment: bytes::Bytes::new(),
            awaiting_join: Some(token),
            awaiting_sync: None,
            is_new: true,
            heartbeat_deadline_ms: now.saturating_add(NEW_MEMBER_JOIN_TIMEOUT_MS),
        };
        // Only the very first rebalance of a group is stretched by newcomers (Kafka checks
        // generation 0, not merely "started from Empty").
        if self.state == GroupState::PreparingRebalance && self.generation_id == 0 {
            self.new_member_added = true;
        }
        self.add_member(member, &req.protocol_type);
        self.maybe_prepare_rebalance(now, fx);
    }

    fn update_member_and_rebalance(
        &mut self,
        now: i64,
        token: ReplyToken,
        req: JoinRequest,
        fx: &mut Effects,
    ) {
        if let Some(member) = self.members.get_mut(&req.member_id) {
            member.protocols = req.protocols;
            member.rebalance_timeout_ms = req.rebalance_timeout_ms;
            member.session_timeout_ms = req.session_timeout_ms;
            if let Some(previous) = member.awaiting_join.replace(token) {
                // A retried JoinGroup supersedes the parked one; answer the old token so the
                // caller does not keep it forever (Kafka silently drops it).
                fx.join_error(previous, &req.member_id, errors::REBALANCE_IN_PROGRESS);
            }
        }
        self.maybe_prepare_rebalance(now, fx);
    }

    /// A known group.instance.id joins with an unknown member id (a restarted static member):
    /// it takes over the old member's place under a new id, and the old id is fenced.
    #[allow(clippy::too_many_arguments)]
    fn replace_static_member(
        &mut self,
        now: i64,
        token: ReplyToken,
        old_id: &str,
        new_id: String,
        instance: &str,
        req: JoinRequest,
        fx: &mut Effects,
    ) {
        let previous_leader = self.leader_id.clone();
        let Some(mut member) = self.members.remove(old_id) else {
            fx.join_error(token, "", errors::UNKNOWN_MEMBER_ID);
            return;
        };
        // Whoever still waits under the old id is a zombie of the same instance.
        if let Some(t) = member.awaiting_join.take() {
            fx.join_error(t, old_id, errors::FENCED_INSTANCE_ID);
        }
        if let Some(t) = member.awaiting_sync.take() {
            fx.sync_error(t, errors::FENCED_INSTANCE_ID);
        }
        member.member_id = new_id.clone();
        member.is_new = false;
        member.protocols = req.protocols;
        member.rebalance_timeout_ms = req.rebalance_timeout_ms;
        member.session_timeout_ms = req.session_timeout_ms;
        member.awaiting_join = Some(token);
        member.reset_session(now);
        if previous_leader.as_deref() == Some(old_id) {
            self.leader_id = Some(new_id.clone());
        }
        if self.pending_sync.remove(old_id) {
            self.pending_sync.insert(new_id.clone());
        }
        self.static_members
            .insert(instance.to_owned(), new_id.clone());
        self.members.insert(new_id.clone(), member);

        match self.state {
            GroupState::Stable => {
                // Only a change of the group's protocol needs a rebalance; a changed
                // subscription under the same protocol does not (as in Kafka).
                let next_protocol = self.select_protocol();
                if next_protocol.is_some() && next_protocol == self.protocol_name {
                    self.answer_replaced_static_member(
                        &new_id,
                        previous_leader,
                        req.supports_skip_assignment,
                        fx,
                    );
                } else {
                    self.maybe_prepare_rebalance(now, fx);
                }
            }
            // The leader may already be assigning with the old id, which would leave the new
            // id without an assignment: rebalance.
            GroupState::CompletingRebalance => self.prepare_rebalance(now, fx),
            GroupState::PreparingRebalance => {}
            GroupState::Empty | GroupState::Dead => self.maybe_prepare_rebalance(now, fx),
        }
    }

    /// The Stable, unchanged-protocol case of a static member's return: no rebalance; persist
    /// the new member id and answer at once.
    fn answer_replaced_static_member(
        &mut self,
        new_id: &str,
        previous_leader: Option<String>,
        supports_skip_assignment: bool,
        fx: &mut Effects,
    ) {
        self.persist_snapshot(fx);
        let is_leader = self.leader_id.as_deref() == Some(new_id);
        let reply = if supports_skip_assignment {
            // KIP-814: a returning leader learns it leads (to keep watching metadata) but must
            // not assign, since a Stable group would not distribute the result.
            JoinReply {
                skip_assignment: is_leader,
                ..self.current_generation_reply(new_id, is_leader)
            }
        } else {
            // Older clients: report the old leader id, which matches no live member id, so
            // the returning leader does not run a pointless assignment.
            JoinReply {
                leader: previous_leader.unwrap_or_default(),
                ..self.current_generation_reply(new_id, false)
            }
        };
        if let Some(member) = self.members.get_mut(new_id) {
            if let Some(t) = member.awaiting_join.take() {
                fx.reply(t, Reply::Join(reply));
            }
        }
    }
}
