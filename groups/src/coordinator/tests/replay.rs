//! Snapshots and offset records replay into an equivalent group.

use super::*;

fn replay_all(records: &[Record], config: GroupConfig) -> Group {
    let mut g = Group::new("g", config, 0);
    for record in records {
        match record {
            Record::Group { key, value } => {
                assert_eq!(key.group, "g");
                g.replay_group(value.as_ref());
            }
            Record::Offset { key, value } => {
                g.replay_offset(&key.topic, key.partition, value.as_ref())
            }
        }
    }
    g
}

#[test]
fn replaying_the_records_rebuilds_an_equivalent_stable_group() {
    let mut h = H::new(GroupConfig::default());
    let a = h.join(static_req("", "ia"));
    let b = h.join(req(""));
    h.run_until_answered(&[a, b]);
    h.sync_all();
    let b_id = h.join_reply(b).member_id.clone();
    h.commit(OffsetCommitRequest {
        member_id: b_id.clone(),
        generation_id: 1,
        group_instance_id: None,
        retention_time_ms: -1,
        offsets: vec![
            CommitOffset {
                topic: "t".into(),
                partition: 0,
                offset: 10,
                leader_epoch: 1,
                metadata: "x".into(),
                commit_timestamp_ms: -1,
            },
            CommitOffset {
                topic: "t".into(),
                partition: 1,
                offset: 11,
                leader_epoch: -1,
                metadata: String::new(),
                commit_timestamp_ms: -1,
            },
        ],
    });
    // A restarted static member is persisted too.
    let t = h.join(static_req("", "ia"));
    let new_a = h.join_reply(t).member_id.clone();

    let mut g = replay_all(&h.records, GroupConfig::default());
    assert_eq!(g.summary(), h.g.summary());
    assert_eq!(g.state(), GroupState::Stable);
    assert_eq!(g.generation_id(), 1);
    assert_eq!(g.leader_id(), h.g.leader_id());
    assert_eq!(g.protocol_name(), Some("range"));
    assert_eq!(g.static_member_id("ia"), Some(new_a.as_str()));
    let offsets: Vec<_> = g
        .offsets()
        .map(|(t, p, v)| (t.to_owned(), p, v.clone()))
        .collect();
    let expected: Vec<_> =
        h.g.offsets()
            .map(|(t, p, v)| (t.to_owned(), p, v.clone()))
            .collect();
    assert_eq!(offsets, expected);
    assert_eq!(g.snapshot(), h.g.snapshot());

    // Loaded members get a full session from the load time and carry on.
    let now = h.now + 1_000;
    let o = g.finish_load(now);
    assert_eq!(o.next_deadline_ms, Some(now + i64::from(SESSION)));
    let o = g.heartbeat(
        now + 1,
        ReplyToken(1),
        HeartbeatRequest {
            member_id: b_id.clone(),
            generation_id: 1,
            group_instance_id: None,
        },
    );
    assert_eq!(
        o.reply(ReplyToken(1)),
        Some(&Reply::Heartbeat {
            error_code: errors::NONE
        })
    );
    // A loaded member that never heartbeats expires like any other.
    let o = g.tick(now + i64::from(SESSION));
    assert!(o.replies.is_empty());
    assert_eq!(g.state(), GroupState::PreparingRebalance);
}

#[test]
fn replaying_an_emptied_group_and_tombstones() {
    let (mut h, ids) = H::stable_group(1);
    h.commit(OffsetCommitRequest {
        member_id: ids[0].clone(),
        generation_id: 1,
        group_instance_id: None,
        retention_time_ms: -1,
        offsets: vec![CommitOffset {
            topic: "t".into(),
            partition: 0,
            offset: 1,
            leader_epoch: -1,
            metadata: String::new(),
            commit_timestamp_ms: -1,
        }],
    });
    h.leave(vec![LeaveMember {
        member_id: ids[0].clone(),
        group_instance_id: None,
    }]);
    let g = replay_all(&h.records, GroupConfig::default());
    assert_eq!(g.state(), GroupState::Empty);
    assert_eq!(g.generation_id(), 2);
    assert_eq!(g.protocol_type(), Some("consumer"));
    assert_eq!(g.state_timestamp_ms(), h.g.state_timestamp_ms());
    assert_eq!(g.summary(), h.g.summary());

    let t = h.token();
    let o = h.g.delete(h.now, t);
    h.absorb(&o);
    let g = replay_all(&h.records, GroupConfig::default());
    assert!(g.is_tombstoned());
    assert!(!g.has_offsets());
}

#[test]
fn replay_tolerates_inconsistent_snapshots() {
    use crate::records::{GroupMetadataValue, MemberMetadata};
    let member = |id: &str, instance: Option<&str>| MemberMetadata {
        member_id: id.into(),
        group_instance_id: instance.map(str::to_owned),
        client_id: "c".into(),
        client_host: "h".into(),
        rebalance_timeout_ms: 1,
        session_timeout_ms: 6_000,
        subscription: Bytes::new(),
        assignment: Bytes::new(),
    };
    let mut g = Group::new("g", GroupConfig::default(), 0);
    // Members without a protocol, a leader that is not a member, duplicate instance ids.
    g.replay_group(Some(&GroupMetadataValue {
        protocol_type: "consumer".into(),
        generation: 4,
        protocol: None,
        leader: Some("zz".into()),
        current_state_timestamp_ms: -1,
        members: vec![member("m1", None)],
    }));
    assert_eq!(g.state(), GroupState::Empty);
    assert_eq!(g.member_count(), 0);
    g.replay_group(Some(&GroupMetadataValue {
        protocol_type: "consumer".into(),
        generation: 5,
        protocol: Some("range".into()),
        leader: Some("zz".into()),
        current_state_timestamp_ms: -1,
        members: vec![member("m1", Some("i")), member("m2", Some("i"))],
    }));
    assert_eq!(g.state(), GroupState::Stable);
    assert_eq!(g.member_count(), 1);
    assert_eq!(g.leader_id(), Some("m1"));
    let o = g.finish_load(10);
    assert!(o.replies.is_empty());
}
