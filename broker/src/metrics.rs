//! Prometheus metrics: names in one place, recorded through the `metrics` facade and served
//! by `metrics-exporter-prometheus` on the metrics listener at `/metrics`.
//!
//! Without an installed exporter (in-process tests) every recording is a no-op.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};

pub const REQUESTS_TOTAL: &str = "petrel_requests_total";
pub const REQUEST_DURATION_SECONDS: &str = "petrel_request_duration_seconds";
pub const BYTES_RECEIVED_TOTAL: &str = "petrel_bytes_received_total";
pub const BYTES_SENT_TOTAL: &str = "petrel_bytes_sent_total";
pub const BYTES_SENT_ZERO_COPY_TOTAL: &str = "petrel_bytes_sent_zero_copy_total";
pub const CONNECTIONS_OPEN: &str = "petrel_connections_open";
pub const CONNECTIONS_ACCEPTED_TOTAL: &str = "petrel_connections_accepted_total";
pub const CONNECTIONS_REFUSED_TOTAL: &str = "petrel_connections_refused_total";
pub const CONNECTIONS_CLOSED_FOR_BAD_INPUT_TOTAL: &str =
    "petrel_connections_closed_for_bad_input_total";
pub const STORAGE_IO_BACKEND: &str = "petrel_storage_io_backend";
pub const GROUPS: &str = "petrel_groups";
pub const GROUP_MEMBERS: &str = "petrel_group_members";
pub const GROUP_REBALANCES_TOTAL: &str = "petrel_group_rebalances_total";
pub const OFFSET_COMMITS_TOTAL: &str = "petrel_offset_commits_total";

/// Latency buckets from 50 µs to 10 s.
const LATENCY_BUCKETS_SECONDS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 10.0,
];

/// Installs the global recorder and starts the HTTP listener (must run inside the runtime).
pub fn install(addr: SocketAddr) -> anyhow::Result<()> {
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(
            Matcher::Full(REQUEST_DURATION_SECONDS.into()),
            LATENCY_BUCKETS_SECONDS,
        )?
        .upkeep_timeout(Duration::from_secs(5))
        .install()
        .with_context(|| format!("cannot start metrics listener on {addr}"))?;
    describe();
    Ok(())
}

fn describe() {
    metrics::describe_counter!(
        REQUESTS_TOTAL,
        "Requests handled, by API, version and top-level error"
    );
    metrics::describe_histogram!(
        REQUEST_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Time from decoded request to encoded response, by API"
    );
    metrics::describe_counter!(
        BYTES_RECEIVED_TOTAL,
        metrics::Unit::Bytes,
        "Request bytes read from clients"
    );
    metrics::describe_counter!(
        BYTES_SENT_TOTAL,
        metrics::Unit::Bytes,
        "Response bytes written to clients"
    );
    metrics::describe_counter!(
        BYTES_SENT_ZERO_COPY_TOTAL,
        metrics::Unit::Bytes,
        "Record bytes sent from segment files with sendfile (never copied through user space)"
    );
    metrics::describe_gauge!(CONNECTIONS_OPEN, "Client connections currently open");
    metrics::describe_gauge!(GROUPS, "Consumer groups, by state");
    metrics::describe_gauge!(GROUP_MEMBERS, "Members of all consumer groups");
    metrics::describe_counter!(
        GROUP_REBALANCES_TOTAL,
        "Completed rebalances (join phases that produced a new generation)"
    );
    metrics::describe_counter!(
        OFFSET_COMMITS_TOTAL,
        "Partition offsets committed, by result (NONE or the Kafka error)"
    );
    metrics::describe_counter!(CONNECTIONS_ACCEPTED_TOTAL, "Client connections accepted");
    metrics::describe_counter!(
        CONNECTIONS_REFUSED_TOTAL,
        "Client connections closed on accept because connections_max was reached"
    );
    metrics::describe_counter!(
        CONNECTIONS_CLOSED_FOR_BAD_INPUT_TOTAL,
        "Connections closed because of bad input, by reason"
    );
}

/// Exposes which storage I/O backend runs: a gauge set to 1 with the backend as label.
pub fn record_storage_backend(kind: petrel_storage::io::BackendKind) {
    metrics::describe_gauge!(
        STORAGE_IO_BACKEND,
        "Storage I/O backend in use (1 for the running one)"
    );
    metrics::gauge!(STORAGE_IO_BACKEND, "backend" => kind.to_string()).set(1.0);
}

/// A Kafka error code as a stable label: `NONE` or the error's name.
pub fn error_label(code: i16) -> String {
    match kafka_protocol::error::ResponseError::try_from_code(code) {
        None => "NONE".to_string(),
        Some(error) => format!("{error:?}"),
    }
}

pub const RAFT_IS_LEADER: &str = "petrel_raft_is_leader";
pub const RAFT_TERM: &str = "petrel_raft_term";

/// Publishes this node's view of the metadata quorum (leader or not, current term) until
/// `shutdown`. Polled: openraft's metrics channel is not exposed outside the quorum, and
/// a 50 ms lag is fine for a dashboard and for failover measurements.
pub async fn track_raft(
    quorum: std::sync::Arc<petrel_raft::quorum::Quorum>,
    shutdown: tokio_util::sync::CancellationToken,
) {
    metrics::describe_gauge!(
        RAFT_IS_LEADER,
        "1 while this node is the active controller (metadata quorum leader)"
    );
    metrics::describe_gauge!(
        RAFT_TERM,
        "The metadata quorum's current term (controller epoch)"
    );
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(50));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let status = quorum.status();
        metrics::gauge!(RAFT_IS_LEADER).set(if status.is_leader { 1.0 } else { 0.0 });
        metrics::gauge!(RAFT_TERM).set(status.term as f64);
    }
}
