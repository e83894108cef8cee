//! LeaveGroup (batched, by member id or by group.instance.id) and DeleteGroups.

use super::reply::{LeaveMemberReply, LeaveReply, Reply};
use super::state::GroupState;
use super::{errors, Effects, Group, Outcome, Record, ReplyToken};

/// One member named in a LeaveGroup request (v0-2 carry exactly one, without instance id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveMember {
    /// "" when an admin removes a static member by instance id.
    pub member_id: String,
    pub group_instance_id: Option<String>,
}

impl Group {
    /// Handles a LeaveGroup; the reply is always in this outcome (the departures may also
    /// complete other members' parked JoinGroups).
    pub fn leave(&mut self, now_ms: i64, token: ReplyToken, members: Vec<LeaveMember>) -> Outcome {
        self.run(now_ms, |group, fx| {
            let reply = group.handle_leave(now_ms, members, fx);
            fx.reply(token, Reply::Leave(reply));
        })
    }

    fn handle_leave(
        &mut self,
        now: i64,
        members: Vec<LeaveMember>,
        fx: &mut Effects,
    ) -> LeaveReply {
        if self.state == GroupState::Dead {
            return LeaveReply {
                error_code: errors::COORDINATOR_NOT_AVAILABLE,
                members: Vec::new(),
            };
        }
        let results = members
            .into_iter()
            .map(|leaving| {
                let code = self.leave_one(now, &leaving, fx);
                LeaveMemberReply {
                    member_id: leaving.member_id,
                    group_instance_id: leaving.group_instance_id,
                    error_code: code,
                }
            })
            .collect();
        LeaveReply {
            error_code: errors::NONE,
            members: results,
        }
    }

    fn leave_one(&mut self, now: i64, leaving: &LeaveMember, fx: &mut Effects) -> i16 {
        if leaving.member_id.is_empty() {
            // Administrative removal of a static member by its instance id.
            let current = leaving
                .group_instance_id
                .as_ref()
                .and_then(|i| self.static_members.get(i))
                .cloned();
            return match current {
                Some(member_id) => {
                    self.remove_member_and_rebalance(&member_id, now, fx);
                    errors::NONE
                }
                None => errors::UNKNOWN_MEMBER_ID,
            };
        }
        if self.pending_members.contains_key(&leaving.member_id) {
            self.remove_member(&leaving.member_id, fx);
            self.try_complete_join(now, fx);
            return errors::NONE;
        }
        match self.validate_member(&leaving.member_id, leaving.group_instance_id.as_deref()) {
            Some(code) => code,
            None => {
                self.remove_member_and_rebalance(&leaving.member_id, now, fx);
                errors::NONE
            }
        }
    }

    /// The per-group part of DeleteGroups: only an Empty group may be deleted; it becomes Dead
    /// and its offsets and metadata are tombstoned. The reply is `Reply::DeleteGroups` with
    /// this group's entry (GROUP_ID_NOT_FOUND if already Dead, NON_EMPTY_GROUP with members).
    pub fn delete(&mut self, now_ms: i64, token: ReplyToken) -> Outcome {
        self.run(now_ms, |group, fx| {
            let code = group.handle_delete(now_ms, fx);
            fx.reply(
                token,
                Reply::DeleteGroups(vec![(group.group_id.clone(), code)]),
            );
        })
    }

    pub(crate) fn handle_delete(&mut self, now: i64, fx: &mut Effects) -> i16 {
        match self.state {
            GroupState::Dead => errors::GROUP_ID_NOT_FOUND,
            GroupState::Stable
            | GroupState::PreparingRebalance
            | GroupState::CompletingRebalance => errors::NON_EMPTY_GROUP,
            GroupState::Empty => {
                let all: Vec<(String, i32)> =
                    self.offsets().map(|(t, p, _)| (t.to_owned(), p)).collect();
                for (topic, partition) in all {
                    self.remove_offset(&topic, partition, fx);
                }
                self.transition(GroupState::Dead, now);
                fx.records.push(Record::Group {
                    key: self.group_key(),
                    value: None,
                });
                errors::NONE
            }
        }
    }
}
