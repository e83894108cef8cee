//! `Quorum`, the broker's entry point: a lone node elects itself and keeps its image across
//! a restart; three nodes started from the same voter list form one quorum over their
//! controller listeners, and only the active controller's proposals commit.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

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
