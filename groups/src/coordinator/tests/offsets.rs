//! OffsetCommit validation, OffsetFetch, OffsetDelete and retention.

use super::*;

fn commit_one(
    member_id: &str,
    generation_id: i32,
    topic: &str,
    offset: i64,
) -> OffsetCommitRequest {
    OffsetCommitRequest {
        member_id: member_id.to_owned(),
        generation_id,
        group_instance_id: None,
        retention_time_ms: -1,
        offsets: vec![CommitOffset {
            topic: topic.to_owned(),
            partition: 0,
            offset,
            leader_epoch: 3,
            metadata: "m".to_owned(),
            commit_timestamp_ms: -1,
        }],
    }
}

fn codes(results: &[PartitionResult]) -> Vec<i16> {
    results.iter().map(|r| r.error_code).collect()
}

fn tp(topic: &str, partitions: &[i32]) -> TopicPartitions {
    TopicPartitions {
        topic: topic.to_owned(),
        partitions: partitions.to_vec(),
    }
}

#[test]
fn simple_commit_to_an_empty_group_and_fetch() {
    let mut h = H::no_delay();
    h.at(1_000);
    let before = h.records.len();
    let results = h.commit(commit_one("", -1, "t", 42));
    assert_eq!(codes(&results), vec![errors::NONE]);
    let Some(Record::Offset {
        key,
        value: Some(v),
    }) = h.records.get(before)
    else {
        panic!("offset record expected");
    };
    assert_eq!(
        (key.group.as_str(), key.topic.as_str(), key.partition),
        ("g", "t", 0)
    );
    assert_eq!(
        (
            v.offset,
            v.leader_epoch,
            v.commit_timestamp_ms,
            v.expire_timestamp_ms
        ),
        (42, 3, 1_000, -1)
    );

    let fetched =
        h.g.fetch_offsets(Some(&[tp("t", &[0, 1]), tp("other", &[0])]))
            .unwrap();
    let offsets: Vec<(String, i32, i64, String)> = fetched
        .iter()
        .map(|f| (f.topic.clone(), f.partition, f.offset, f.metadata.clone()))
        .collect();
    assert_eq!(
        offsets,
        vec![
            ("t".into(), 0, 42, "m".into()),
            ("t".into(), 1, -1, String::new()),
            ("other".into(), 0, -1, String::new()),
        ]
    );
    assert_eq!(h.g.fetch_offsets(None).unwrap().len(), 1);
}

#[test]
fn commit_validation_follows_kafka() {
    let (mut h, ids) = H::stable_group(2);
    let id = ids[0].clone();
    assert_eq!(
        codes(&h.commit(commit_one(&id, 1, "t", 1))),
        vec![errors::NONE]
    );
    assert_eq!(
        codes(&h.commit(commit_one(&id, 0, "t", 1))),
        vec![errors::ILLEGAL_GENERATION]
    );
    assert_eq!(
        codes(&h.commit(commit_one("ghost", 1, "t", 1))),
        vec![errors::UNKNOWN_MEMBER_ID]
    );
    // Admin/simple commits are refused while the group has members.
    assert_eq!(
        codes(&h.commit(commit_one("", -1, "t", 1))),
        vec![errors::UNKNOWN_MEMBER_ID]
    );
    let mut fenced = commit_one(&id, 1, "t", 1);
    fenced.group_instance_id = Some("nope".into());
    assert_eq!(codes(&h.commit(fenced)), vec![errors::UNKNOWN_MEMBER_ID]);
    let mut too_large = commit_one(&id, 1, "t", 1);
    too_large.offsets[0].metadata = "x".repeat(4097);
    assert_eq!(
        codes(&h.commit(too_large)),
        vec![errors::OFFSET_METADATA_TOO_LARGE]
    );

    // During PreparingRebalance members of the old generation may still commit.
    let leader = h.g.leader_id().unwrap().to_owned();
    let other = ids.iter().find(|i| **i != leader).unwrap().clone();
    let lt = h.join(req(&leader));
    assert_eq!(
        codes(&h.commit(commit_one(&other, 1, "t", 2))),
        vec![errors::NONE]
    );
    // In CompletingRebalance a valid member is told to finish the rebalance first.
    h.join(req(&other));
    assert_eq!(h.join_reply(lt).generation_id, 2);
    assert_eq!(
        codes(&h.commit(commit_one(&other, 2, "t", 3))),
        vec![errors::REBALANCE_IN_PROGRESS]
    );
    assert_eq!(h.g.offset("t", 0).unwrap().offset, 2);
}

#[test]
fn static_member_commit_is_fenced() {
    let mut h = H::new(GroupConfig::default());
    let a = h.join(static_req("", "ia"));
    h.run_until_answered(&[a]);
    h.sync_all();
    let old = h.join_reply(a).member_id.clone();
    let t = h.join(static_req("", "ia"));
    assert_eq!(h.join_reply(t).error_code, errors::NONE);
    let mut stale = commit_one(&old, 1, "t", 1);
    stale.group_instance_id = Some("ia".into());
    assert_eq!(codes(&h.commit(stale)), vec![errors::FENCED_INSTANCE_ID]);
}

#[test]
fn offset_delete_respects_subscriptions() {
    let (mut h, ids) = H::stable_group(1);
    let id = ids[0].clone();
    h.commit(commit_one(&id, 1, "t", 1));
    h.commit(commit_one(&id, 1, "other", 1));
    let t = h.token();
    let o =
        h.g.delete_offsets(h.now, t, vec![tp("t", &[0]), tp("other", &[0, 5])]);
    h.absorb(&o);
    let Reply::OffsetDelete(reply) = &h.replies[&t] else {
        panic!("offset delete reply expected");
    };
    assert_eq!(reply.error_code, errors::NONE);
    assert_eq!(
        codes(&reply.partitions),
        vec![
            errors::GROUP_SUBSCRIBED_TO_TOPIC,
            errors::NONE,
            errors::NONE
        ]
    );
    assert_eq!(
        o.records.len(),
        1,
        "one tombstone for the one committed offset"
    );
    assert!(h.g.offset("other", 0).is_none());
    assert!(h.g.offset("t", 0).is_some());
}

#[test]
fn offset_delete_in_a_non_consumer_group_is_refused_while_it_has_members() {
    let mut h = H::no_delay();
    let t = h.join(JoinRequest {
        protocol_type: "connect".into(),
        ..req("")
    });
    assert_eq!(h.join_reply(t).error_code, errors::NONE);
    let t = h.token();
    let o = h.g.delete_offsets(h.now, t, vec![tp("t", &[0])]);
    h.absorb(&o);
    assert_eq!(h.replies[&t].error_code(), errors::NON_EMPTY_GROUP);
}

#[test]
fn unparseable_subscription_counts_as_subscribed() {
    let mut h = H::no_delay();
    let t = h.join(JoinRequest {
        protocols: vec![Protocol::new("range", Bytes::from_static(b"\x00\x00\xff"))],
        ..req("")
    });
    assert_eq!(h.join_reply(t).error_code, errors::NONE);
    let t = h.token();
    let o = h.g.delete_offsets(h.now, t, vec![tp("anything", &[0])]);
    h.absorb(&o);
    let Reply::OffsetDelete(reply) = &h.replies[&t] else {
        panic!();
    };
    assert_eq!(
        codes(&reply.partitions),
        vec![errors::GROUP_SUBSCRIBED_TO_TOPIC]
    );
}

fn retention_config() -> GroupConfig {
    GroupConfig {
        offsets_retention_ms: 100_000,
        offsets_retention_check_interval_ms: 10_000,
        ..GroupConfig::default()
    }
}

#[test]
fn offsets_of_an_empty_group_expire_after_retention_then_the_group_dies() {
    let mut h = H::new(retention_config());
    let long = |id: &str| JoinRequest {
        session_timeout_ms: 300_000,
        ..req(id)
    };
    let a = h.join(long(""));
    h.run_until_answered(&[a]);
    h.sync_all();
    let id = h.join_reply(a).member_id.clone();
    h.commit(commit_one(&id, 1, "t", 7));
    h.commit(commit_one(&id, 1, "gone", 7));
    let committed_at = h.now;

    // Stable consumer group: only offsets of topics nobody subscribes to expire.
    h.tick_to(committed_at + 100_000);
    assert!(h.g.offset("gone", 0).is_none());
    assert!(h.g.offset("t", 0).is_some());
    assert_eq!(h.heartbeat(&id, 1, None), errors::NONE);

    h.leave(vec![LeaveMember {
        member_id: id,
        group_instance_id: None,
    }]);
    let empty_at = h.now;
    assert_eq!(h.g.state(), GroupState::Empty);
    // Retention counts from when the group became Empty, checked every interval.
    h.tick_to(empty_at + 99_999);
    assert!(h.g.offset("t", 0).is_some());
    let next = h.g.next_deadline_ms().unwrap();
    let o = h.tick(next.max(empty_at + 100_000));
    assert!(h.g.offset("t", 0).is_none());
    assert_eq!(h.g.state(), GroupState::Dead);
    assert!(o.records.iter().all(Record::is_tombstone));
    assert!(o.records.iter().any(|r| matches!(r, Record::Group { .. })));
}

#[test]
fn explicit_expiry_and_simple_group_retention() {
    let mut h = H::new(retention_config());
    let mut explicit = commit_one("", -1, "a", 1);
    explicit.retention_time_ms = 5_000;
    h.commit(explicit);
    h.at(1_000);
    h.commit(commit_one("", -1, "b", 1));
    assert_eq!(h.g.offset("a", 0).unwrap().expire_timestamp_ms, 5_000);
    h.tick_to(10_000);
    assert!(h.g.offset("a", 0).is_none(), "explicit expiry");
    assert!(h.g.offset("b", 0).is_some());
    h.tick_to(100_999);
    assert!(h.g.offset("b", 0).is_some());
    // The next retention check after 101 000 (commit + retention) expires it.
    let next = h.g.next_deadline_ms().unwrap();
    assert!(next >= 101_000);
    h.tick_to(next);
    assert!(h.g.offset("b", 0).is_none(), "simple group: by commit time");
    assert_eq!(h.g.state(), GroupState::Dead);
}

#[test]
fn removing_offsets_of_deleted_topics() {
    let mut h = H::no_delay();
    h.commit(commit_one("", -1, "a", 1));
    h.commit(commit_one("", -1, "b", 1));
    let o = h.g.remove_topic_offsets(h.now, &["a".to_owned()]);
    h.absorb(&o);
    assert_eq!(o.records.len(), 1);
    assert!(h.g.offset("a", 0).is_none());
    assert!(h.g.offset("b", 0).is_some());
}
