//! InitProducerId (key 22): producer ids for idempotent producers.
//!
//! Every call gets a fresh id (never reused, see `producers`) with epoch 0, even when the
//! producer sends its current id and epoch (v3+, KIP-360): for a producer without a
//! transactional id that is what Kafka's coordinator does, and the new id resets its
//! sequences. Transactions are
//! not supported yet: a transactional id is answered with `COORDINATOR_NOT_AVAILABLE`, what
//! Kafka answers while its transaction coordinator is unavailable, never a false success.

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use tracing::warn;

use crate::context::BrokerContext;

pub async fn handle(
    ctx: &BrokerContext,
    request: &InitProducerIdRequest,
) -> InitProducerIdResponse {
    let response = InitProducerIdResponse::default();
    match &request.transactional_id {
        None => {}
        // Kafka refuses an empty transactional id outright.
        Some(id) if id.0.is_empty() => {
            return response.with_error_code(ResponseError::InvalidRequest.code())
        }
        Some(_) => return response.with_error_code(ResponseError::CoordinatorNotAvailable.code()),
    }
    let allocated = ctx
        .producer_ids
        .allocate(
            ctx.topics.quorum(),
            ctx.node_id,
            ctx.config.controller_request_timeout(),
        )
        .await;
    match allocated {
        Ok(id) => response
            .with_producer_id(ProducerId(id))
            .with_producer_epoch(0),
        Err(err) => {
            warn!(%err, "cannot get a producer id block from the controller");
            // What Kafka answers while its controller cannot hand out ids; clients retry.
            response.with_error_code(ResponseError::CoordinatorLoadInProgress.code())
        }
    }
}
