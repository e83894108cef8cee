//! Membership over time: session expiry, members that do not rejoin or sync, KIP-394 pending
//! members, LeaveGroup batches and DeleteGroups.

use super::*;

#[test]
fn silent_member_expires_and_the_rest_form_a_new_generation() {
    let (mut h, ids) = H::stable_group(3);
    let (quiet, alive) = (ids[0].clone(), [ids[1].clone(), ids[2].clone()]);
    // The others heartbeat every 3 s; the quiet one's session (10 s since its sync) runs out.
    let synced_at = h.now;
    let mut t = synced_at;
    while t + 3_000 < synced_at + i64::from(SESSION) {
        t += 3_000;
        h.tick_to(t);
        for id in &alive {
            assert_eq!(h.heartbeat(id, 1, None), errors::NONE);
        }
    }
    assert!(h.g.member(&quiet).is_some());
    h.tick_to(synced_at + i64::from(SESSION));
    assert!(
        h.g.member(&quiet).is_none(),
        "expired after the session timeout"
    );
    assert_eq!(h.g.state(), GroupState::PreparingRebalance);
    assert_eq!(
        h.heartbeat(&alive[0], 1, None),
        errors::REBALANCE_IN_PROGRESS
    );
    let a = h.join(req(&alive[0]));
    assert!(!h.answered(a));
    let b = h.join(req(&alive[1]));
    for t in [a, b] {
        let r = h.join_reply(t);
        assert_eq!((r.error_code, r.generation_id), (errors::NONE, 2));
        assert!(alive.contains(&r.leader));
    }
    assert_eq!(h.g.member_count(), 2);
}

#[test]
fn dynamic_member_that_does_not_rejoin_is_removed_at_the_rebalance_timeout() {
    let (mut h, ids) = H::stable_group(2);
    let leader = h.g.leader_id().unwrap().to_owned();
    let other = ids.iter().find(|i| **i != leader).unwrap().clone();
    let start = h.now;
    let lt = h.join(req(&leader));
    // The other member keeps heartbeating but ignores REBALANCE_IN_PROGRESS.
    let mut t = start;
    while t + 5_000 < start + i64::from(REBALANCE) {
        t += 5_000;
        h.tick_to(t);
        assert_eq!(h.heartbeat(&leader, 1, None), errors::REBALANCE_IN_PROGRESS);
        assert_eq!(h.heartbeat(&other, 1, None), errors::REBALANCE_IN_PROGRESS);
    }
    assert!(!h.answered(lt));
    h.tick_to(start + i64::from(REBALANCE));
    let r = h.join_reply(lt);
    assert_eq!((r.generation_id, r.members.len()), (2, 1));
    assert!(h.g.member(&other).is_none());
    assert_eq!(h.heartbeat(&other, 1, None), errors::UNKNOWN_MEMBER_ID);
}

#[test]
fn static_leader_that_does_not_rejoin_stays_but_loses_the_lead() {
    let mut h = H::new(GroupConfig::default());
    let a = h.join(static_req("", "ia"));
    let b = h.join(req(""));
    h.run_until_answered(&[a, b]);
    h.sync_all();
    let (a_id, b_id) = (
        h.join_reply(a).member_id.clone(),
        h.join_reply(b).member_id.clone(),
    );
    assert_eq!(h.g.leader_id(), Some(a_id.as_str()), "first to join leads");
    // B changes its subscription: rebalance. A keeps heartbeating but does not rejoin.
    let mut changed = req(&b_id);
    changed.protocols = vec![Protocol::new("range", subscription(&["t", "u"]))];
    let start = h.now;
    let bt = h.join(changed);
    let mut t = start;
    while t + 5_000 < start + i64::from(REBALANCE) {
        t += 5_000;
        h.tick_to(t);
        assert_eq!(
            h.heartbeat(&a_id, 1, Some("ia")),
            errors::REBALANCE_IN_PROGRESS
        );
    }
    h.tick_to(start + i64::from(REBALANCE));
    let r = h.join_reply(bt);
    assert_eq!(r.leader, b_id, "a member that rejoined leads");
    assert_eq!(
        r.members.len(),
        2,
        "the static member is kept in the generation"
    );
    assert!(h.g.member(&a_id).is_some());
}

#[test]
fn member_that_never_syncs_is_removed_at_the_sync_timeout() {
    let (mut h, ids) = H::stable_group(2);
    let leader = h.g.leader_id().unwrap().to_owned();
    let other = ids.iter().find(|i| **i != leader).unwrap().clone();
    let lt = h.join(req(&leader));
    let ot = h.join(req(&other));
    assert_eq!(h.join_reply(lt).generation_id, 2);
    assert_eq!(h.join_reply(ot).generation_id, 2);
    let joined_at = h.now;
    let all = vec![
        (leader.clone(), assignment(&leader)),
        (other.clone(), assignment(&other)),
    ];
    let st = h.sync(&leader, all);
    assert_eq!(h.sync_reply(st).error_code, errors::NONE);
    assert_eq!(h.g.state(), GroupState::Stable);
    // The follower heartbeats (so its session lives) but never sends SyncGroup.
    let mut t = joined_at;
    while t + 5_000 < joined_at + i64::from(REBALANCE) {
        t += 5_000;
        h.tick_to(t);
        assert_eq!(h.heartbeat(&other, 2, None), errors::NONE);
        assert_eq!(h.heartbeat(&leader, 2, None), errors::NONE);
    }
    h.tick_to(joined_at + i64::from(REBALANCE));
    assert!(h.g.member(&other).is_none());
    assert_eq!(h.g.state(), GroupState::PreparingRebalance);
}

#[test]
fn member_id_required_flow() {
    let mut h = H::no_delay();
    let first = h.join(JoinRequest {
        require_known_member_id: true,
        ..req("")
    });
    let r = h.join_reply(first).clone();
    assert_eq!(r.error_code, errors::MEMBER_ID_REQUIRED);
    assert!(r.member_id.starts_with("client-"));
    assert_eq!(h.g.state(), GroupState::Empty);
    assert_eq!(
        h.g.pending_member_ids().collect::<Vec<_>>(),
        vec![r.member_id.as_str()]
    );
    let second = h.join(JoinRequest {
        require_known_member_id: true,
        ..req(&r.member_id)
    });
    let r2 = h.join_reply(second);
    assert_eq!((r2.error_code, r2.generation_id), (errors::NONE, 1));
    assert_eq!(r2.member_id, r.member_id);
    assert_eq!(h.g.pending_member_ids().count(), 0);
}

#[test]
fn pending_member_expires_after_its_session_timeout() {
    let (mut h, _ids) = H::stable_group(1);
    let t = h.join(JoinRequest {
        require_known_member_id: true,
        ..req("")
    });
    let pending = h.join_reply(t).member_id.clone();
    let asked_at = h.now;
    assert_eq!(
        h.g.state(),
        GroupState::Stable,
        "MEMBER_ID_REQUIRED does not rebalance"
    );
    h.tick_to(asked_at + i64::from(SESSION) - 1);
    assert_eq!(h.g.pending_member_ids().count(), 1);
    // Keep the real member alive.
    let member = h.g.members().next().unwrap().member_id().to_owned();
    assert_eq!(h.heartbeat(&member, 1, None), errors::NONE);
    h.tick_to(asked_at + i64::from(SESSION));
    assert_eq!(h.g.pending_member_ids().count(), 0);
    let late = h.join(req(&pending));
    assert_eq!(h.join_reply(late).error_code, errors::UNKNOWN_MEMBER_ID);
}

#[test]
fn a_rebalance_waits_for_pending_members() {
    let (mut h, ids) = H::stable_group(1);
    let t = h.join(JoinRequest {
        require_known_member_id: true,
        ..req("")
    });
    let pending = h.join_reply(t).member_id.clone();
    // The leader rejoins, but the phase waits for the member it told to come back.
    let lt = h.join(req(&ids[0]));
    assert!(!h.answered(lt));
    let pt = h.join(req(&pending));
    assert_eq!(h.join_reply(lt).generation_id, 2);
    assert_eq!(h.join_reply(pt).generation_id, 2);
    assert_eq!(h.g.member_count(), 2);
}

#[test]
fn new_member_stuck_in_a_long_join_phase_expires() {
    let (mut h, ids) = H::stable_group(1);
    let long = |id: &str| JoinRequest {
        rebalance_timeout_ms: 600_000,
        session_timeout_ms: SESSION,
        ..req(id)
    };
    // The old member stretches the rebalance timeout, then a newcomer joins and waits.
    let start = h.now;
    let newcomer = h.join(long(""));
    assert!(!h.answered(newcomer));
    let mut t = start;
    while t + 5_000 <= start + 300_000 {
        t += 5_000;
        h.tick_to(t);
        if !h.answered(newcomer) {
            h.heartbeat(&ids[0], 1, None);
        }
    }
    let r = h.join_reply(newcomer);
    assert_eq!(
        r.error_code,
        errors::UNKNOWN_MEMBER_ID,
        "dropped after 5 minutes"
    );
}

#[test]
fn leave_group_batch_with_per_member_errors() {
    let mut h = H::new(GroupConfig::default());
    let a = h.join(req(""));
    let b = h.join(req(""));
    let c = h.join(static_req("", "ic"));
    h.run_until_answered(&[a, b, c]);
    h.sync_all();
    let (a_id, b_id) = (
        h.join_reply(a).member_id.clone(),
        h.join_reply(b).member_id.clone(),
    );
    let reply = h.leave(vec![
        LeaveMember {
            member_id: a_id.clone(),
            group_instance_id: None,
        },
        LeaveMember {
            member_id: String::new(),
            group_instance_id: Some("ic".to_owned()),
        },
        LeaveMember {
            member_id: "ghost".to_owned(),
            group_instance_id: None,
        },
        LeaveMember {
            member_id: b_id.clone(),
            group_instance_id: Some("zz".to_owned()),
        },
    ]);
    assert_eq!(reply.error_code, errors::NONE);
    let codes: Vec<i16> = reply.members.iter().map(|m| m.error_code).collect();
    assert_eq!(
        codes,
        vec![
            errors::NONE,
            errors::NONE,
            errors::UNKNOWN_MEMBER_ID,
            errors::UNKNOWN_MEMBER_ID
        ]
    );
    assert_eq!(reply.members[1].group_instance_id.as_deref(), Some("ic"));
    assert_eq!(h.g.member_count(), 1);
    assert!(h.g.static_member_id("ic").is_none());
    assert_eq!(h.g.state(), GroupState::PreparingRebalance);

    let bt = h.join(req(&b_id));
    assert_eq!(h.join_reply(bt).generation_id, 2);
    assert_eq!(h.join_reply(bt).leader, b_id);

    // The last member leaving empties the group, which is persisted without members.
    let before = h.records.len();
    let reply = h.leave(vec![LeaveMember {
        member_id: b_id.clone(),
        group_instance_id: None,
    }]);
    assert_eq!(reply.members[0].error_code, errors::NONE);
    assert_eq!(h.g.state(), GroupState::Empty);
    assert_eq!(h.g.generation_id(), 3);
    assert!(h.g.leader_id().is_none());
    let Some(Record::Group { value: Some(v), .. }) = h.records.get(before) else {
        panic!("empty group snapshot expected");
    };
    assert!(v.members.is_empty());
    assert_eq!(v.generation, 3);
    assert_eq!(v.protocol, None);
    assert_eq!(v.protocol_type, "consumer");
}

#[test]
fn leave_of_a_pending_member_unblocks_the_join_phase() {
    let (mut h, ids) = H::stable_group(1);
    let t = h.join(JoinRequest {
        require_known_member_id: true,
        ..req("")
    });
    let pending = h.join_reply(t).member_id.clone();
    let lt = h.join(req(&ids[0]));
    assert!(!h.answered(lt));
    let reply = h.leave(vec![LeaveMember {
        member_id: pending,
        group_instance_id: None,
    }]);
    assert_eq!(reply.members[0].error_code, errors::NONE);
    assert_eq!(h.join_reply(lt).generation_id, 2);
}

#[test]
fn delete_group_only_when_empty() {
    let (mut h, ids) = H::stable_group(1);
    let t = h.token();
    let o = h.g.delete(h.now, t);
    h.absorb(&o);
    assert_eq!(h.replies[&t].error_code(), errors::NON_EMPTY_GROUP);
    h.commit(OffsetCommitRequest {
        member_id: ids[0].clone(),
        generation_id: 1,
        group_instance_id: None,
        retention_time_ms: -1,
        offsets: vec![CommitOffset {
            topic: "t".into(),
            partition: 0,
            offset: 5,
            leader_epoch: -1,
            metadata: String::new(),
            commit_timestamp_ms: -1,
        }],
    });
    h.leave(vec![LeaveMember {
        member_id: ids[0].clone(),
        group_instance_id: None,
    }]);
    assert_eq!(h.g.state(), GroupState::Empty);
    let t = h.token();
    let o = h.g.delete(h.now, t);
    h.absorb(&o);
    assert_eq!(
        h.replies[&t],
        Reply::DeleteGroups(vec![("g".to_owned(), errors::NONE)])
    );
    assert_eq!(h.g.state(), GroupState::Dead);
    assert_eq!(o.records.len(), 2);
    assert!(o.records.iter().all(Record::is_tombstone));
    assert_eq!(o.next_deadline_ms, None);
    let t = h.token();
    let o = h.g.delete(h.now, t);
    h.absorb(&o);
    assert_eq!(h.replies[&t].error_code(), errors::GROUP_ID_NOT_FOUND);
    let t = h.join(req(""));
    assert_eq!(
        h.join_reply(t).error_code,
        errors::COORDINATOR_NOT_AVAILABLE
    );
}
