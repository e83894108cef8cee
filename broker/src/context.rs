//! What every handler may use: the node's identity, the address it advertises, its limits,
//! and its topics and partitions. Shared by all connections behind an `Arc`; the fields
//! never change after start-up (topics change inside their own service).

use crate::config::Config;

/// Host and port as given to clients in Metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: i32,
}

/// Read-only node state shared by the server and the handlers.
#[derive(Debug)]
pub struct BrokerContext {
    pub node_id: i32,
    pub cluster_id: String,
    /// Where clients should connect (from `advertised_listen`, else the bound address).
    pub advertised: Endpoint,
    pub config: Config,
    /// Topics and the partitions hosted here.
    pub topics: crate::topics::Topics,
    /// Producer ids for InitProducerId.
    pub producer_ids: crate::producers::ProducerIdAllocator,
    /// Fetch sessions (KIP-227) of all connections.
    pub fetch_sessions: crate::fetch_sessions::FetchSessions,
    /// The group coordinator (every group, on a single node).
    pub groups: std::sync::Arc<crate::groups::GroupService>,
}

/// A registered, unfenced broker as Metadata and DescribeCluster list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveBroker {
    pub id: i32,
    pub endpoint: Endpoint,
    pub rack: Option<String>,
}

impl BrokerContext {
    /// The brokers clients may use: registered in the image and not fenced.
    pub fn live_brokers(&self) -> Vec<LiveBroker> {
        self.topics
            .image()
            .brokers
            .iter()
            .filter(|(_, broker)| !broker.fenced)
            .filter_map(|(id, broker)| {
                let endpoint = crate::parse_endpoint(&broker.endpoint).ok()?;
                Some(LiveBroker {
                    id: *id,
                    endpoint,
                    rack: broker.rack.clone(),
                })
            })
            .collect()
    }

    /// The id reported as the controller: the active controller when it is a live broker
    /// (clients send it admin requests), else a live broker, as Kafka reports one when its
    /// controllers are a separate quorum.
    pub fn controller_id(&self, live: &[LiveBroker]) -> i32 {
        let leader = self
            .topics
            .quorum()
            .status()
            .leader
            .and_then(|id| i32::try_from(id).ok());
        match leader {
            Some(id) if live.iter().any(|b| b.id == id) => id,
            _ => live.first().map_or(self.node_id, |b| b.id),
        }
    }

    /// The endpoint of broker `id` if it is live.
    pub fn broker_endpoint(&self, id: i32) -> Option<Endpoint> {
        self.live_brokers()
            .into_iter()
            .find(|b| b.id == id)
            .map(|b| b.endpoint)
    }
}
