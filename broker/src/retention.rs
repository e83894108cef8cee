//! Background retention: every `retention_check_interval_ms` (Kafka's
//! `log.retention.check.interval.ms`, default 5 minutes) each hosted partition deletes the
//! closed segments its topic's `retention.ms` / `retention.bytes` allow, and snapshots its
//! idempotent producers' state. Stops with the node's shutdown token.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::context::BrokerContext;

/// Runs retention passes until `shutdown` is cancelled.
pub async fn run(ctx: Arc<BrokerContext>, interval: Duration, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await; // the first tick is immediate; start one interval after start-up
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        for partition in ctx.topics.partitions.all() {
            if let Err(error) = partition.log.apply_retention().await {
                warn!(topic = %partition.topic, partition = partition.index, %error, "retention pass failed");
            }
            // Snapshot the producers' state too: it bounds the replay after a crash, and
            // keeps the state of producers whose batches retention has just deleted.
            if let Err(error) = partition.snapshot_producers().await {
                warn!(topic = %partition.topic, partition = partition.index, %error, "producer snapshot failed");
            }
        }
    }
}
