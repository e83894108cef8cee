//! SyncGroup (the leader's assignment, distributed to every member) and Heartbeat.

use bytes::Bytes;

use super::reply::{Reply, SyncReply};
use super::state::GroupState;
use super::{errors, Effects, Group, Outcome, ReplyToken};

/// A SyncGroup request, all versions (`protocol_type`/`protocol_name` are v5+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    pub member_id: String,
    pub generation_id: i32,
    pub group_instance_id: Option<String>,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    /// Only the leader's is used: (member id, assignment) for each member.
    pub assignments: Vec<(String, Bytes)>,
}

/// A Heartbeat request, all versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatRequest {
    pub member_id: String,
    pub generation_id: i32,
    pub group_instance_id: Option<String>,
}

impl Group {
    /// Handles a SyncGroup. Followers' replies wait for the leader's; the leader's SyncGroup
    /// answers everyone waiting and persists the group.
    pub fn sync(&mut self, now_ms: i64, token: ReplyToken, request: SyncRequest) -> Outcome {
        self.run(now_ms, |group, fx| {
            group.handle_sync(now_ms, token, request, fx)
        })
    }

    /// Handles a Heartbeat; the reply is always in this outcome.
    pub fn heartbeat(
        &mut self,
        now_ms: i64,
        token: ReplyToken,
        request: HeartbeatRequest,
    ) -> Outcome {
        self.run(now_ms, |group, fx| {
            let code = group.handle_heartbeat(now_ms, &request);
            fx.reply(token, Reply::Heartbeat { error_code: code });
        })
    }

    fn validate_sync(&self, req: &SyncRequest) -> Option<i16> {
        if self.state == GroupState::Dead {
            return Some(errors::COORDINATOR_NOT_AVAILABLE);
        }
        if let Some(code) = self.validate_member(&req.member_id, req.group_instance_id.as_deref()) {
            return Some(code);
        }
        if req.generation_id != self.generation_id {
            return Some(errors::ILLEGAL_GENERATION);
        }
        let type_mismatch = req
            .protocol_type
            .as_ref()
            .is_some_and(|t| self.protocol_type.as_ref() != Some(t));
        let name_mismatch = req
            .protocol_name
            .as_ref()
            .is_some_and(|n| self.protocol_name.as_ref() != Some(n));
        if type_mismatch || name_mismatch {
            return Some(errors::INCONSISTENT_GROUP_PROTOCOL);
        }
        None
    }

    fn handle_sync(&mut self, now: i64, token: ReplyToken, req: SyncRequest, fx: &mut Effects) {
        if let Some(code) = self.validate_sync(&req) {
            fx.sync_error(token, code);
            return;
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => fx.sync_error(token, errors::UNKNOWN_MEMBER_ID),
            GroupState::PreparingRebalance => fx.sync_error(token, errors::REBALANCE_IN_PROGRESS),
            GroupState::CompletingRebalance => {
                self.pending_sync.remove(&req.member_id);
                if let Some(member) = self.members.get_mut(&req.member_id) {
                    if let Some(previous) = member.awaiting_sync.replace(token) {
                        // A retried SyncGroup supersedes the parked one.
                        fx.sync_error(previous, errors::REBALANCE_IN_PROGRESS);
                    }
                }
                if self.leader_id.as_deref() == Some(req.member_id.as_str()) {
                    self.complete_sync(now, req.assignments, fx);
                }
            }
            GroupState::Stable => {
                self.pending_sync.remove(&req.member_id);
                if let Some(member) = self.members.get_mut(&req.member_id) {
                    member.reset_session(now);
                    let reply = SyncReply {
                        error_code: errors::NONE,
                        protocol_type: self.protocol_type.clone(),
                        protocol_name: self.protocol_name.clone(),
                        assignment: member.assignment.clone(),
                    };
                    fx.reply(token, Reply::Sync(reply));
                }
            }
        }
    }

    /// The leader's assignment: members it left out get an empty one, ids it invented are
    /// ignored; the group is persisted, then Stable.
    fn complete_sync(&mut self, now: i64, assignments: Vec<(String, Bytes)>, fx: &mut Effects) {
        for member in self.members.values_mut() {
            member.assignment = assignments
                .iter()
                .rev()
                .find(|(id, _)| *id == member.member_id)
                .map(|(_, a)| a.clone())
                .unwrap_or_default();
        }
        // Written with the CompletingRebalance timestamp, as Kafka does (the store happens
        // before the transition).
        self.persist_snapshot(fx);
        self.propagate_assignment(now, fx);
        self.transition(GroupState::Stable, now);
    }

    fn handle_heartbeat(&mut self, now: i64, req: &HeartbeatRequest) -> i16 {
        if self.state == GroupState::Dead {
            return errors::COORDINATOR_NOT_AVAILABLE;
        }
        if let Some(code) = self.validate_member(&req.member_id, req.group_instance_id.as_deref()) {
            return code;
        }
        if req.generation_id != self.generation_id {
            return errors::ILLEGAL_GENERATION;
        }
        let state = self.state;
        let Some(member) = self.members.get_mut(&req.member_id) else {
            return errors::UNKNOWN_MEMBER_ID;
        };
        match state {
            GroupState::Empty | GroupState::Dead => errors::UNKNOWN_MEMBER_ID,
            // Members may heartbeat between their JoinGroup and SyncGroup responses.
            GroupState::CompletingRebalance | GroupState::Stable => {
                member.reset_session(now);
                errors::NONE
            }
            // The session is still extended: the member is alive, just told to rejoin.
            GroupState::PreparingRebalance => {
                member.reset_session(now);
                errors::REBALANCE_IN_PROGRESS
            }
        }
    }
}
