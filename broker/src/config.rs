//! Node configuration: defaults, then a YAML file (`--config FILE`), then command-line
//! flags, then `PETREL_*` environment variables — each layer overriding the one before.
//!
//! Environment variables come last so that a container image can bake flags into its
//! command and still be reconfigured with `-e PETREL_LISTEN=...`. Every flag has an
//! environment twin named `PETREL_` + the flag in upper snake case (`--data-dir` ->
//! `PETREL_DATA_DIR`); both are parsed by the same clap definition ([`Overrides`]), so they
//! validate identically.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, CommandFactory, FromArgMatches, Parser, ValueEnum};
use serde::{Deserialize, Serialize};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Which storage I/O backend to use (`--storage-io-backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum StorageIoBackend {
    /// io_uring when the kernel allows it, else portable.
    Auto,
    /// io_uring or fail to start.
    #[value(name = "io_uring")]
    #[serde(rename = "io_uring")]
    IoUring,
    /// pwrite/fdatasync on blocking threads.
    Portable,
}

impl From<StorageIoBackend> for petrel_storage::io::BackendChoice {
    fn from(choice: StorageIoBackend) -> Self {
        match choice {
            StorageIoBackend::Auto => petrel_storage::io::BackendChoice::Auto,
            StorageIoBackend::IoUring => petrel_storage::io::BackendChoice::IoUring,
            StorageIoBackend::Portable => petrel_storage::io::BackendChoice::Portable,
        }
    }
}

/// The effective configuration of a node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// This node's id (Kafka's `node.id`).
    pub node_id: i32,
    /// Where data and `meta.properties` live.
    pub data_dir: PathBuf,
    /// Client listener address (HOST:PORT).
    pub listen: String,
    /// Address given to clients in Metadata; defaults to the bound listener address.
    pub advertised_listen: Option<String>,
    /// Prometheus endpoint address (HOST:PORT).
    pub metrics_listen: String,
    /// Log line format.
    pub log_format: LogFormat,
    /// Log filter, in `tracing` EnvFilter syntax (e.g. `info`, `petrel_broker=debug`).
    pub log_level: String,
    /// Largest request frame accepted (Kafka's `socket.request.max.bytes`).
    pub frame_bytes_max: usize,
    /// Most client connections open at once; further ones are closed on accept.
    pub connections_max: usize,
    /// Most requests of one connection being processed at once; reading pauses beyond it.
    pub inflight_requests_max: usize,
    /// How long shutdown waits for in-flight requests before closing connections.
    pub shutdown_grace_ms: u64,
    /// Storage I/O backend for the data directory.
    pub storage_io_backend: StorageIoBackend,
    /// Create a topic when a client asks for an unknown one (`auto.create.topics.enable`).
    pub auto_create_topics_enable: bool,
    /// Partitions of an auto-created topic (`num.partitions`).
    pub num_partitions: i32,
    /// How often retention deletes old segments (`log.retention.check.interval.ms`).
    pub retention_check_interval_ms: u64,
    /// Most fetch sessions kept (`max.incremental.fetch.session.cache.slots`).
    pub fetch_session_cache_slots: usize,
    /// How long an empty group's first rebalance waits for more members
    /// (`group.initial.rebalance.delay.ms`).
    pub group_initial_rebalance_delay_ms: i32,
    /// Partitions of `__consumer_offsets` when it is created (`offsets.topic.num.partitions`).
    pub offsets_topic_num_partitions: i32,
    /// Answer acks=all produce only after an fdatasync covering the batch. Off, acks=all is
    /// answered from the page cache, as Apache Kafka does by default (it relies on
    /// replication, not fsync); a power loss can then lose acknowledged records.
    pub fsync_acks_all: bool,
    /// What this node does: `broker`, `controller`, or `controller,broker` (both).
    pub roles: String,
    /// The voting controllers, `ID@HOST:PORT,...` (their controller listeners). Empty: this
    /// node alone is a one-voter quorum, with no network.
    pub voters: String,
    /// Where to serve quorum traffic (HOST:PORT); needed in a cluster of several nodes.
    pub controller_listen: Option<String>,
    /// The broker's rack (Kafka's `broker.rack`), for spreading replicas.
    pub rack: Option<String>,
    /// A broker silent this long is fenced (`broker.session.timeout.ms`).
    pub broker_session_timeout_ms: u64,
    /// How often a broker heartbeats to the controller (`broker.heartbeat.interval.ms`).
    pub broker_heartbeat_interval_ms: u64,
    /// Raft heartbeat (also its AppendEntries timeout).
    pub raft_heartbeat_interval_ms: u64,
    /// Raft election timeout, randomized between min and max.
    pub raft_election_timeout_min_ms: u64,
    pub raft_election_timeout_max_ms: u64,
    /// How long an admin change may wait for the controller (then REQUEST_TIMED_OUT).
    pub controller_request_timeout_ms: u64,
    /// Replicas of a topic created without a replication factor
    /// (`default.replication.factor`).
    pub default_replication_factor: i16,
}

/// One voter from `--voters`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voter {
    pub id: i32,
    pub address: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            node_id: 1,
            data_dir: PathBuf::from("./data"),
            listen: "127.0.0.1:9092".into(),
            advertised_listen: None,
            metrics_listen: "127.0.0.1:9464".into(),
            log_format: LogFormat::Text,
            log_level: "info".into(),
            frame_bytes_max: petrel_protocol::frame::FRAME_BYTES_MAX_DEFAULT,
            connections_max: 10_000,
            inflight_requests_max: 100,
            shutdown_grace_ms: 5_000,
            storage_io_backend: StorageIoBackend::Auto,
            auto_create_topics_enable: true,
            num_partitions: 1,
            retention_check_interval_ms: 300_000,
            fetch_session_cache_slots: 1_000,
            group_initial_rebalance_delay_ms: 3_000,
            offsets_topic_num_partitions: 50,
            fsync_acks_all: true,
            roles: "controller,broker".into(),
            voters: String::new(),
            controller_listen: None,
            rack: None,
            broker_session_timeout_ms: 9_000,
            broker_heartbeat_interval_ms: 2_000,
            raft_heartbeat_interval_ms: 100,
            raft_election_timeout_min_ms: 500,
            raft_election_timeout_max_ms: 1_000,
            controller_request_timeout_ms: 5_000,
            default_replication_factor: 1,
        }
    }
}

/// Settings given on the command line or in the environment; unset ones leave the lower
/// layers alone.
#[derive(Debug, Clone, Default, Args)]
pub struct Overrides {
    /// YAML config file (keys are the flag names with underscores, e.g. `data_dir`)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// This node's id [default: 1]
    #[arg(long, value_name = "N")]
    pub node_id: Option<i32>,
    /// Data directory [default: ./data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Client listener [default: 127.0.0.1:9092]
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// Address advertised to clients in Metadata [default: the listener's bound address]
    #[arg(long, value_name = "HOST:PORT")]
    pub advertised_listen: Option<String>,
    /// Prometheus metrics listener, served at /metrics [default: 127.0.0.1:9464]
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_listen: Option<String>,
    /// Log format [default: text]
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter, e.g. info, debug, petrel_broker=trace [default: info]
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Largest request frame in bytes [default: 104857600]
    #[arg(long, value_name = "BYTES")]
    pub frame_bytes_max: Option<usize>,
    /// Most open client connections [default: 10000]
    #[arg(long, value_name = "N")]
    pub connections_max: Option<usize>,
    /// Most in-flight requests per connection [default: 100]
    #[arg(long, value_name = "N")]
    pub inflight_requests_max: Option<usize>,
    /// Grace period for in-flight requests at shutdown, in ms [default: 5000]
    #[arg(long, value_name = "MS")]
    pub shutdown_grace_ms: Option<u64>,
    /// Storage I/O backend; auto probes io_uring and falls back to portable [default: auto]
    #[arg(long, value_enum)]
    pub storage_io_backend: Option<StorageIoBackend>,
    /// Create unknown topics on Metadata/Produce, as Kafka's auto.create.topics.enable [default: true]
    #[arg(long, value_name = "BOOL")]
    pub auto_create_topics_enable: Option<bool>,
    /// Partitions of an auto-created topic, as Kafka's num.partitions [default: 1]
    #[arg(long, value_name = "N")]
    pub num_partitions: Option<i32>,
    /// How often retention runs, as Kafka's log.retention.check.interval.ms [default: 300000]
    #[arg(long, value_name = "MS")]
    pub retention_check_interval_ms: Option<u64>,
    /// Most fetch sessions cached, as Kafka's max.incremental.fetch.session.cache.slots
    /// [default: 1000]
    #[arg(long, value_name = "N")]
    pub fetch_session_cache_slots: Option<usize>,
    /// How long an empty group's first rebalance waits for more members, as Kafka's
    /// group.initial.rebalance.delay.ms [default: 3000]
    #[arg(long, value_name = "MS")]
    pub group_initial_rebalance_delay_ms: Option<i32>,
    /// Partitions of __consumer_offsets when it is created, as Kafka's
    /// offsets.topic.num.partitions [default: 50]
    #[arg(long, value_name = "N")]
    pub offsets_topic_num_partitions: Option<i32>,
    /// fdatasync before answering acks=all produce; false answers from the page cache, as
    /// Kafka does by default (no log.flush.* settings) [default: true]
    #[arg(long, value_name = "BOOL")]
    pub fsync_acks_all: Option<bool>,
    /// Roles of this node: broker, controller, or controller,broker [default: controller,broker]
    #[arg(long, value_name = "ROLES")]
    pub roles: Option<String>,
    /// Voting controllers as ID@HOST:PORT,... (controller listeners); empty: this node alone
    /// [default: empty]
    #[arg(long, value_name = "VOTERS")]
    pub voters: Option<String>,
    /// Controller (quorum) listener; required with more than one voter [default: none]
    #[arg(long, value_name = "HOST:PORT")]
    pub controller_listen: Option<String>,
    /// This broker's rack, as Kafka's broker.rack [default: none]
    #[arg(long, value_name = "NAME")]
    pub rack: Option<String>,
    /// Fence a broker silent this long, as Kafka's broker.session.timeout.ms [default: 9000]
    #[arg(long, value_name = "MS")]
    pub broker_session_timeout_ms: Option<u64>,
    /// Broker heartbeat period, as Kafka's broker.heartbeat.interval.ms [default: 2000]
    #[arg(long, value_name = "MS")]
    pub broker_heartbeat_interval_ms: Option<u64>,
    /// Raft heartbeat period [default: 100]
    #[arg(long, value_name = "MS")]
    pub raft_heartbeat_interval_ms: Option<u64>,
    /// Raft election timeout, lower bound [default: 500]
    #[arg(long, value_name = "MS")]
    pub raft_election_timeout_min_ms: Option<u64>,
    /// Raft election timeout, upper bound [default: 1000]
    #[arg(long, value_name = "MS")]
    pub raft_election_timeout_max_ms: Option<u64>,
    /// How long an admin change waits for the controller [default: 5000]
    #[arg(long, value_name = "MS")]
    pub controller_request_timeout_ms: Option<u64>,
    /// Replicas of a topic created without a replication factor, as Kafka's
    /// default.replication.factor [default: 1]
    #[arg(long, value_name = "N")]
    pub default_replication_factor: Option<i16>,
}

/// `petrel`: a Kafka-protocol-compatible broker.
#[derive(Debug, Parser)]
#[command(
    name = "petrel",
    version,
    about = "Petrel: a Kafka-protocol-compatible broker. With no arguments, starts a single node \
             on 127.0.0.1:9092 with data under ./data.",
    after_help = "Precedence, lowest to highest: built-in defaults, the YAML file (--config), \
                  command-line flags, PETREL_* environment variables. Every flag has an \
                  environment twin: PETREL_ + the flag in upper snake case, e.g. \
                  PETREL_DATA_DIR, PETREL_LISTEN, PETREL_NODE_ID."
)]
pub struct Cli {
    #[command(flatten)]
    pub overrides: Overrides,
}

impl Overrides {
    /// Reads `PETREL_*` variables for every flag, through the same clap definition.
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> anyhow::Result<Self> {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let command = Overrides::augment_args(clap::Command::new("petrel-env"));
        let mut argv = vec!["petrel-env".to_string()];
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            let env_name = format!("PETREL_{}", long.replace('-', "_").to_uppercase());
            if let Some((_, value)) = vars.iter().find(|(name, _)| *name == env_name) {
                argv.push(format!("--{long}={value}"));
            }
        }
        let matches = command
            .try_get_matches_from(argv)
            .context("invalid PETREL_* environment variable")?;
        Ok(Overrides::from_arg_matches(&matches)?)
    }

    fn apply_to(self, config: &mut Config) {
        let Overrides {
            config: _,
            node_id,
            data_dir,
            listen,
            advertised_listen,
            metrics_listen,
            log_format,
            log_level,
            frame_bytes_max,
            connections_max,
            inflight_requests_max,
            shutdown_grace_ms,
            storage_io_backend,
            auto_create_topics_enable,
            num_partitions,
            retention_check_interval_ms,
            fetch_session_cache_slots,
            group_initial_rebalance_delay_ms,
            offsets_topic_num_partitions,
            fsync_acks_all,
            roles,
            voters,
            controller_listen,
            rack,
            broker_session_timeout_ms,
            broker_heartbeat_interval_ms,
            raft_heartbeat_interval_ms,
            raft_election_timeout_min_ms,
            raft_election_timeout_max_ms,
            controller_request_timeout_ms,
            default_replication_factor,
        } = self;
        set(&mut config.node_id, node_id);
        set(&mut config.data_dir, data_dir);
        set(&mut config.listen, listen);
        if advertised_listen.is_some() {
            config.advertised_listen = advertised_listen;
        }
        set(&mut config.metrics_listen, metrics_listen);
        set(&mut config.log_format, log_format);
        set(&mut config.log_level, log_level);
        set(&mut config.frame_bytes_max, frame_bytes_max);
        set(&mut config.connections_max, connections_max);
        set(&mut config.inflight_requests_max, inflight_requests_max);
        set(&mut config.shutdown_grace_ms, shutdown_grace_ms);
        set(&mut config.storage_io_backend, storage_io_backend);
        set(
            &mut config.auto_create_topics_enable,
            auto_create_topics_enable,
        );
        set(&mut config.num_partitions, num_partitions);
        set(
            &mut config.retention_check_interval_ms,
            retention_check_interval_ms,
        );
        set(
            &mut config.fetch_session_cache_slots,
            fetch_session_cache_slots,
        );
        set(
            &mut config.group_initial_rebalance_delay_ms,
            group_initial_rebalance_delay_ms,
        );
        set(
            &mut config.offsets_topic_num_partitions,
            offsets_topic_num_partitions,
        );
        set(&mut config.fsync_acks_all, fsync_acks_all);
        set(&mut config.roles, roles);
        set(&mut config.voters, voters);
        if controller_listen.is_some() {
            config.controller_listen = controller_listen;
        }
        if rack.is_some() {
            config.rack = rack;
        }
        set(
            &mut config.broker_session_timeout_ms,
            broker_session_timeout_ms,
        );
        set(
            &mut config.broker_heartbeat_interval_ms,
            broker_heartbeat_interval_ms,
        );
        set(
            &mut config.raft_heartbeat_interval_ms,
            raft_heartbeat_interval_ms,
        );
        set(
            &mut config.raft_election_timeout_min_ms,
            raft_election_timeout_min_ms,
        );
        set(
            &mut config.raft_election_timeout_max_ms,
            raft_election_timeout_max_ms,
        );
        set(
            &mut config.controller_request_timeout_ms,
            controller_request_timeout_ms,
        );
        set(
            &mut config.default_replication_factor,
            default_replication_factor,
        );
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

impl Config {
    /// Builds the effective config from the layers, lowest first.
    pub fn resolve(flags: Overrides, env: Overrides) -> anyhow::Result<Config> {
        let mut config = match env.config.as_ref().or(flags.config.as_ref()) {
            Some(path) => Config::from_yaml_file(path)?,
            None => Config::default(),
        };
        flags.apply_to(&mut config);
        env.apply_to(&mut config);
        config.validate()?;
        Ok(config)
    }

    pub fn from_yaml_file(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Config::from_yaml(&text).with_context(|| format!("invalid config file {}", path.display()))
    }

    pub fn from_yaml(text: &str) -> anyhow::Result<Config> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        Ok(serde_saphyr::from_str(text)?)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.node_id < 0 {
            bail!("node_id must be >= 0, got {}", self.node_id);
        }
        if self.frame_bytes_max < petrel_protocol::header::FIXED_HEADER_BYTES {
            bail!(
                "frame_bytes_max must be at least {}",
                petrel_protocol::header::FIXED_HEADER_BYTES
            );
        }
        if self.num_partitions < 1 {
            bail!(
                "num_partitions must be at least 1, got {}",
                self.num_partitions
            );
        }
        if self.offsets_topic_num_partitions < 1 {
            bail!(
                "offsets_topic_num_partitions must be at least 1, got {}",
                self.offsets_topic_num_partitions
            );
        }
        if self.group_initial_rebalance_delay_ms < 0 {
            bail!("group_initial_rebalance_delay_ms must be >= 0");
        }
        if self.connections_max == 0 || self.inflight_requests_max == 0 {
            bail!("connections_max and inflight_requests_max must be at least 1");
        }
        let (controller, broker) = self.role_flags()?;
        if !controller && !broker {
            bail!("roles must name controller, broker or both");
        }
        let voters = self.voter_list()?;
        let is_voter = voters.iter().any(|v| v.id == self.node_id);
        if controller && !voters.is_empty() && !is_voter {
            bail!(
                "node {} has the controller role but is not in voters ({})",
                self.node_id,
                self.voters
            );
        }
        if !controller && (voters.is_empty() || is_voter) {
            bail!(
                "a broker-only node needs voters that do not include its own id {}",
                self.node_id
            );
        }
        let networked = voters.len() > 1 || !controller;
        if networked && self.controller_listen.is_none() {
            bail!(
                "controller_listen is required in a cluster (voters: {})",
                self.voters
            );
        }
        if self.raft_election_timeout_min_ms >= self.raft_election_timeout_max_ms
            || self.raft_heartbeat_interval_ms >= self.raft_election_timeout_min_ms
        {
            bail!(
                "raft timings need heartbeat < election min < election max (got {} / {} / {})",
                self.raft_heartbeat_interval_ms,
                self.raft_election_timeout_min_ms,
                self.raft_election_timeout_max_ms
            );
        }
        if self.broker_heartbeat_interval_ms == 0
            || self.broker_heartbeat_interval_ms >= self.broker_session_timeout_ms
        {
            bail!(
                "broker_heartbeat_interval_ms must be above 0 and below broker_session_timeout_ms"
            );
        }
        if self.default_replication_factor < 1 {
            bail!("default_replication_factor must be at least 1");
        }
        Ok(())
    }

    /// (controller, broker) from `roles`.
    pub fn role_flags(&self) -> anyhow::Result<(bool, bool)> {
        let mut flags = (false, false);
        for role in self
            .roles
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            match role {
                "controller" => flags.0 = true,
                "broker" => flags.1 = true,
                other => bail!("unknown role {other:?} (expected controller or broker)"),
            }
        }
        Ok(flags)
    }

    /// The voters from `voters` (`ID@HOST:PORT,...`), in the order given.
    pub fn voter_list(&self) -> anyhow::Result<Vec<Voter>> {
        let mut voters: Vec<Voter> = Vec::new();
        for item in self
            .voters
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            let (id, address) = item
                .split_once('@')
                .with_context(|| format!("voter {item:?} is not ID@HOST:PORT"))?;
            let id: i32 = id
                .parse()
                .ok()
                .filter(|id| *id >= 0)
                .with_context(|| format!("voter {item:?} has an invalid id"))?;
            if !address.contains(':') {
                bail!("voter {item:?} has no port");
            }
            if voters.iter().any(|v| v.id == id) {
                bail!("voter id {id} is listed twice");
            }
            voters.push(Voter {
                id,
                address: address.to_string(),
            });
        }
        Ok(voters)
    }

    pub fn controller_request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.controller_request_timeout_ms)
    }
}

/// The `--help` text, for tests and docs.
pub fn help_text() -> String {
    Cli::command().render_long_help().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> Overrides {
        let mut argv = vec!["petrel"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("flags parse").overrides
    }

    fn env(vars: &[(&str, &str)]) -> Overrides {
        Overrides::from_env(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .expect("env parses")
    }

    #[test]
    fn no_arguments_gives_the_embedded_single_node_default() {
        let config = Config::resolve(flags(&[]), env(&[])).unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.listen, "127.0.0.1:9092");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn yaml_then_flags_then_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("petrel.yaml");
        std::fs::write(
            &path,
            "listen: 127.0.0.1:1000\nnode_id: 7\ndata_dir: /from/yaml\nlog_format: json\n",
        )
        .unwrap();
        let path_arg = path.to_str().unwrap();
        let config = Config::resolve(
            flags(&[
                "--config",
                path_arg,
                "--listen",
                "127.0.0.1:2000",
                "--data-dir",
                "/from/flag",
            ]),
            env(&[("PETREL_LISTEN", "127.0.0.1:3000"), ("UNRELATED", "x")]),
        )
        .unwrap();
        assert_eq!(config.node_id, 7, "YAML applies when nothing overrides it");
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(
            config.data_dir,
            PathBuf::from("/from/flag"),
            "flag beats YAML"
        );
        assert_eq!(config.listen, "127.0.0.1:3000", "env beats flag");
    }

    #[test]
    fn config_file_can_come_from_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(&path, "node_id: 3\n").unwrap();
        let config = Config::resolve(
            flags(&[]),
            env(&[("PETREL_CONFIG", path.to_str().unwrap())]),
        )
        .unwrap();
        assert_eq!(config.node_id, 3);
    }

    #[test]
    fn unknown_yaml_keys_and_bad_values_are_errors() {
        assert!(Config::from_yaml("lisen: 127.0.0.1:1\n").is_err());
        assert!(Config::from_yaml("node_id: banana\n").is_err());
        assert!(Overrides::from_env([("PETREL_NODE_ID".to_string(), "x".to_string())]).is_err());
        assert!(Config::resolve(flags(&["--node-id=-3"]), env(&[])).is_err());
    }

    #[test]
    fn cluster_settings_are_checked() {
        let ok = |args: &[&str]| Config::resolve(flags(args), env(&[]));
        let voters = "--voters=1@127.0.0.1:9093,2@127.0.0.2:9093,3@127.0.0.3:9093";
        let config = ok(&[voters, "--controller-listen=127.0.0.1:9093"]).unwrap();
        assert_eq!(config.voter_list().unwrap().len(), 3);
        assert_eq!(config.role_flags().unwrap(), (true, true));
        // Several voters need a controller listener.
        assert!(ok(&[voters]).is_err());
        // A controller must be a voter; a broker-only node must not.
        assert!(ok(&["--node-id=4", voters, "--controller-listen=h:1"]).is_err());
        assert!(ok(&[
            "--node-id=4",
            "--roles=broker",
            voters,
            "--controller-listen=h:1"
        ])
        .is_ok());
        assert!(ok(&["--roles=broker", voters, "--controller-listen=h:1"]).is_err());
        assert!(ok(&["--roles=router"]).is_err());
        assert!(ok(&["--voters=1@nohostport"]).is_err());
        assert!(ok(&["--voters=1@h:1,1@h:2", "--controller-listen=h:1"]).is_err());
        assert!(ok(&["--raft-election-timeout-min-ms=2000"]).is_err());
    }

    #[test]
    fn help_documents_every_flag_and_the_precedence() {
        let help = help_text();
        for flag in [
            "--config",
            "--data-dir",
            "--listen",
            "--advertised-listen",
            "--metrics-listen",
            "--node-id",
            "--log-format",
            "--log-level",
            "--frame-bytes-max",
            "--connections-max",
            "--inflight-requests-max",
            "--storage-io-backend",
            "--auto-create-topics-enable",
            "--num-partitions",
        ] {
            assert!(help.contains(flag), "--help lacks {flag}");
        }
        assert!(help.contains("PETREL_"));
    }
}
