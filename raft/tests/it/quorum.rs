//! `Quorum`, the broker's entry point: a lone node elects itself and keeps its image across
//! a restart; three nodes started from the same voter list form one quorum over their
//! controller listeners, and only the active controller's proposals commit.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use petrel_raft::controller::ControllerSettings;
use petrel_raft::image::{CommandResult, Op};
use petrel_raft::quorum::{ProposeError, Quorum, QuorumConfig, RaftTimings};
use petrel_raft::types::{NodeId, PeerNode};

const WITHIN: Duration = Duration::from_secs(10);

fn fast() -> RaftTimings {
    RaftTimings {
        heartbeat_interval_ms: 50,
        election_timeout_min_ms: 300,
        election_timeout_max_ms: 600,
    }
}

fn init_cluster(id: &str) -> Op {
    Op::InitCluster {
        cluster_id: id.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_node_leads_itself_and_keeps_its_image_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = QuorumConfig {
        node_id: 1,
        data_dir: dir.path().to_path_buf(),
        controller_listen: None,
        voters: BTreeMap::from([(1, PeerNode::default())]),
        timings: fast(),
        controller: ControllerSettings::default(),
    };
    let quorum = Quorum::start(config.clone()).await.unwrap();
    assert_eq!(quorum.wait_for_leader(WITHIN).await, Some(1));
    assert!(quorum.is_controller());
    assert_eq!(
        quorum.propose(init_cluster("c1"), WITHIN).await.unwrap(),
        CommandResult::Applied
    );
    assert_eq!(quorum.image().cluster_id.as_deref(), Some("c1"));
    quorum.shutdown().await;

    let quorum = Quorum::start(config).await.unwrap();
    assert_eq!(quorum.wait_for_leader(WITHIN).await, Some(1));
    let mut image = quorum.subscribe();
    tokio::time::timeout(WITHIN, image.wait_for(|i| i.cluster_id.is_some()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(quorum.image().cluster_id.as_deref(), Some("c1"));
    // The first cluster id stays.
    assert!(matches!(
        quorum.propose(init_cluster("c2"), WITHIN).await.unwrap(),
        CommandResult::Rejected(_)
    ));
    quorum.shutdown().await;
}

/// A free loopback port (bound then released; the quorum binds it again at once).
fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_from_one_voter_list_form_one_quorum() {
    let addrs: BTreeMap<NodeId, SocketAddr> = (1..=3).map(|id| (id, free_addr())).collect();
    let voters: BTreeMap<NodeId, PeerNode> = addrs
        .iter()
        .map(|(id, addr)| {
            (
                *id,
                PeerNode {
                    addr: addr.to_string(),
                },
            )
        })
        .collect();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nodes = Vec::new();
    for ((id, addr), dir) in addrs.iter().zip(&dirs) {
        nodes.push(
            Quorum::start(QuorumConfig {
                node_id: *id,
                data_dir: dir.path().to_path_buf(),
                controller_listen: Some(*addr),
                voters: voters.clone(),
                timings: fast(),
                controller: ControllerSettings::default(),
            })
            .await
            .unwrap(),
        );
    }
    let leader = nodes[0].wait_for_leader(WITHIN).await.unwrap();
    for node in &nodes {
        assert_eq!(node.wait_for_leader(WITHIN).await, Some(leader));
    }
    let controller = nodes.iter().find(|n| n.node_id() == leader).unwrap();
    let follower = nodes.iter().find(|n| n.node_id() != leader).unwrap();
    match follower.propose(init_cluster("x"), WITHIN).await {
        Err(ProposeError::NotController { leader: hint }) => assert_eq!(hint, Some(leader)),
        other => panic!("a follower's proposal: {other:?}"),
    }
    assert_eq!(
        controller.propose(init_cluster("c"), WITHIN).await.unwrap(),
        CommandResult::Applied
    );
    for node in &nodes {
        let mut image = node.subscribe();
        tokio::time::timeout(
            WITHIN,
            image.wait_for(|i| i.cluster_id.as_deref() == Some("c")),
        )
        .await
        .unwrap()
        .unwrap();
    }
    for node in nodes {
        node.shutdown().await;
    }
}

/// The controller on a lone voter: it gives the cluster its id, registers brokers (one
/// that is not a voter becomes a learner), places replicas over the live brokers, fences a
/// broker that stops heartbeating (its partitions move, leader epochs rise) and unfences it
/// when it heartbeats again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_controller_registers_places_fences_and_unfences() {
    use petrel_raft::controller::{
        ClusterBootstrap, ControllerError, ControllerReply, ControllerRequest,
    };
    let dir = tempfile::tempdir().unwrap();
    let session = Duration::from_millis(800);
    let quorum = Quorum::start(QuorumConfig {
        node_id: 1,
        data_dir: dir.path().to_path_buf(),
        controller_listen: None,
        voters: BTreeMap::from([(1, PeerNode::default())]),
        timings: fast(),
        controller: ControllerSettings {
            session_timeout: session,
            bootstrap: Some(ClusterBootstrap {
                cluster_id: "cid".into(),
                legacy: None,
            }),
            ..ControllerSettings::default()
        },
    })
    .await
    .unwrap();
    let mut image = quorum.subscribe();
    tokio::time::timeout(WITHIN, image.wait_for(|i| i.cluster_id.is_some()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(quorum.image().cluster_id.as_deref(), Some("cid"));
    let register = |id: i32| ControllerRequest::RegisterBroker {
        id,
        endpoint: format!("127.0.0.{id}:9092"),
        rack: None,
        // Broker 2 is not a voter: it is added as a learner, at an address nobody serves.
        controller_addr: "127.0.0.1:1".into(),
    };
    for id in [1, 2] {
        assert!(matches!(
            quorum.call(register(id), WITHIN).await.unwrap(),
            ControllerReply::Committed { .. }
        ));
    }
    let create = |name: &str, replication_factor| ControllerRequest::CreateTopic {
        name: name.into(),
        partitions: 4,
        replication_factor,
        configs: BTreeMap::new(),
        assignment: None,
        validate_only: false,
    };
    let ControllerReply::Committed { log_index } =
        quorum.call(create("t", 2), WITHIN).await.unwrap()
    else {
        panic!("create did not commit");
    };
    assert!(quorum.wait_applied(log_index, WITHIN).await);
    let topic = quorum.image().topics["t"].clone();
    let leaders: Vec<i32> = topic.partitions.iter().map(|p| p.leader).collect();
    assert_eq!(
        leaders.iter().filter(|l| **l == 1).count(),
        2,
        "{leaders:?}"
    );
    assert!(topic.partitions.iter().all(|p| p.replicas.len() == 2));
    assert!(matches!(
        quorum.call(create("t", 2), WITHIN).await,
        Err(ControllerError::Rejected(_))
    ));
    assert!(matches!(
        quorum.call(create("u", 3), WITHIN).await,
        Err(ControllerError::InvalidReplicationFactor(_))
    ));

    // Only broker 1 heartbeats: broker 2 is fenced after its session and loses its leads.
    let started = std::time::Instant::now();
    while !quorum.image().brokers[&2].fenced {
        assert!(started.elapsed() < WITHIN, "broker 2 never fenced");
        quorum
            .call(ControllerRequest::Heartbeat { id: 1 }, WITHIN)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started.elapsed() >= session);
    assert!(!quorum.image().brokers[&1].fenced);
    let after = quorum.image().topics["t"].clone();
    for (now, before) in after.partitions.iter().zip(&topic.partitions) {
        assert_eq!(now.leader, 1);
        assert_eq!(now.isr, vec![1]);
        let moved = i32::from(before.leader == 2);
        assert_eq!(now.leader_epoch, before.leader_epoch + moved);
    }
    // Broker 2 heartbeats again: it is live and back in the ISRs.
    quorum
        .call(ControllerRequest::Heartbeat { id: 2 }, WITHIN)
        .await
        .unwrap();
    assert!(!quorum.image().brokers[&2].fenced);
    assert!(quorum.image().topics["t"]
        .partitions
        .iter()
        .all(|p| p.isr.len() == 2));

    let ids = |count| ControllerRequest::AllocateProducerIds {
        broker_id: 1,
        count,
    };
    assert!(matches!(
        quorum.call(ids(1000), WITHIN).await.unwrap(),
        ControllerReply::ProducerIds {
            first: 0,
            count: 1000,
            ..
        }
    ));
    assert!(matches!(
        quorum.call(ids(1000), WITHIN).await.unwrap(),
        ControllerReply::ProducerIds { first: 1000, .. }
    ));
    let ControllerReply::Quorum(state) = quorum
        .call(ControllerRequest::DescribeQuorum, WITHIN)
        .await
        .unwrap()
    else {
        panic!("no quorum state");
    };
    assert_eq!(state.leader_id, 1);
    assert_eq!(state.voters.len(), 1);
    assert_eq!(state.observers.len(), 1, "broker 2 is a learner");
    assert!(state.high_watermark > 0);
    quorum.shutdown().await;
}
