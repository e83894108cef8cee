//! DescribeCluster (key 60): the cluster id, the controller and the brokers, as the Admin
//! client's `describeCluster` reads them.
//!
//! The request names the kind of endpoint it expects (v1+): this is a broker endpoint, so
//! a request for controllers (2) gets `MISMATCHED_ENDPOINT_TYPE` and an unknown type gets
//! `UNSUPPORTED_ENDPOINT_TYPE` (both `INVALID_REQUEST` at v0), exactly as Kafka's
//! `AuthHelper.computeDescribeClusterResponse` answers. A Kafka broker reports a random
//! live broker as the controller id (it hides the real controller quorum); on a single
//! node that is this node either way.

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::protocol::StrBytes;

use crate::context::BrokerContext;

/// Kafka's `EndpointType` codes.
const ENDPOINT_TYPE_BROKER: i8 = 1;
const ENDPOINT_TYPE_CONTROLLER: i8 = 2;

/// Builds the DescribeCluster response for `version`.
pub fn handle(
    ctx: &BrokerContext,
    version: i16,
    request: &DescribeClusterRequest,
) -> DescribeClusterResponse {
    // Before v1 the field is absent and decodes as its default, BROKER.
    let requested = request.endpoint_type;
    if requested != ENDPOINT_TYPE_BROKER {
        let (error, message) = if requested == ENDPOINT_TYPE_CONTROLLER {
            (
                ResponseError::MismatchedEndpointType,
                "The request was sent to an endpoint of type BROKER, but we wanted an endpoint \
                 of type CONTROLLER"
                    .to_string(),
            )
        } else {
            (
                ResponseError::UnsupportedEndpointType,
                format!("Unsupported endpoint type {requested}"),
            )
        };
        // v0 has neither code, so Kafka falls back to INVALID_REQUEST there.
        let error = if version == 0 {
            ResponseError::InvalidRequest
        } else {
            error
        };
        return DescribeClusterResponse::default()
            .with_error_code(error.code())
            .with_error_message(Some(StrBytes::from_string(message)));
    }
    let live = ctx.live_brokers();
    let controller_id = ctx.controller_id(&live);
    let brokers = live
        .into_iter()
        .map(|broker| {
            DescribeClusterBroker::default()
                .with_broker_id(BrokerId(broker.id))
                .with_host(StrBytes::from_string(broker.endpoint.host))
                .with_port(broker.endpoint.port)
                .with_rack(broker.rack.map(StrBytes::from_string))
        })
        .collect();
    let mut response = DescribeClusterResponse::default()
        .with_cluster_id(StrBytes::from_string(ctx.cluster_id.clone()))
        .with_controller_id(BrokerId(controller_id))
        .with_brokers(brokers);
    if version >= 1 {
        response.endpoint_type = ENDPOINT_TYPE_BROKER;
    }
    // i32::MIN (the schema default) means "not requested".
    if request.include_cluster_authorized_operations {
        response.cluster_authorized_operations = super::metadata::CLUSTER_OPERATIONS
            .iter()
            .fold(0, |bits, op| bits | (1 << op));
    }
    response
}
