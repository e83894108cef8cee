//! # petrel-protocol: Kafka wire bytes <-> typed messages
//!
//! Pure and synchronous: no sockets, no files, no clocks. Data flows like this:
//!
//! ```text
//! socket bytes --frame::split_frame--> one request frame (Bytes)
//!     --request::decode_request--> RequestHeader + Request (kafka-protocol structs)
//!     ... broker handles it ...
//! response struct --response::encode_response_frame--> length-prefixed bytes
//! ```
//!
//! Requests are decoded by our own nom parsers (see [`primitives`] and [`messages`]) rather
//! than `kafka-protocol`'s decoders, because those size vectors from untrusted counts and can
//! panic on short input. Our decoders never allocate in proportion to a count read off the
//! wire before the bytes backing it are present, never panic, and return a typed
//! [`WireError`]. Responses are encoded with `kafka-protocol`, which is also the oracle in the
//! differential tests.
//!
//! [`api::SUPPORTED_APIS`] is the single table of (API key, min version, max version): the
//! request decoder refuses anything outside it and the broker builds ApiVersions from it.

#![forbid(unsafe_code)]

pub mod api;
pub mod error;
pub mod fetch_encoder;
pub mod frame;
pub mod header;
pub mod messages;
pub mod primitives;
pub mod records;
pub mod request;
pub mod response;

pub use api::{ApiSupport, SUPPORTED_APIS};
pub use error::WireError;
pub use kafka_protocol;
pub use request::{decode_request, DecodedRequest, Request, RequestRejection};
