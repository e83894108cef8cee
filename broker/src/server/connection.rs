//! One client connection: requests are read and decoded as they arrive and handled
//! concurrently (pipelining), while responses leave strictly in request order.
//!
//! ```text
//! reader: bytes -> frames -> decode -> spawn handler ─┐   (up to inflight_requests_max
//!                      │ push reply slot (oneshot) ───┤    slots queued; reading pauses
//! writer: pop slots in order, await each, write ◄─────┘    when the queue is full)
//! ```
//! Bad input closes the connection with a WARN naming the peer and the reason, after the
//! responses already owed are written. Nothing a client sends can panic this task, and the
//! read buffer grows only with bytes that actually arrived.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::ApiKey;
use petrel_protocol::fetch_encoder::Chunk;
use petrel_protocol::frame::{announced_frame_length, split_frame, LENGTH_PREFIX_BYTES};
use petrel_protocol::{decode_request, DecodedRequest, RequestRejection, WireError};
use petrel_storage::sendfile::send_file_region;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, warn};

use crate::context::BrokerContext;
use crate::handlers::{self, ResponseBody};
use crate::metrics as m;
use crate::turn::Turn;

/// Read buffer growth step when no frame length is known yet.
const READ_CHUNK_BYTES: usize = 16 * 1024;
/// Most the read buffer grows in one step for an announced frame: a peer announcing a
/// large frame gets memory only as fast as it sends bytes.
const READ_RESERVE_BYTES_MAX: usize = 1024 * 1024;

/// What the writer does with one request's slot.
#[derive(Debug)]
enum Reply {
    /// Write this response (or nothing, for acks=0 produces).
    Response(ResponseBody),
    /// The response could not be produced (a broker bug, logged): close the connection.
    Close,
}

type ReplySlot = oneshot::Receiver<Reply>;

/// Serves one connection until the peer leaves, sends bad input, or `stop` is cancelled.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    ctx: Arc<BrokerContext>,
    stop: CancellationToken,
) {
    metrics::gauge!(m::CONNECTIONS_OPEN).increment(1);
    debug!(%peer, "connection opened");
    // Small responses must not wait for Nagle's algorithm.
    let _ = stream.set_nodelay(true);
    let (reader, writer) = stream.into_split();
    let (slots_tx, slots_rx) = mpsc::channel(ctx.config.inflight_requests_max);
    // Cancelled by the writer when it stops, so the reader never outlives it.
    let conn_stop = stop.child_token();
    tokio::join!(
        read_requests(reader, peer, &ctx, slots_tx, &conn_stop),
        write_responses(writer, peer, slots_rx, &conn_stop),
    );
    debug!(%peer, "connection closed");
    metrics::gauge!(m::CONNECTIONS_OPEN).decrement(1);
}

async fn read_requests(
    mut reader: OwnedReadHalf,
    peer: SocketAddr,
    ctx: &Arc<BrokerContext>,
    slots: mpsc::Sender<ReplySlot>,
    stop: &CancellationToken,
) {
    let frame_bytes_max = ctx.config.frame_bytes_max;
    let mut buf = BytesMut::with_capacity(READ_CHUNK_BYTES);
    // The connection's two chains of turns (see `Turn` and `runs_in_order`).
    let mut last_produce: Option<oneshot::Receiver<()>> = None;
    let mut last_in_order: Option<oneshot::Receiver<()>> = None;
    loop {
        loop {
            let frame = match split_frame(&mut buf, frame_bytes_max) {
                Ok(Some(frame)) => frame.freeze(),
                Ok(None) => break,
                Err(error) => {
                    close_for_bad_input(peer, frame_error_reason(&error), &error);
                    return;
                }
            };
            let turns = Turns {
                last_produce: &mut last_produce,
                last_in_order: &mut last_in_order,
            };
            if !dispatch_frame(frame, peer, ctx, &slots, turns).await {
                return;
            }
        }
        reserve_for_next_frame(&mut buf);
        let read = tokio::select! {
            _ = stop.cancelled() => return,
            read = reader.read_buf(&mut buf) => read,
        };
        match read {
            Ok(0) => {
                if !buf.is_empty() {
                    debug!(%peer, pending_bytes = buf.len(), "peer closed mid-frame");
                }
                return;
            }
            Ok(n) => metrics::counter!(m::BYTES_RECEIVED_TOTAL).increment(n as u64),
            Err(error) => {
                debug!(%peer, %error, "read failed");
                return;
            }
        }
    }
}

/// Grows the buffer for the frame being received: by what the announced frame still
/// needs, capped, or by one chunk when the length prefix is not in yet.
fn reserve_for_next_frame(buf: &mut BytesMut) {
    let announced = announced_frame_length(buf).map(|len| len.max(0) as usize);
    let wanted = match announced {
        Some(len) => (LENGTH_PREFIX_BYTES + len)
            .saturating_sub(buf.len())
            .clamp(1, READ_RESERVE_BYTES_MAX),
        None => READ_CHUNK_BYTES,
    };
    buf.reserve(wanted);
}

/// The connection's ordering chains, for [`Turn::next_in`].
struct Turns<'a> {
    last_produce: &'a mut Option<oneshot::Receiver<()>>,
    last_in_order: &'a mut Option<oneshot::Receiver<()>>,
}

/// Whether a request waits until the connection's previous such request has been handled.
///
/// Kafka handles one request of a connection at a time, so clients may pipeline requests
/// that change state and expect them applied in send order: librdkafka's async commits of
/// offsets 1..50 must leave 50 committed (its test 0030), an admin client may pipeline a
/// create and a describe. Everything but Produce (in a chain of its own, whose turns
/// end at the append so fsyncs overlap) and Fetch (a long poll must not hold up the rest) runs in order.
fn runs_in_order(api: ApiKey) -> bool {
    !matches!(api, ApiKey::Produce | ApiKey::Fetch)
}

/// Decodes one frame and queues its reply slot. Returns false if the connection must close.
async fn dispatch_frame(
    frame: Bytes,
    peer: SocketAddr,
    ctx: &Arc<BrokerContext>,
    slots: &mpsc::Sender<ReplySlot>,
    turns: Turns<'_>,
) -> bool {
    let (reply_tx, reply_rx) = oneshot::channel();
    // Queue the slot before any work starts, so replies keep request order.
    let request = match decode_request(&frame) {
        Ok(request) => request,
        Err(RequestRejection::ApiVersionsTooNew(header)) => {
            record_request(
                "ApiVersions".to_string(),
                header.api_version,
                kafka_protocol::error::ResponseError::UnsupportedVersion.code(),
                Instant::now(),
            );
            let reply = match handlers::api_versions::too_new_response(header.correlation_id) {
                Ok(frame) => Reply::Response(ResponseBody::Frame(frame)),
                Err(err) => {
                    error!(%peer, %err, "cannot encode KIP-511 response");
                    Reply::Close
                }
            };
            let _ = reply_tx.send(reply);
            return slots.send(reply_rx).await.is_ok();
        }
        Err(rejection) => {
            close_for_bad_input(peer, rejection_reason(&rejection), &rejection);
            return false;
        }
    };
    if slots.send(reply_rx).await.is_err() {
        return false;
    }
    let produce_turn =
        (request.api_key == ApiKey::Produce).then(|| Turn::next_in(turns.last_produce));
    let mut in_order_turn =
        runs_in_order(request.api_key).then(|| Turn::next_in(turns.last_in_order));
    let ctx = ctx.clone();
    tokio::spawn(async move {
        if let Some(turn) = in_order_turn.as_mut() {
            turn.wait().await;
        }
        let reply = handle(&ctx, request, peer, produce_turn).await;
        if let Some(turn) = in_order_turn {
            turn.finish();
        }
        // The writer may be gone (peer left); nothing to do then.
        let _ = reply_tx.send(reply);
    });
    true
}

async fn handle(
    ctx: &BrokerContext,
    request: DecodedRequest,
    peer: SocketAddr,
    produce_turn: Option<Turn>,
) -> Reply {
    let started = Instant::now();
    let api = request.api_key;
    let version = request.header.request_api_version;
    match handlers::handle(ctx, request, peer, produce_turn).await {
        Ok(response) => {
            record_request(format!("{api:?}"), version, response.error_code, started);
            Reply::Response(response.body)
        }
        Err(err) => {
            error!(%peer, %err, "closing connection: response could not be encoded");
            Reply::Close
        }
    }
}

fn record_request(api: String, version: i16, error_code: i16, started: Instant) {
    metrics::counter!(m::REQUESTS_TOTAL, "api" => api.clone(), "version" => version.to_string(), "error" => m::error_label(error_code))
        .increment(1);
    metrics::histogram!(m::REQUEST_DURATION_SECONDS, "api" => api)
        .record(started.elapsed().as_secs_f64());
}

fn close_for_bad_input(peer: SocketAddr, reason: &'static str, detail: &dyn std::fmt::Display) {
    warn!(%peer, reason, detail = %detail, "closing connection: bad input");
    metrics::counter!(m::CONNECTIONS_CLOSED_FOR_BAD_INPUT_TOTAL, "reason" => reason).increment(1);
}

fn frame_error_reason(error: &WireError) -> &'static str {
    match error {
        WireError::FrameTooLarge { .. } => "frame_too_large",
        WireError::NegativeFrameLength(_) => "negative_frame_length",
        _ => "bad_frame",
    }
}

fn rejection_reason(rejection: &RequestRejection) -> &'static str {
    match rejection {
        RequestRejection::Unreadable(_) => "unreadable_header",
        RequestRejection::UnsupportedApi(_) => "unsupported_api",
        RequestRejection::UnsupportedVersion(_) => "unsupported_version",
        RequestRejection::ApiVersionsTooNew(_) => "api_versions_too_new",
        RequestRejection::Malformed { .. } => "malformed_request",
    }
}

async fn write_responses(
    mut writer: OwnedWriteHalf,
    peer: SocketAddr,
    mut slots: mpsc::Receiver<ReplySlot>,
    stop: &CancellationToken,
) {
    while let Some(slot) = slots.recv().await {
        let result = match slot.await {
            Ok(Reply::Response(body)) => write_response(&mut writer, body).await,
            // A handler that failed or vanished: the response stream cannot continue in order.
            Ok(Reply::Close) | Err(_) => break,
        };
        if let Err(error) = result {
            debug!(%peer, %error, "write failed");
            break;
        }
    }
    stop.cancel();
    let _ = writer.shutdown().await;
}

/// Writes one response: bytes with `write_all`, record regions with sendfile (zero-copy).
async fn write_response(writer: &mut OwnedWriteHalf, body: ResponseBody) -> std::io::Result<()> {
    match body {
        ResponseBody::None => Ok(()),
        ResponseBody::Frame(frame) => {
            writer.write_all(&frame).await?;
            metrics::counter!(m::BYTES_SENT_TOTAL).increment(frame.len() as u64);
            Ok(())
        }
        ResponseBody::Chunks(chunks) => {
            for chunk in chunks {
                let chunk_len = chunk.len();
                match chunk {
                    Chunk::Bytes(bytes) => writer.write_all(&bytes).await?,
                    Chunk::Records { records, len } => {
                        for region in records {
                            let region_bytes =
                                usize::try_from(region.len).map_err(std::io::Error::other)?;
                            send_file_region(
                                writer.as_ref(),
                                region.file.as_std(),
                                region.position,
                                region_bytes,
                            )
                            .await?;
                        }
                        metrics::counter!(m::BYTES_SENT_ZERO_COPY_TOTAL).increment(len);
                    }
                }
                metrics::counter!(m::BYTES_SENT_TOTAL).increment(chunk_len);
            }
            Ok(())
        }
    }
}
