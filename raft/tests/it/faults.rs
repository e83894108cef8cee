//! A 3-voter quorum under injected faults, in one process with real file stores. A seeded
//! in-memory network drops requests and answers, delays them (so they overtake each other)
//! and duplicates them; members are crashed (Raft stopped, a torn record left at the end of
//! their log, as a crash mid-write leaves it) and restarted from disk; members are cut off
//! and healed. Snapshots are taken every 20 entries, so lagging members get them installed.
//!
//! Checked throughout: no term ever has two leaders. Checked at the end, once healed: every
//! command a leader acknowledged is in every member's image, all images are equal, and the
//! image invariants hold. The seed is printed; `PETREL_SEED=N` replays a run.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::storage::RaftLogStorageExt;
use openraft::testing::log_id;
use openraft::{Config, EntryPayload, Raft, ServerState, SnapshotPolicy};
use petrel_raft::image::{CommandResult, MetadataImage};
use petrel_raft::log_store::LogStore;
use petrel_raft::state_machine::StateMachineStore;
use petrel_raft::types::{Entry, NodeId, PeerNode, TypeConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::support::register;
use tokio::sync::watch;

const MEMBERS: u64 = 3;
const STEPS: usize = 120;

/// Where every message goes, and what befalls it.
struct Router {
    running: Mutex<BTreeMap<NodeId, Raft<TypeConfig>>>,
    cut_off: Mutex<BTreeSet<NodeId>>,
    rng: Mutex<StdRng>,
}

/// What the network does to one request.
struct Route {
    raft: Raft<TypeConfig>,
    delay: Duration,
    duplicate: bool,
    lose_answer: bool,
}

impl Router {
    /// The error is openraft's own RPC error type, returned as the network trait wants it.
    #[allow(clippy::result_large_err)]
    fn route<E: std::error::Error>(
        &self,
        from: NodeId,
        to: NodeId,
    ) -> Result<Route, RPCError<NodeId, PeerNode, RaftError<NodeId, E>>> {
        let cut_off = self.cut_off.lock().unwrap();
        let target = self.running.lock().unwrap().get(&to).cloned();
        let Some(raft) = target.filter(|_| !cut_off.contains(&from) && !cut_off.contains(&to))
        else {
            let err = io::Error::new(io::ErrorKind::ConnectionRefused, "unreachable");
            return Err(RPCError::Unreachable(Unreachable::new(&err)));
        };
        let mut rng = self.rng.lock().unwrap();
        if rng.gen_bool(0.05) {
            return Err(lost("request lost"));
        }
        Ok(Route {
            raft,
            delay: Duration::from_millis(rng.gen_range(0..20)),
            duplicate: rng.gen_bool(0.05),
            lose_answer: rng.gen_bool(0.05),
        })
    }
}

fn lost<E: std::error::Error>(what: &str) -> RPCError<NodeId, PeerNode, RaftError<NodeId, E>> {
    RPCError::Network(NetworkError::new(&io::Error::other(what.to_string())))
}

struct SimFactory {
    from: NodeId,
    router: Arc<Router>,
}

struct SimClient {
    from: NodeId,
    to: NodeId,
    router: Arc<Router>,
}

impl RaftNetworkFactory<TypeConfig> for SimFactory {
    type Network = SimClient;

    async fn new_client(&mut self, target: NodeId, _node: &PeerNode) -> SimClient {
        SimClient {
            from: self.from,
            to: target,
            router: Arc::clone(&self.router),
        }
    }
}

impl SimClient {
    /// Sends `rpc` through the faulty network to the target's `call`: maybe lost, delayed,
    /// delivered twice, or answered with the answer lost.
    async fn deliver<Req, Resp, E, Fut>(
        &self,
        rpc: Req,
        call: impl Fn(Raft<TypeConfig>, Req) -> Fut,
    ) -> Result<Result<Resp, RaftError<NodeId, E>>, RPCError<NodeId, PeerNode, RaftError<NodeId, E>>>
    where
        Req: Clone,
        E: std::error::Error,
        Fut: std::future::Future<Output = Result<Resp, RaftError<NodeId, E>>>,
    {
        let route = self.router.route(self.from, self.to)?;
        tokio::time::sleep(route.delay).await;
        if route.duplicate {
            let _ = call(route.raft.clone(), rpc.clone()).await;
        }
        let answer = call(route.raft, rpc).await;
        if route.lose_answer {
            return Err(lost("answer lost"));
        }
        Ok(answer)
    }
}

impl RaftNetwork<TypeConfig> for SimClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, PeerNode, RaftError<NodeId>>> {
        let answer = self
            .deliver(
                rpc,
                |raft, rpc| async move { raft.append_entries(rpc).await },
            )
            .await?;
        answer.map_err(|err| RPCError::Network(NetworkError::new(&err)))
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, PeerNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        let answer = self
            .deliver(
                rpc,
                |raft, rpc| async move { raft.install_snapshot(rpc).await },
            )
            .await?;
        answer.map_err(|err| match err {
            RaftError::APIError(api) => {
                RPCError::RemoteError(RemoteError::new(self.to, RaftError::APIError(api)))
            }
            fatal => RPCError::Network(NetworkError::new(&fatal)),
        })
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        _option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, PeerNode, RaftError<NodeId>>> {
        let answer = self
            .deliver(rpc, |raft, rpc| async move { raft.vote(rpc).await })
            .await?;
        answer.map_err(|err| RPCError::Network(NetworkError::new(&err)))
    }
}

fn config() -> Arc<Config> {
    Arc::new(
        Config {
            cluster_name: "petrel-faults".into(),
            heartbeat_interval: 50,
            election_timeout_min: 200,
            election_timeout_max: 400,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(20),
            max_in_snapshot_log_to_keep: 5,
            ..Default::default()
        }
        .validate()
        .unwrap(),
    )
}

struct Member {
    dir: PathBuf,
    raft: Option<Raft<TypeConfig>>,
    image: watch::Receiver<Arc<MetadataImage>>,
}

async fn start(id: NodeId, dir: &Path, router: &Arc<Router>) -> Member {
    let log = LogStore::open(&dir.join("log")).unwrap();
    let machine = StateMachineStore::open(&dir.join("machine")).unwrap();
    let image = machine.subscribe();
    let factory = SimFactory {
        from: id,
        router: Arc::clone(router),
    };
    let raft = Raft::new(id, config(), factory, log, machine)
        .await
        .unwrap();
    router.running.lock().unwrap().insert(id, raft.clone());
    Member {
        dir: dir.to_path_buf(),
        raft: Some(raft),
        image,
    }
}

/// The bytes of one real log record, to leave a strict prefix of as a torn write.
async fn sample_record() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let mut log = LogStore::open(dir.path()).unwrap();
    log.blocking_append([Entry {
        log_id: log_id(1, 1, 1),
        payload: EntryPayload::Normal(register(1, 1)),
    }])
    .await
    .unwrap();
    drop(log);
    std::fs::read(dir.path().join("log")).unwrap()
}

/// Samples every running member's state until stopped; returns any term seen with two
/// different leaders.
fn watch_leaders(
    router: Arc<Router>,
    stop: Arc<Mutex<bool>>,
) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut leaders: BTreeMap<u64, NodeId> = BTreeMap::new();
        let mut violations = Vec::new();
        while !*stop.lock().unwrap() {
            let running: Vec<_> = router.running.lock().unwrap().values().cloned().collect();
            for raft in running {
                let metrics = raft.metrics().borrow().clone();
                if metrics.state == ServerState::Leader {
                    let first = *leaders.entry(metrics.current_term).or_insert(metrics.id);
                    if first != metrics.id {
                        violations.push(format!(
                            "term {}: leaders {first} and {}",
                            metrics.current_term, metrics.id
                        ));
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        violations
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quorum_under_lost_reordered_duplicated_messages_crashes_and_partitions_keeps_its_promises(
) {
    let seed: u64 = std::env::var("PETREL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    eprintln!("PETREL_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let router = Arc::new(Router {
        running: Mutex::new(BTreeMap::new()),
        cut_off: Mutex::new(BTreeSet::new()),
        rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x5eed)),
    });
    let record = sample_record().await;
    let dirs: Vec<tempfile::TempDir> = (0..MEMBERS).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut members = BTreeMap::new();
    for (id, dir) in (1..=MEMBERS).zip(&dirs) {
        members.insert(id, start(id, dir.path(), &router).await);
    }
    let voters: BTreeMap<NodeId, PeerNode> =
        (1..=MEMBERS).map(|id| (id, PeerNode::default())).collect();
    for member in members.values() {
        let _ = member
            .raft
            .as_ref()
            .unwrap()
            .initialize(voters.clone())
            .await;
    }
    let stop = Arc::new(Mutex::new(false));
    let monitor = watch_leaders(Arc::clone(&router), Arc::clone(&stop));

    let mut acknowledged = Vec::new();
    let mut next_broker = 1;
    let (mut crashes, mut cuts) = (0, 0);
    for _ in 0..STEPS {
        match rng.gen_range(0..10) {
            0..=5 => {
                let leader = members
                    .values()
                    .filter_map(|m| m.raft.clone())
                    .find(|raft| raft.metrics().borrow().state == ServerState::Leader);
                if let Some(raft) = leader {
                    let term = raft.metrics().borrow().current_term;
                    let id = next_broker;
                    next_broker += 1;
                    let write = raft.client_write(register(term, id));
                    // An isolated leader's write may never finish: bounded, and then simply
                    // not acknowledged.
                    if let Ok(Ok(response)) =
                        tokio::time::timeout(Duration::from_secs(2), write).await
                    {
                        if response.data == CommandResult::Applied {
                            acknowledged.push(id);
                        }
                    }
                }
            }
            6 => {
                // Crash one member while the other two run.
                let running: Vec<NodeId> = members
                    .iter()
                    .filter(|(_, m)| m.raft.is_some())
                    .map(|(id, _)| *id)
                    .collect();
                if running.len() == MEMBERS as usize {
                    let id = running[rng.gen_range(0..running.len())];
                    let member = members.get_mut(&id).unwrap();
                    router.running.lock().unwrap().remove(&id);
                    member.raft.take().unwrap().shutdown().await.unwrap();
                    let torn = &record[..rng.gen_range(1..record.len())];
                    let mut log = std::fs::OpenOptions::new()
                        .append(true)
                        .open(member.dir.join("log").join("log"))
                        .unwrap();
                    std::io::Write::write_all(&mut log, torn).unwrap();
                    crashes += 1;
                }
            }
            7 => {
                let crashed = members
                    .iter()
                    .find(|(_, m)| m.raft.is_none())
                    .map(|(id, m)| (*id, m.dir.clone()));
                if let Some((id, dir)) = crashed {
                    members.insert(id, start(id, &dir, &router).await);
                }
            }
            8 => {
                let mut cut_off = router.cut_off.lock().unwrap();
                if cut_off.is_empty() {
                    cut_off.insert(rng.gen_range(1..=MEMBERS));
                    cuts += 1;
                }
            }
            _ => router.cut_off.lock().unwrap().clear(),
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..40))).await;
    }

    // Heal: everyone back, nothing cut off; then everyone must converge.
    router.cut_off.lock().unwrap().clear();
    let crashed: Vec<(NodeId, PathBuf)> = members
        .iter()
        .filter(|(_, m)| m.raft.is_none())
        .map(|(id, m)| (*id, m.dir.clone()))
        .collect();
    for (id, dir) in crashed {
        members.insert(id, start(id, &dir, &router).await);
    }
    // A final write by the leader of the healed quorum, so every member must reach a point
    // after all earlier commands.
    let deadline = Instant::now() + Duration::from_secs(30);
    let final_id = loop {
        let leader = members
            .values()
            .filter_map(|m| m.raft.clone())
            .find(|raft| raft.metrics().borrow().state == ServerState::Leader);
        if let Some(raft) = leader {
            let term = raft.metrics().borrow().current_term;
            let write = raft.client_write(register(term, 10_000));
            if let Ok(Ok(response)) = tokio::time::timeout(Duration::from_secs(2), write).await {
                if response.data == CommandResult::Applied {
                    break 10_000;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "seed {seed}: no final write within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut images = Vec::new();
    for (id, member) in members.iter_mut() {
        let image = tokio::time::timeout(
            Duration::from_secs(30),
            member
                .image
                .wait_for(|image| image.brokers.contains_key(&final_id)),
        )
        .await
        .unwrap_or_else(|_| panic!("seed {seed}: member {id} never caught up"))
        .unwrap()
        .clone();
        image.check_invariants().unwrap();
        for broker in &acknowledged {
            assert!(
                image.brokers.contains_key(broker),
                "seed {seed}: member {id} lost acknowledged command {broker}"
            );
        }
        images.push(image);
    }
    // The same commands in the same order everywhere: the images agree up to the epoch of
    // whatever each has applied since (they stopped at possibly different blank entries).
    for image in &images[1..] {
        assert_eq!(
            image.brokers, images[0].brokers,
            "seed {seed}: images differ"
        );
    }
    *stop.lock().unwrap() = true;
    let violations = monitor.await.unwrap();
    assert!(violations.is_empty(), "seed {seed}: {violations:?}");
    eprintln!(
        "seed {seed}: {} acknowledged commands, {crashes} crashes, {cuts} partitions",
        acknowledged.len()
    );
    assert!(
        !acknowledged.is_empty(),
        "seed {seed}: nothing was ever acknowledged"
    );
    for member in members.values() {
        if let Some(raft) = &member.raft {
            raft.shutdown().await.unwrap();
        }
    }
}
