//! Deterministic tests of the coordinator: a harness that drives one [`Group`] with an
//! explicit clock and checks that no request token is ever answered twice.

mod join_sync;
mod membership;
mod offsets;
mod proptests;
mod registry;
mod replay;
mod static_members;
mod subscription;

use std::collections::HashMap;

use bytes::{BufMut, Bytes, BytesMut};

use super::*;

pub(super) const SESSION: i32 = 10_000;
pub(super) const REBALANCE: i32 = 30_000;

/// A version-0 consumer-protocol subscription.
pub(super) fn subscription(topics: &[&str]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i16(0);
    b.put_i32(topics.len() as i32);
    for t in topics {
        b.put_i16(t.len() as i16);
        b.put_slice(t.as_bytes());
    }
    b.put_i32(-1);
    b.freeze()
}

/// A dynamic consumer's JoinGroup with one "range" protocol subscribing to topic "t".
pub(super) fn req(member_id: &str) -> JoinRequest {
    JoinRequest {
        member_id: member_id.to_owned(),
        group_instance_id: None,
        require_known_member_id: false,
        supports_skip_assignment: false,
        client_id: "client".to_owned(),
        client_host: "/127.0.0.1".to_owned(),
        rebalance_timeout_ms: REBALANCE,
        session_timeout_ms: SESSION,
        protocol_type: "consumer".to_owned(),
        protocols: vec![Protocol::new("range", subscription(&["t"]))],
    }
}

pub(super) fn static_req(member_id: &str, instance: &str) -> JoinRequest {
    JoinRequest {
        group_instance_id: Some(instance.to_owned()),
        ..req(member_id)
    }
}

pub(super) struct H {
    pub g: Group,
    pub ids: MemberIdGenerator,
    pub now: i64,
    next: u64,
    pub replies: HashMap<ReplyToken, Reply>,
    pub records: Vec<Record>,
}

impl H {
    pub fn new(config: GroupConfig) -> H {
        H {
            g: Group::new("g", config, 0),
            ids: MemberIdGenerator::new(7),
            now: 0,
            next: 0,
            replies: HashMap::new(),
            records: Vec::new(),
        }
    }

    /// No initial delay: a lone first member completes its join at once.
    pub fn no_delay() -> H {
        H::new(GroupConfig {
            initial_rebalance_delay_ms: 0,
            ..GroupConfig::default()
        })
    }

    pub fn token(&mut self) -> ReplyToken {
        self.next += 1;
        ReplyToken(self.next)
    }

    pub fn absorb(&mut self, outcome: &Outcome) {
        for (token, reply) in &outcome.replies {
            assert!(
                self.replies.insert(*token, reply.clone()).is_none(),
                "token {token:?} answered twice"
            );
        }
        self.records.extend(outcome.records.iter().cloned());
        if let Some(deadline) = outcome.next_deadline_ms {
            assert!(deadline > self.now, "a due timer was left unfired");
        }
        assert_eq!(self.g.invalid_transitions(), 0);
    }

    pub fn at(&mut self, now: i64) {
        assert!(now >= self.now, "time goes forward");
        self.now = now;
    }

    pub fn join(&mut self, request: JoinRequest) -> ReplyToken {
        let t = self.token();
        let o = self.g.join(self.now, t, request, &mut self.ids);
        self.absorb(&o);
        t
    }

    pub fn sync(&mut self, member_id: &str, assignments: Vec<(String, Bytes)>) -> ReplyToken {
        let gen = self.g.generation_id();
        self.sync_gen(member_id, gen, assignments)
    }

    pub fn sync_gen(
        &mut self,
        member_id: &str,
        generation_id: i32,
        assignments: Vec<(String, Bytes)>,
    ) -> ReplyToken {
        let t = self.token();
        let request = SyncRequest {
            member_id: member_id.to_owned(),
            generation_id,
            group_instance_id: self
                .g
                .member(member_id)
                .and_then(|m| m.group_instance_id().map(str::to_owned)),
            protocol_type: Some("consumer".to_owned()),
            protocol_name: self.g.protocol_name().map(str::to_owned),
            assignments,
        };
        let o = self.g.sync(self.now, t, request);
        self.absorb(&o);
        t
    }

    pub fn heartbeat(
        &mut self,
        member_id: &str,
        generation_id: i32,
        instance: Option<&str>,
    ) -> i16 {
        let t = self.token();
        let request = HeartbeatRequest {
            member_id: member_id.to_owned(),
            generation_id,
            group_instance_id: instance.map(str::to_owned),
        };
        let o = self.g.heartbeat(self.now, t, request);
        self.absorb(&o);
        match self.replies.get(&t) {
            Some(Reply::Heartbeat { error_code }) => *error_code,
            other => panic!("no heartbeat reply: {other:?}"),
        }
    }

    pub fn leave(&mut self, members: Vec<LeaveMember>) -> LeaveReply {
        let t = self.token();
        let o = self.g.leave(self.now, t, members);
        self.absorb(&o);
        match self.replies.get(&t) {
            Some(Reply::Leave(r)) => r.clone(),
            other => panic!("no leave reply: {other:?}"),
        }
    }

    pub fn commit(&mut self, request: OffsetCommitRequest) -> Vec<PartitionResult> {
        let t = self.token();
        let o = self.g.commit_offsets(self.now, t, request);
        self.absorb(&o);
        match self.replies.get(&t) {
            Some(Reply::OffsetCommit(r)) => r.clone(),
            other => panic!("no commit reply: {other:?}"),
        }
    }

    pub fn tick_to(&mut self, now: i64) {
        let _ = self.tick(now);
    }

    pub fn tick(&mut self, now: i64) -> Outcome {
        self.at(now);
        let o = self.g.tick(now);
        self.absorb(&o);
        o
    }

    pub fn join_reply(&self, t: ReplyToken) -> &JoinReply {
        match self.replies.get(&t) {
            Some(Reply::Join(r)) => r,
            other => panic!("no join reply for {t:?}: {other:?}"),
        }
    }

    pub fn sync_reply(&self, t: ReplyToken) -> &SyncReply {
        match self.replies.get(&t) {
            Some(Reply::Sync(r)) => r,
            other => panic!("no sync reply for {t:?}: {other:?}"),
        }
    }

    pub fn answered(&self, t: ReplyToken) -> bool {
        self.replies.contains_key(&t)
    }

    /// Syncs every member (followers first, then the leader assigning `assign-<id>`), so the
    /// group ends Stable. Returns the member ids.
    pub fn sync_all(&mut self) -> Vec<String> {
        let ids: Vec<String> = self.g.members().map(|m| m.member_id().to_owned()).collect();
        let leader = self.g.leader_id().unwrap().to_owned();
        let assignments = ids.iter().map(|id| (id.clone(), assignment(id))).collect();
        let mut tokens = Vec::new();
        for id in ids.iter().filter(|id| **id != leader) {
            tokens.push(self.sync(id, Vec::new()));
        }
        tokens.push(self.sync(&leader, assignments));
        for t in tokens {
            assert_eq!(self.sync_reply(t).error_code, errors::NONE);
        }
        assert_eq!(self.g.state(), GroupState::Stable);
        ids
    }

    /// `n` dynamic members join at once; the group completes one generation and ends Stable.
    pub fn stable_group(n: usize) -> (H, Vec<String>) {
        let mut h = H::new(GroupConfig::default());
        let tokens: Vec<ReplyToken> = (0..n).map(|_| h.join(req(""))).collect();
        h.run_until_answered(&tokens);
        let ids = h.sync_all();
        (h, ids)
    }

    /// Ticks at each next deadline until every token has a reply.
    pub fn run_until_answered(&mut self, tokens: &[ReplyToken]) {
        for _ in 0..20 {
            if tokens.iter().all(|t| self.answered(*t)) {
                return;
            }
            let next = self.g.next_deadline_ms().expect("a timer to wait for");
            self.tick_to(next);
        }
        panic!("tokens never answered");
    }
}

pub(super) fn assignment(member_id: &str) -> Bytes {
    Bytes::from(format!("assign-{member_id}"))
}
