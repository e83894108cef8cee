//! Per-connection request ordering. Kafka handles a connection's requests one at a time;
//! Petrel runs them concurrently but chains the ones whose order matters: each request of a
//! chain takes a [`Turn`], waits for the previous turn of that chain to finish, and finishes
//! its own when the next may go (for Produce: once appended, before the fsync; for other
//! ordered requests: once handled).

use tokio::sync::oneshot;

/// One request's place in a connection's chain.
#[derive(Debug)]
pub struct Turn {
    previous: Option<oneshot::Receiver<()>>,
    done: oneshot::Sender<()>,
}

impl Turn {
    /// The turn after the last one taken from `chain`; `chain` then holds what the next turn
    /// waits on.
    pub fn next_in(chain: &mut Option<oneshot::Receiver<()>>) -> Turn {
        let (done, next) = oneshot::channel();
        let previous = chain.replace(next);
        Turn { previous, done }
    }

    /// A turn that waits for nothing (for callers outside a connection, such as tests).
    pub fn first() -> Turn {
        Turn::next_in(&mut None)
    }

    /// Waits until the previous turn has finished.
    pub async fn wait(&mut self) {
        if let Some(previous) = self.previous.take() {
            // An error only means the previous request is gone: its turn is over too.
            let _ = previous.await;
        }
    }

    /// Lets the next turn go (dropping the turn does the same).
    pub fn finish(self) {
        let _ = self.done.send(());
    }
}
