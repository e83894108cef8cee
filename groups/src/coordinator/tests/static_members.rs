//! Static membership (KIP-345): restart without rebalance, fencing, protocol changes, and
//! KIP-814's skip-assignment for a returning leader.

use super::*;

/// Two static members "ia" (the leader) and "ib", Stable at generation 1.
fn static_pair() -> (H, String, String) {
    let mut h = H::new(GroupConfig::default());
    let a = h.join(static_req("", "ia"));
    let b = h.join(static_req("", "ib"));
    h.run_until_answered(&[a, b]);
    h.sync_all();
    let a_id = h.join_reply(a).member_id.clone();
    let b_id = h.join_reply(b).member_id.clone();
    assert!(
        a_id.starts_with("ia-"),
        "static ids are prefixed by the instance id"
    );
    assert_eq!(h.g.leader_id(), Some(a_id.as_str()));
    (h, a_id, b_id)
}

#[test]
fn restarted_static_member_replaces_the_old_one_without_rebalance() {
    let (mut h, old_a, b) = static_pair();
    let before = h.records.len();
    let t = h.join(static_req("", "ia"));
    let r = h.join_reply(t).clone();
    assert_eq!(r.error_code, errors::NONE);
    assert_ne!(r.member_id, old_a);
    assert_eq!(r.generation_id, 1, "no new generation");
    // Without KIP-814 the old leader id is reported, so the restarted leader does not assign.
    assert_eq!(r.leader, old_a);
    assert!(r.members.is_empty());
    assert!(!r.skip_assignment);
    assert_eq!(h.g.state(), GroupState::Stable);
    assert_eq!(h.g.leader_id(), Some(r.member_id.as_str()));
    assert_eq!(h.g.static_member_id("ia"), Some(r.member_id.as_str()));
    // The new member id is persisted before the reply goes out.
    let Some(Record::Group { value: Some(v), .. }) = h.records.get(before) else {
        panic!("snapshot expected");
    };
    assert!(v.members.iter().any(|m| m.member_id == r.member_id));
    assert!(v.members.iter().all(|m| m.member_id != old_a));

    // The old incarnation is fenced; the new one keeps the old assignment.
    assert_eq!(
        h.heartbeat(&old_a, 1, Some("ia")),
        errors::FENCED_INSTANCE_ID
    );
    assert_eq!(h.heartbeat(&old_a, 1, None), errors::UNKNOWN_MEMBER_ID);
    assert_eq!(h.heartbeat(&r.member_id, 1, Some("ia")), errors::NONE);
    let st = h.sync(&r.member_id, Vec::new());
    assert_eq!(h.sync_reply(st).assignment, assignment(&old_a));
    assert_eq!(h.heartbeat(&b, 1, Some("ib")), errors::NONE);
}

#[test]
fn returning_static_leader_is_told_to_skip_assignment() {
    let (mut h, _old_a, _b) = static_pair();
    let t = h.join(JoinRequest {
        supports_skip_assignment: true,
        ..static_req("", "ia")
    });
    let r = h.join_reply(t);
    assert_eq!(r.leader, r.member_id);
    assert!(r.skip_assignment);
    assert_eq!(r.members.len(), 2);
    assert_eq!(h.g.state(), GroupState::Stable);
}

#[test]
fn duplicate_instance_with_another_member_id_is_fenced() {
    let (mut h, a, _b) = static_pair();
    let t = h.join(static_req("ia-impostor", "ia"));
    assert_eq!(h.join_reply(t).error_code, errors::FENCED_INSTANCE_ID);
    let t = h.join(static_req(&a, "unknown-instance"));
    assert_eq!(h.join_reply(t).error_code, errors::UNKNOWN_MEMBER_ID);
    let t = h.token();
    let o = h.g.sync(
        h.now,
        t,
        SyncRequest {
            member_id: "ia-impostor".into(),
            generation_id: 1,
            group_instance_id: Some("ia".into()),
            protocol_type: None,
            protocol_name: None,
            assignments: Vec::new(),
        },
    );
    h.absorb(&o);
    assert_eq!(h.sync_reply(t).error_code, errors::FENCED_INSTANCE_ID);
    let reply = h.leave(vec![LeaveMember {
        member_id: "ia-impostor".into(),
        group_instance_id: Some("ia".into()),
    }]);
    assert_eq!(reply.members[0].error_code, errors::FENCED_INSTANCE_ID);
    assert_eq!(h.g.state(), GroupState::Stable);
}

#[test]
fn static_member_changing_the_chosen_protocol_triggers_a_rebalance() {
    let mut h = H::new(GroupConfig::default());
    let a = h.join(static_req("", "ia"));
    h.run_until_answered(&[a]);
    h.sync_all();
    let mut restarted = static_req("", "ia");
    restarted.protocols = vec![
        Protocol::new("rr", subscription(&["t"])),
        Protocol::new("range", subscription(&["t"])),
    ];
    let t = h.join(restarted);
    let r = h.join_reply(t);
    assert_eq!(r.generation_id, 2);
    assert_eq!(r.protocol_name.as_deref(), Some("rr"));
}

#[test]
fn static_member_rejoining_during_completing_rebalance_fences_its_parked_sync() {
    let mut h = H::new(GroupConfig::default());
    let a = h.join(static_req("", "ia"));
    let b = h.join(static_req("", "ib"));
    h.run_until_answered(&[a, b]);
    let (a_id, b_id) = (
        h.join_reply(a).member_id.clone(),
        h.join_reply(b).member_id.clone(),
    );
    let parked = h.sync(&b_id, Vec::new());
    assert!(!h.answered(parked));
    let t = h.join(static_req("", "ib"));
    assert_eq!(h.sync_reply(parked).error_code, errors::FENCED_INSTANCE_ID);
    assert_eq!(h.g.state(), GroupState::PreparingRebalance);
    let at = h.join(static_req(&a_id, "ia"));
    assert_eq!(h.join_reply(at).generation_id, 2);
    assert_eq!(h.join_reply(t).generation_id, 2);
    assert_ne!(h.join_reply(t).member_id, b_id);
}
