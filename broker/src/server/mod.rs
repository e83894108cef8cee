//! The client listener: accepts connections and runs one task per connection
//! ([`connection`]), up to `connections_max` at once. Shutdown is a cancellation token:
//! the accept loop stops, every connection stops reading and finishes the responses it
//! owes, and [`serve`] returns once all connection tasks are done or the grace period ends.

pub mod connection;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::context::BrokerContext;
use crate::metrics as m;

/// Accepts and serves clients on `listener` until `shutdown` is cancelled.
pub async fn serve(listener: TcpListener, ctx: Arc<BrokerContext>, shutdown: CancellationToken) {
    let connection_slots = Arc::new(Semaphore::new(ctx.config.connections_max));
    let tracker = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                // Typically EMFILE: back off briefly instead of spinning.
                warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = connection_slots.clone().try_acquire_owned() else {
            warn!(%peer, limit = ctx.config.connections_max, "closing connection: connections_max reached");
            metrics::counter!(m::CONNECTIONS_REFUSED_TOTAL).increment(1);
            drop(stream);
            continue;
        };
        metrics::counter!(m::CONNECTIONS_ACCEPTED_TOTAL).increment(1);
        let ctx = ctx.clone();
        let stop = shutdown.child_token();
        tracker.spawn(async move {
            connection::serve(stream, peer, ctx, stop).await;
            drop(slot);
        });
    }
    tracker.close();
    let grace = Duration::from_millis(ctx.config.shutdown_grace_ms);
    info!(
        connections = tracker.len(),
        "listener closed; waiting for connections to finish"
    );
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        warn!(
            connections = tracker.len(),
            "grace period over; closing remaining connections"
        );
    }
}
