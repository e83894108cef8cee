//! Join and sync phases: generations, leader, protocol choice, assignment distribution and
//! the initial rebalance delay.

use super::*;

#[test]
fn three_members_form_one_generation_and_receive_their_assignments() {
    let mut h = H::new(GroupConfig::default());
    let a = h.join(req(""));
    h.at(100);
    let b = h.join(req(""));
    h.at(200);
    let c = h.join(req(""));
    assert_eq!(h.g.state(), GroupState::PreparingRebalance);
    assert!(h.replies.is_empty(), "joins wait for the initial delay");

    // Newcomers during the 3 s delay buy another 3 s.
    h.tick_to(3_000);
    assert!(!h.answered(a));
    h.tick_to(5_999);
    assert!(!h.answered(a));
    h.tick_to(6_000);

    let replies: Vec<JoinReply> = [a, b, c].iter().map(|t| h.join_reply(*t).clone()).collect();
    assert!(replies
        .iter()
        .all(|r| r.error_code == errors::NONE && r.generation_id == 1));
    assert!(replies
        .iter()
        .all(|r| r.protocol_name.as_deref() == Some("range")));
    assert!(replies
        .iter()
        .all(|r| r.protocol_type.as_deref() == Some("consumer")));
    let leader = replies[0].leader.clone();
    assert!(replies.iter().all(|r| r.leader == leader));
    let mut ids: Vec<&str> = replies.iter().map(|r| r.member_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| id.starts_with("client-")));
    for r in &replies {
        if r.member_id == leader {
            assert_eq!(r.members.len(), 3);
            assert!(r.members.iter().all(|m| m.metadata == subscription(&["t"])));
        } else {
            assert!(r.members.is_empty(), "only the leader gets the member list");
        }
    }
    assert_eq!(h.g.state(), GroupState::CompletingRebalance);

    // Followers wait for the leader's assignment.
    let followers: Vec<String> = ids
        .iter()
        .filter(|id| **id != leader)
        .map(|s| s.to_string())
        .collect();
    h.at(6_100);
    let f0 = h.sync(&followers[0], Vec::new());
    let f1 = h.sync(&followers[1], Vec::new());
    assert!(!h.answered(f0) && !h.answered(f1));
    let records_before = h.records.len();
    let all: Vec<(String, Bytes)> = ids
        .iter()
        .map(|id| (id.to_string(), assignment(id)))
        .collect();
    let l = h.sync(&leader, all);
    assert_eq!(h.g.state(), GroupState::Stable);
    for (t, id) in [(f0, &followers[0]), (f1, &followers[1]), (l, &leader)] {
        let r = h.sync_reply(t);
        assert_eq!(r.error_code, errors::NONE);
        assert_eq!(r.assignment, assignment(id));
        assert_eq!(r.protocol_name.as_deref(), Some("range"));
    }
    // The completed generation is persisted with every assignment.
    let Some(Record::Group {
        value: Some(snapshot),
        ..
    }) = h.records.get(records_before)
    else {
        panic!("expected a group snapshot, got {:?}", h.records);
    };
    assert_eq!(snapshot.generation, 1);
    assert_eq!(snapshot.leader.as_deref(), Some(leader.as_str()));
    assert_eq!(snapshot.members.len(), 3);
    assert!(snapshot
        .members
        .iter()
        .all(|m| m.assignment == assignment(&m.member_id)));

    // A follower syncing again in Stable gets its assignment back at once.
    let again = h.sync(&followers[0], Vec::new());
    assert_eq!(h.sync_reply(again).assignment, assignment(&followers[0]));
    assert_eq!(h.heartbeat(&leader, 1, None), errors::NONE);
}

#[test]
fn initial_delay_is_capped_by_the_rebalance_timeout() {
    let mut h = H::new(GroupConfig::default());
    let short = |id: &str| JoinRequest {
        rebalance_timeout_ms: 10_000,
        ..req(id)
    };
    let mut tokens = vec![h.join(short(""))];
    for t in [2_500, 5_000, 7_500, 9_500] {
        h.tick_to(t);
        tokens.push(h.join(short("")));
    }
    h.tick_to(9_999);
    assert!(tokens.iter().all(|t| !h.answered(*t)));
    h.tick_to(10_000);
    assert!(tokens.iter().all(|t| h.join_reply(*t).generation_id == 1));
    assert_eq!(h.g.member_count(), 5);
}

#[test]
fn leader_receives_members_with_metadata_of_the_chosen_protocol() {
    let mut h = H::no_delay();
    let mut a = req("");
    a.protocols = vec![
        Protocol::new("rr", subscription(&["x"])),
        Protocol::new("range", subscription(&["y"])),
    ];
    let ta = h.join(a);
    // Alone, with no delay: generation 1 at once.
    assert_eq!(h.join_reply(ta).generation_id, 1);
    assert_eq!(h.join_reply(ta).protocol_name.as_deref(), Some("rr"));
    let a_id = h.join_reply(ta).member_id.clone();

    // B and C support both but prefer range. Votes: A rr, B range, C range.
    let mut b = req("");
    b.protocols = vec![
        Protocol::new("range", subscription(&["y"])),
        Protocol::new("rr", subscription(&["x"])),
    ];
    let tb = h.join(b);
    let mut c = req("");
    c.protocols = vec![
        Protocol::new("range", subscription(&["y"])),
        Protocol::new("rr", subscription(&["x"])),
    ];
    let tc = h.join(c);
    // A must rejoin too before the phase completes (it is in CompletingRebalance's generation).
    assert!(!h.answered(tb));
    let mut a_again = req(&a_id);
    a_again.protocols = vec![
        Protocol::new("rr", subscription(&["x"])),
        Protocol::new("range", subscription(&["y"])),
    ];
    let ta2 = h.join(a_again);
    let leader = h.join_reply(ta2).leader.clone();
    for t in [ta2, tb, tc] {
        let r = h.join_reply(t);
        assert_eq!(r.generation_id, 2);
        assert_eq!(r.protocol_name.as_deref(), Some("range"));
    }
    let leader_reply = [ta2, tb, tc]
        .iter()
        .map(|t| h.join_reply(*t))
        .find(|r| r.member_id == leader)
        .unwrap();
    assert_eq!(leader_reply.members.len(), 3);
    let a_meta = leader_reply
        .members
        .iter()
        .find(|m| m.member_id == a_id)
        .unwrap();
    assert_eq!(
        a_meta.metadata,
        subscription(&["y"]),
        "metadata of the chosen protocol"
    );
}

#[test]
fn protocol_type_and_protocols_must_be_compatible() {
    let mut h = H::no_delay();
    let mut empty_type = req("");
    empty_type.protocol_type = String::new();
    let t = h.join(empty_type);
    assert_eq!(
        h.join_reply(t).error_code,
        errors::INCONSISTENT_GROUP_PROTOCOL
    );
    let mut no_protocols = req("");
    no_protocols.protocols.clear();
    let t = h.join(no_protocols);
    assert_eq!(
        h.join_reply(t).error_code,
        errors::INCONSISTENT_GROUP_PROTOCOL
    );

    let first = h.join(req(""));
    assert_eq!(h.join_reply(first).error_code, errors::NONE);
    let mut other_type = req("");
    other_type.protocol_type = "connect".to_owned();
    let t = h.join(other_type);
    assert_eq!(
        h.join_reply(t).error_code,
        errors::INCONSISTENT_GROUP_PROTOCOL
    );
    let mut disjoint = req("");
    disjoint.protocols = vec![Protocol::new("sticky", Bytes::new())];
    let t = h.join(disjoint);
    assert_eq!(
        h.join_reply(t).error_code,
        errors::INCONSISTENT_GROUP_PROTOCOL
    );
    assert_eq!(h.g.member_count(), 1);
}

#[test]
fn session_timeout_must_be_within_bounds() {
    let mut h = H::no_delay();
    for session in [5_999, 1_800_001] {
        let t = h.join(JoinRequest {
            session_timeout_ms: session,
            ..req("")
        });
        assert_eq!(h.join_reply(t).error_code, errors::INVALID_SESSION_TIMEOUT);
        assert_eq!(h.join_reply(t).generation_id, -1);
    }
    assert_eq!(h.g.member_count(), 0);
}

#[test]
fn group_max_size_is_enforced() {
    let mut h = H::new(GroupConfig {
        max_size: 2,
        ..GroupConfig::default()
    });
    let a = h.join(req(""));
    let b = h.join(req(""));
    let c = h.join(req(""));
    assert_eq!(h.join_reply(c).error_code, errors::GROUP_MAX_SIZE_REACHED);
    assert_eq!(h.join_reply(c).member_id, "");
    h.run_until_answered(&[a, b]);
    h.sync_all();
    let d = h.join(req(""));
    assert_eq!(h.join_reply(d).error_code, errors::GROUP_MAX_SIZE_REACHED);
    assert_eq!(
        h.g.state(),
        GroupState::Stable,
        "a refused join does not rebalance"
    );
}

#[test]
fn sync_and_heartbeat_validation() {
    let (mut h, ids) = H::stable_group(2);
    let id = &ids[0];
    let t = h.sync_gen(id, 7, Vec::new());
    assert_eq!(h.sync_reply(t).error_code, errors::ILLEGAL_GENERATION);
    let t = h.sync("nobody", Vec::new());
    assert_eq!(h.sync_reply(t).error_code, errors::UNKNOWN_MEMBER_ID);
    let t = h.token();
    let o = h.g.sync(
        h.now,
        t,
        SyncRequest {
            member_id: id.clone(),
            generation_id: 1,
            group_instance_id: None,
            protocol_type: Some("consumer".to_owned()),
            protocol_name: Some("roundrobin".to_owned()),
            assignments: Vec::new(),
        },
    );
    h.absorb(&o);
    assert_eq!(
        h.sync_reply(t).error_code,
        errors::INCONSISTENT_GROUP_PROTOCOL
    );

    assert_eq!(h.heartbeat(id, 0, None), errors::ILLEGAL_GENERATION);
    assert_eq!(h.heartbeat("nobody", 1, None), errors::UNKNOWN_MEMBER_ID);

    // The leader rejoining forces a rebalance: heartbeats and syncs are told so.
    let leader = h.g.leader_id().unwrap().to_owned();
    let follower = ids.iter().find(|i| **i != leader).unwrap().clone();
    let lt = h.join(req(&leader));
    assert!(!h.answered(lt));
    assert_eq!(h.g.state(), GroupState::PreparingRebalance);
    assert_eq!(
        h.heartbeat(&follower, 1, None),
        errors::REBALANCE_IN_PROGRESS
    );
    let t = h.sync(&follower, Vec::new());
    assert_eq!(h.sync_reply(t).error_code, errors::REBALANCE_IN_PROGRESS);
    let ft = h.join(req(&follower));
    assert_eq!(h.join_reply(lt).generation_id, 2);
    assert_eq!(h.join_reply(ft).generation_id, 2);
    // Heartbeats between JoinGroup and SyncGroup are fine.
    assert_eq!(h.heartbeat(&follower, 2, None), errors::NONE);
}

#[test]
fn completing_rebalance_rejoin_and_interruption() {
    let mut h = H::new(GroupConfig::default());
    let a = h.join(req(""));
    let b = h.join(req(""));
    h.run_until_answered(&[a, b]);
    let leader = h.join_reply(a).leader.clone();
    let a_id = h.join_reply(a).member_id.clone();
    let b_id = h.join_reply(b).member_id.clone();
    let follower = if a_id == leader {
        b_id.clone()
    } else {
        a_id.clone()
    };

    // A rejoin with unchanged metadata (lost response) gets the current generation back.
    let again = h.join(req(&leader));
    let r = h.join_reply(again);
    assert_eq!(
        (r.error_code, r.generation_id, r.members.len()),
        (errors::NONE, 1, 2)
    );
    assert_eq!(h.g.state(), GroupState::CompletingRebalance);

    // The follower waits for its assignment; a newcomer interrupts the phase.
    let parked = h.sync(&follower, Vec::new());
    assert!(!h.answered(parked));
    let c = h.join(req(""));
    assert_eq!(
        h.sync_reply(parked).error_code,
        errors::REBALANCE_IN_PROGRESS
    );
    assert_eq!(h.g.state(), GroupState::PreparingRebalance);
    assert!(!h.answered(c));
    let ta = h.join(req(&a_id));
    let tb = h.join(req(&b_id));
    for t in [ta, tb, c] {
        assert_eq!(h.join_reply(t).generation_id, 2);
    }
}

#[test]
fn a_retried_join_supersedes_the_parked_one() {
    let (mut h, ids) = H::stable_group(2);
    let _newcomer = h.join(req(""));
    let first = h.join(req(&ids[0]));
    assert!(!h.answered(first), "still waiting for the other member");
    let second = h.join(req(&ids[0]));
    assert_eq!(
        h.join_reply(first).error_code,
        errors::REBALANCE_IN_PROGRESS
    );
    assert!(!h.answered(second));
    let other = h.join(req(&ids[1]));
    assert_eq!(h.join_reply(second).error_code, errors::NONE);
    assert_eq!(h.join_reply(other).generation_id, 2);
}
