//! Three quorum members in one process, talking over real TCP on loopback through the
//! controller transport: they elect a leader, replicate commands to every image, refuse a
//! command from a past epoch, and elect a new leader when the old one stops.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::error::ClientWriteError;
use openraft::{Config, Raft, ServerState};
use petrel_raft::image::{CommandResult, MetadataImage, Reject};
use petrel_raft::log_store::LogStore;
use petrel_raft::net::client::NetworkFactory;
use petrel_raft::net::server;
use petrel_raft::state_machine::StateMachineStore;
use petrel_raft::types::{NodeId, PeerNode, TypeConfig};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::support::register;

struct Member {
    raft: Raft<TypeConfig>,
    image: watch::Receiver<Arc<MetadataImage>>,
    server: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

fn config() -> Arc<Config> {
    Arc::new(
        Config {
            cluster_name: "petrel-test".into(),
            heartbeat_interval: 50,
            election_timeout_min: 300,
            election_timeout_max: 600,
            ..Default::default()
        }
        .validate()
        .unwrap(),
    )
}

async fn start_cluster(size: u64) -> BTreeMap<NodeId, Member> {
    let mut listeners = BTreeMap::new();
    for id in 1..=size {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listeners.insert(id, listener);
    }
    let voters: BTreeMap<NodeId, PeerNode> = listeners
        .iter()
        .map(|(id, l)| {
            (
                *id,
                PeerNode {
                    addr: l.local_addr().unwrap().to_string(),
                },
            )
        })
        .collect();
    let mut members = BTreeMap::new();
    for (id, listener) in listeners {
        let dir = tempfile::tempdir().unwrap();
        let log = LogStore::open(&dir.path().join("log")).unwrap();
        let machine = StateMachineStore::open(&dir.path().join("machine")).unwrap();
        let image = machine.subscribe();
        let raft = Raft::new(id, config(), NetworkFactory, log, machine)
            .await
            .unwrap();
        let server = tokio::spawn(server::serve(listener, raft.clone(), None));
        members.insert(
            id,
            Member {
                raft,
                image,
                server,
                _dir: dir,
            },
        );
    }
    // Every voter is initialized with the same membership, as on a real first start.
    for member in members.values() {
        if let Err(err) = member.raft.initialize(voters.clone()).await {
            assert!(
                err.to_string().contains("not allowed") || err.to_string().contains("NotAllowed"),
                "{err}"
            );
        }
    }
    members
}

/// Waits until the given members agree on a leader among them; returns it and its term.
async fn leader_among(members: &BTreeMap<NodeId, Member>, within: Duration) -> (NodeId, u64) {
    let deadline = Instant::now() + within;
    loop {
        for member in members.values() {
            let metrics = member.raft.metrics().borrow().clone();
            if metrics.state == ServerState::Leader && members.contains_key(&metrics.id) {
                return (metrics.id, metrics.current_term);
            }
        }
        assert!(Instant::now() < deadline, "no leader within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_for_image(member: &mut Member, what: &str, check: impl Fn(&MetadataImage) -> bool) {
    tokio::time::timeout(
        Duration::from_secs(5),
        member.image.wait_for(|image| check(image)),
    )
    .await
    .unwrap_or_else(|_| panic!("{what}: not seen within 5 s"))
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_replicate_commands_and_survive_losing_the_leader() {
    let mut members = start_cluster(3).await;
    let (leader, term) = leader_among(&members, Duration::from_secs(10)).await;

    let written = members[&leader]
        .raft
        .client_write(register(term, 1))
        .await
        .unwrap();
    assert_eq!(written.data, CommandResult::Applied);
    for member in members.values_mut() {
        wait_for_image(member, "broker 1 on every member", |image| {
            image.brokers.contains_key(&1)
        })
        .await;
    }
    // A decision from an earlier epoch is refused even by the current leader's log.
    let stale = members[&leader]
        .raft
        .client_write(register(term - 1, 2))
        .await
        .unwrap();
    assert_eq!(
        stale.data,
        CommandResult::Rejected(Reject::StaleControllerEpoch {
            command: term - 1,
            log: term
        })
    );
    // A follower does not accept writes: it names the leader.
    let follower = *members.keys().find(|id| **id != leader).unwrap();
    let refused = members[&follower]
        .raft
        .client_write(register(term, 3))
        .await;
    match refused.unwrap_err().into_api_error() {
        Some(ClientWriteError::ForwardToLeader(forward)) => {
            assert_eq!(forward.leader_id, Some(leader))
        }
        other => panic!("expected ForwardToLeader, got {other:?}"),
    }

    // Stop the leader: its Raft and its listener. The two others elect a new one.
    let old = members.remove(&leader).unwrap();
    let stopped_at = Instant::now();
    old.raft.shutdown().await.unwrap();
    old.server.abort();
    let (new_leader, new_term) = leader_among(&members, Duration::from_secs(10)).await;
    let failover = stopped_at.elapsed();
    assert_ne!(new_leader, leader);
    assert!(new_term > term);
    eprintln!("failover after the leader stopped: {failover:?}");
    let written = members[&new_leader]
        .raft
        .client_write(register(new_term, 4))
        .await
        .unwrap();
    assert_eq!(written.data, CommandResult::Applied);
    for member in members.values_mut() {
        wait_for_image(member, "broker 4 on the survivors", |image| {
            image.brokers.contains_key(&4) && image.brokers.contains_key(&1)
        })
        .await;
        assert_eq!(member.image.borrow().controller_epoch, new_term);
    }
    for member in members.values() {
        member.raft.shutdown().await.unwrap();
        member.server.abort();
    }
}
