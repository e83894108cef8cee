//! Random sequences of requests and clock ticks from a few clients against one group, with the
//! coordinator's invariants checked after every step and every parked request eventually
//! answered.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;

use super::*;

const CLIENTS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Join { client: usize, fresh: bool },
    Sync { client: usize },
    Heartbeat { client: usize },
    Leave { client: usize },
    AdminLeave { client: usize },
    Commit { client: usize },
    SimpleCommit,
    ToggleProtocol { client: usize },
    Advance { ms: u32 },
    DeleteGroup,
    DeleteOffsets,
}

#[derive(Debug, Clone)]
struct ClientSpec {
    is_static: bool,
    require_known: bool,
    session_ms: i32,
    rebalance_ms: i32,
}

#[derive(Debug)]
struct Client {
    spec: ClientSpec,
    instance: String,
    member_id: String,
    generation: i32,
    /// The member list of the last JoinGroup this client led (assignments go to these).
    members: Vec<String>,
    alt_protocol: bool,
}

struct Sim {
    config: GroupConfig,
    g: Group,
    ids: MemberIdGenerator,
    now: i64,
    next_token: u64,
    clients: Vec<Client>,
    owner: HashMap<ReplyToken, usize>,
    outstanding: BTreeSet<ReplyToken>,
    max_generation: i32,
}

impl Sim {
    fn new(config: GroupConfig, specs: Vec<ClientSpec>) -> Sim {
        let clients = specs
            .into_iter()
            .enumerate()
            .map(|(i, spec)| Client {
                spec,
                instance: format!("instance-{i}"),
                member_id: String::new(),
                generation: -1,
                members: Vec::new(),
                alt_protocol: false,
            })
            .collect();
        Sim {
            config,
            g: Group::new("g", config, 0),
            ids: MemberIdGenerator::new(99),
            now: 0,
            next_token: 0,
            clients,
            owner: HashMap::new(),
            outstanding: BTreeSet::new(),
            max_generation: 0,
        }
    }

    fn token(&mut self, client: Option<usize>) -> ReplyToken {
        self.next_token += 1;
        let t = ReplyToken(self.next_token);
        self.outstanding.insert(t);
        if let Some(c) = client {
            self.owner.insert(t, c);
        }
        t
    }

    fn instance(&self, c: usize) -> Option<String> {
        let client = &self.clients[c];
        client.spec.is_static.then(|| client.instance.clone())
    }

    fn protocols(&self, c: usize) -> Vec<Protocol> {
        let topic = format!("topic-{c}");
        let range = Protocol::new("range", subscription(&[&topic, "shared"]));
        if self.clients[c].alt_protocol {
            vec![Protocol::new("rr", subscription(&[&topic])), range]
        } else {
            vec![range]
        }
    }

    fn apply(&mut self, op: &Op) {
        let now = self.now;
        let outcome = match op.clone() {
            Op::Join { client, fresh } => {
                let spec = self.clients[client].spec.clone();
                let request = JoinRequest {
                    member_id: if fresh {
                        String::new()
                    } else {
                        self.clients[client].member_id.clone()
                    },
                    group_instance_id: self.instance(client),
                    require_known_member_id: spec.require_known,
                    supports_skip_assignment: client % 2 == 0,
                    client_id: format!("client-{client}"),
                    client_host: "/10.0.0.1".into(),
                    rebalance_timeout_ms: spec.rebalance_ms,
                    session_timeout_ms: spec.session_ms,
                    protocol_type: "consumer".into(),
                    protocols: self.protocols(client),
                };
                let t = self.token(Some(client));
                self.g.join(now, t, request, &mut self.ids)
            }
            Op::Sync { client } => {
                let c = &self.clients[client];
                let request = SyncRequest {
                    member_id: c.member_id.clone(),
                    generation_id: c.generation,
                    group_instance_id: self.instance(client),
                    protocol_type: Some("consumer".into()),
                    protocol_name: None,
                    assignments: c
                        .members
                        .iter()
                        .map(|m| (m.clone(), assignment(m)))
                        .collect(),
                };
                let t = self.token(Some(client));
                self.g.sync(now, t, request)
            }
            Op::Heartbeat { client } => {
                let c = &self.clients[client];
                let request = HeartbeatRequest {
                    member_id: c.member_id.clone(),
                    generation_id: c.generation,
                    group_instance_id: self.instance(client),
                };
                let t = self.token(Some(client));
                self.g.heartbeat(now, t, request)
            }
            Op::Leave { client } => {
                let members = vec![LeaveMember {
                    member_id: self.clients[client].member_id.clone(),
                    group_instance_id: self.instance(client),
                }];
                let t = self.token(Some(client));
                self.g.leave(now, t, members)
            }
            Op::AdminLeave { client } => {
                let members = vec![LeaveMember {
                    member_id: String::new(),
                    group_instance_id: Some(self.clients[client].instance.clone()),
                }];
                let t = self.token(None);
                self.g.leave(now, t, members)
            }
            Op::Commit { client } => {
                let c = &self.clients[client];
                let request = OffsetCommitRequest {
                    member_id: c.member_id.clone(),
                    generation_id: c.generation,
                    group_instance_id: self.instance(client),
                    retention_time_ms: -1,
                    offsets: vec![CommitOffset {
                        topic: format!("topic-{client}"),
                        partition: 0,
                        offset: now,
                        leader_epoch: -1,
                        metadata: String::new(),
                        commit_timestamp_ms: -1,
                    }],
                };
                let t = self.token(None);
                self.g.commit_offsets(now, t, request)
            }
            Op::SimpleCommit => {
                let request = OffsetCommitRequest {
                    member_id: String::new(),
                    generation_id: -1,
                    group_instance_id: None,
                    retention_time_ms: if now % 2 == 0 { -1 } else { 1_000 },
                    offsets: vec![CommitOffset {
                        topic: "admin".into(),
                        partition: 1,
                        offset: 1,
                        leader_epoch: -1,
                        metadata: String::new(),
                        commit_timestamp_ms: -1,
                    }],
                };
                let t = self.token(None);
                self.g.commit_offsets(now, t, request)
            }
            Op::ToggleProtocol { client } => {
                self.clients[client].alt_protocol = !self.clients[client].alt_protocol;
                return;
            }
            Op::Advance { ms } => {
                self.now += i64::from(ms);
                self.g.tick(self.now)
            }
            Op::DeleteGroup => {
                let t = self.token(None);
                self.g.delete(now, t)
            }
            Op::DeleteOffsets => {
                let topics = vec![TopicPartitions {
                    topic: "admin".into(),
                    partitions: vec![1],
                }];
                let t = self.token(None);
                self.g.delete_offsets(now, t, topics)
            }
        };
        self.absorb(outcome);
        if self.g.state() == GroupState::Dead {
            // The owner drops a Dead group; the next request creates a new one.
            assert!(self.g.members().next().is_none());
            self.g = Group::new("g", self.config, self.now);
            self.max_generation = 0;
        }
    }

    fn absorb(&mut self, outcome: Outcome) {
        for (token, reply) in outcome.replies {
            assert!(
                self.outstanding.remove(&token),
                "{token:?} answered twice or never issued"
            );
            let Some(&c) = self.owner.get(&token) else {
                continue;
            };
            let client = &mut self.clients[c];
            match reply {
                Reply::Join(r) if r.error_code == errors::NONE => {
                    client.member_id = r.member_id.clone();
                    client.generation = r.generation_id;
                    client.members = if r.leader == r.member_id && !r.skip_assignment {
                        r.members.iter().map(|m| m.member_id.clone()).collect()
                    } else {
                        Vec::new()
                    };
                }
                Reply::Join(r) if r.error_code == errors::MEMBER_ID_REQUIRED => {
                    client.member_id = r.member_id;
                }
                Reply::Join(JoinReply { error_code, .. })
                | Reply::Sync(SyncReply { error_code, .. })
                | Reply::Heartbeat { error_code }
                    if error_code == errors::UNKNOWN_MEMBER_ID
                        || error_code == errors::FENCED_INSTANCE_ID =>
                {
                    client.member_id.clear();
                    client.generation = -1;
                }
                _ => {}
            }
        }
        if let Some(deadline) = outcome.next_deadline_ms {
            assert!(deadline > self.now, "a due timer was left unfired");
        }
        assert_eq!(outcome.next_deadline_ms, self.g.next_deadline_ms());
        self.check();
    }

    fn check(&mut self) {
        let g = &self.g;
        assert_eq!(g.invalid_transitions(), 0, "illegal state transition");
        assert!(
            g.generation_id() >= self.max_generation,
            "generation went backwards"
        );
        self.max_generation = g.generation_id();
        match g.leader_id() {
            Some(leader) => assert!(
                g.member(leader).is_some(),
                "leader {leader} is not a member"
            ),
            None => assert_eq!(g.member_count(), 0, "members without a leader"),
        }
        match g.state() {
            GroupState::Empty => assert_eq!(g.member_count(), 0),
            GroupState::CompletingRebalance | GroupState::Stable => assert!(g.member_count() > 0),
            _ => {}
        }
        if g.state() == GroupState::Stable {
            for m in g.members() {
                assert!(
                    !m.assignment().is_empty(),
                    "Stable member {} has no assignment",
                    m.member_id()
                );
            }
        }
        let mut parked = BTreeSet::new();
        for m in g.members() {
            if let Some(t) = m.awaiting_join {
                assert_eq!(g.state(), GroupState::PreparingRebalance);
                parked.insert(t);
            }
            if let Some(t) = m.awaiting_sync {
                assert_eq!(g.state(), GroupState::CompletingRebalance);
                parked.insert(t);
            }
            if let Some(instance) = m.group_instance_id() {
                assert_eq!(g.static_member_id(instance), Some(m.member_id()));
            }
        }
        assert_eq!(
            parked, self.outstanding,
            "every unanswered request is parked on a member"
        );
        assert_eq!(
            g.static_members.len(),
            g.members()
                .filter(|m| m.group_instance_id().is_some())
                .count()
        );
        assert!(g.pending_sync.iter().all(|id| g.member(id).is_some()));
        assert!(g.pending_member_ids().all(|id| g.member(id).is_none()));
        // No max_size check: like Kafka, a join phase counts only rejoined members against
        // the limit, so static members that have not rejoined can leave a generation over it.
    }

    /// Lets time run without requests: every parked request must get its answer.
    fn drain(&mut self) {
        for _ in 0..64 {
            if self.outstanding.is_empty() {
                return;
            }
            let Some(deadline) = self.g.next_deadline_ms() else {
                break;
            };
            self.now = deadline;
            let outcome = self.g.tick(deadline);
            self.absorb(outcome);
        }
        assert!(
            self.outstanding.is_empty(),
            "requests never answered: {:?}",
            self.outstanding
        );
    }
}

fn op() -> impl Strategy<Value = Op> {
    let client = 0..CLIENTS;
    prop_oneof![
        4 => (client.clone(), proptest::bool::weighted(0.2)).prop_map(|(client, fresh)| Op::Join { client, fresh }),
        6 => client.clone().prop_map(|client| Op::Sync { client }),
        3 => client.clone().prop_map(|client| Op::Heartbeat { client }),
        1 => client.clone().prop_map(|client| Op::Leave { client }),
        1 => client.clone().prop_map(|client| Op::AdminLeave { client }),
        1 => client.clone().prop_map(|client| Op::Commit { client }),
        1 => Just(Op::SimpleCommit),
        1 => client.prop_map(|client| Op::ToggleProtocol { client }),
        4 => prop_oneof![6 => 0..2_000u32, 2 => 0..40_000u32, 1 => 0..700_000u32]
            .prop_map(|ms| Op::Advance { ms }),
        1 => Just(Op::DeleteGroup),
        1 => Just(Op::DeleteOffsets),
    ]
}

fn client_spec() -> impl Strategy<Value = ClientSpec> {
    (
        proptest::bool::ANY,
        proptest::bool::ANY,
        6_000..=20_000i32,
        prop_oneof![Just(0), 1..=40_000i32],
    )
        .prop_map(
            |(is_static, require_known, session_ms, rebalance_ms)| ClientSpec {
                is_static,
                require_known,
                session_ms,
                rebalance_ms,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_operations_keep_the_invariants(
        specs in proptest::collection::vec(client_spec(), CLIENTS),
        max_size in 2usize..=5,
        delay in prop_oneof![Just(0), Just(3_000)],
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        let config = GroupConfig {
            max_size,
            initial_rebalance_delay_ms: delay,
            offsets_retention_ms: 1_000_000,
            offsets_retention_check_interval_ms: 100_000,
            ..GroupConfig::default()
        };
        let mut sim = Sim::new(config, specs);
        for op in &ops {
            sim.apply(op);
        }
        sim.drain();
    }
}
