//! The map of groups: lookup rules, one timer index, listing and deletion.

use super::*;

#[test]
fn coordinator_routes_requests_and_tracks_deadlines() {
    let config = GroupConfig {
        initial_rebalance_delay_ms: 0,
        ..GroupConfig::default()
    };
    let mut c = GroupCoordinator::new(config, 1);

    let o = c.join_group(0, ReplyToken(1), "", req(""));
    assert_eq!(
        o.reply(ReplyToken(1)).unwrap().error_code(),
        errors::INVALID_GROUP_ID
    );
    let o = c.join_group(0, ReplyToken(2), "g", req("someone"));
    assert_eq!(
        o.reply(ReplyToken(2)).unwrap().error_code(),
        errors::UNKNOWN_MEMBER_ID
    );
    assert!(
        c.group("g").is_none(),
        "no group created for a known member id"
    );
    let o = c.join_group(
        0,
        ReplyToken(3),
        "g",
        JoinRequest {
            protocol_type: String::new(),
            ..req("")
        },
    );
    assert_eq!(
        o.reply(ReplyToken(3)).unwrap().error_code(),
        errors::INCONSISTENT_GROUP_PROTOCOL
    );
    assert!(
        c.group("g").is_none(),
        "a failed first join leaves nothing behind"
    );

    let o = c.join_group(0, ReplyToken(4), "g", req(""));
    let Some(Reply::Join(r)) = o.reply(ReplyToken(4)) else {
        panic!()
    };
    assert_eq!(r.generation_id, 1);
    let member = r.member_id.clone();
    assert_eq!(
        o.next_deadline_ms,
        Some(i64::from(SESSION)),
        "the new session"
    );
    let o = c.sync_group(
        1,
        ReplyToken(5),
        "g",
        SyncRequest {
            member_id: member.clone(),
            generation_id: 1,
            group_instance_id: None,
            protocol_type: None,
            protocol_name: None,
            assignments: vec![(member.clone(), Bytes::from_static(b"a"))],
        },
    );
    assert_eq!(o.reply(ReplyToken(5)).unwrap().error_code(), errors::NONE);
    assert_eq!(o.next_deadline_ms, Some(1 + i64::from(SESSION)));

    assert_eq!(c.list_groups(&[]).len(), 1);
    assert_eq!(c.list_groups(&["stable"]).len(), 1);
    assert!(c.list_groups(&["Empty"]).is_empty());
    assert_eq!(c.describe_group("g").unwrap().state.as_str(), "Stable");
    assert!(c.describe_group("nope").is_none());

    // Unknown groups.
    let hb = HeartbeatRequest {
        member_id: member.clone(),
        generation_id: 1,
        group_instance_id: None,
    };
    let o = c.heartbeat(2, ReplyToken(6), "other", hb.clone());
    assert_eq!(
        o.reply(ReplyToken(6)).unwrap().error_code(),
        errors::UNKNOWN_MEMBER_ID
    );
    let commit = OffsetCommitRequest {
        member_id: String::new(),
        generation_id: 3,
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
    };
    let o = c.commit_offsets(2, ReplyToken(7), "other", commit.clone());
    assert_eq!(
        o.reply(ReplyToken(7)).unwrap().error_code(),
        errors::ILLEGAL_GENERATION
    );
    let simple = OffsetCommitRequest {
        generation_id: -1,
        ..commit
    };
    let o = c.commit_offsets(2, ReplyToken(8), "simple", simple);
    assert_eq!(o.reply(ReplyToken(8)).unwrap().error_code(), errors::NONE);
    assert_eq!(c.fetch_offsets("simple", None).unwrap().len(), 1);
    assert_eq!(
        c.fetch_offsets(
            "nope",
            Some(&[TopicPartitions {
                topic: "t".into(),
                partitions: vec![0]
            }])
        )
        .unwrap()[0]
            .offset,
        -1
    );

    let o = c.delete_groups(
        3,
        ReplyToken(9),
        &["g".into(), "simple".into(), "nope".into()],
    );
    assert_eq!(
        o.reply(ReplyToken(9)),
        Some(&Reply::DeleteGroups(vec![
            ("g".into(), errors::NON_EMPTY_GROUP),
            ("simple".into(), errors::NONE),
            ("nope".into(), errors::GROUP_ID_NOT_FOUND),
        ]))
    );
    assert_eq!(o.records.len(), 2);
    assert!(c.group("simple").is_none());

    // The member stops heartbeating: the coordinator's tick expires it and the group empties.
    let deadline = c.next_deadline_ms().unwrap();
    let o = c.tick(deadline);
    assert!(o
        .records
        .iter()
        .any(|r| matches!(r, Record::Group { value: Some(v), .. } if v.members.is_empty())));
    assert_eq!(c.group("g").unwrap().state(), GroupState::Empty);
    // With no offsets, the next retention check deletes the group.
    let mut now = deadline;
    while c.group("g").is_some() {
        now = c.next_deadline_ms().unwrap();
        let _ = c.tick(now);
    }
    assert!(now <= deadline + config.offsets_retention_check_interval_ms);
    assert_eq!(c.next_deadline_ms(), None);
}

#[test]
fn coordinator_replays_and_drops_deleted_groups() {
    let mut c = GroupCoordinator::new(GroupConfig::default(), 1);
    let key = |g: &str| crate::records::OffsetCommitKey {
        group: g.into(),
        topic: "t".into(),
        partition: 0,
    };
    let value = crate::records::OffsetCommitValue {
        offset: 3,
        leader_epoch: -1,
        metadata: String::new(),
        commit_timestamp_ms: 0,
        expire_timestamp_ms: -1,
    };
    c.replay_offset(&key("kept"), Some(&value));
    c.replay_offset(&key("deleted"), Some(&value));
    c.replay_offset(&key("deleted"), None);
    c.replay_group("deleted", None);
    c.replay_group("revived", None);
    c.replay_offset(&key("revived"), Some(&value));
    let _ = c.finish_load(100);
    let mut ids: Vec<&str> = c.groups().map(Group::group_id).collect();
    ids.sort();
    assert_eq!(ids, vec!["kept", "revived"]);
    assert_eq!(c.fetch_offsets("revived", None).unwrap()[0].offset, 3);
    assert!(c.next_deadline_ms().is_some());
}

#[test]
fn a_request_after_a_missed_cleanup_meets_a_fresh_group() {
    let config = GroupConfig {
        initial_rebalance_delay_ms: 0,
        ..GroupConfig::default()
    };
    let mut c = GroupCoordinator::new(config, 1);
    let o = c.join_group(0, ReplyToken(1), "g", req(""));
    let Some(Reply::Join(r)) = o.reply(ReplyToken(1)) else {
        panic!()
    };
    let member = r.member_id.clone();
    let o = c.leave_group(
        1,
        ReplyToken(2),
        "g",
        vec![LeaveMember {
            member_id: member,
            group_instance_id: None,
        }],
    );
    assert_eq!(o.reply(ReplyToken(2)).unwrap().error_code(), errors::NONE);
    assert_eq!(c.group("g").unwrap().state(), GroupState::Empty);
    // The retention check that deletes the empty group is due, but no tick ran: the join
    // must not be answered by the dying group.
    let later = config.offsets_retention_check_interval_ms + 5;
    let o = c.join_group(later, ReplyToken(3), "g", req(""));
    assert!(o.records.iter().any(|r| r.is_tombstone()));
    let Some(Reply::Join(r)) = o.reply(ReplyToken(3)) else {
        panic!()
    };
    assert_eq!((r.error_code, r.generation_id), (errors::NONE, 1));
}
