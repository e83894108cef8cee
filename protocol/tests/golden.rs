//! Golden bytes: request frames captured from real clients (kcat/librdkafka,
//! confluent-kafka-python, kafka-python, Java kafka-clients) by
//! `compat-tests/capture/capture.sh`. Each must decode to what the client meant, and must
//! re-encode with `kafka-protocol` to exactly the captured bytes (so nothing was lost or
//! invented by our decoder).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use bytes::{BufMut, BytesMut};
use kafka_protocol::protocol::Encodable;
use petrel_protocol::frame::split_frame;
use petrel_protocol::{decode_request, DecodedRequest, Request, RequestRejection};

fn fixture(name: &str) -> BytesMut {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    BytesMut::from(&bytes[..])
}

/// Splits the single frame out of a fixture and decodes it.
fn decode_fixture(name: &str) -> (Result<DecodedRequest, RequestRejection>, BytesMut) {
    let mut buf = fixture(name);
    let original = buf.clone();
    let frame = split_frame(&mut buf, 1 << 20)
        .unwrap()
        .expect("a whole frame");
    assert!(buf.is_empty(), "{name}: one frame per fixture");
    (decode_request(&frame), original)
}

/// Re-encodes a decoded request with the oracle, length prefix included.
fn reencode(request: &DecodedRequest) -> BytesMut {
    let version = request.header.request_api_version;
    let mut buf = BytesMut::new();
    buf.put_i32(0);
    request
        .header
        .encode(&mut buf, request.api_key.request_header_version(version))
        .unwrap();
    request.body.encode_body(&mut buf, version).unwrap();
    let len = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&len.to_be_bytes());
    buf
}

fn decoded(name: &str) -> DecodedRequest {
    let (result, original) = decode_fixture(name);
    let request = result.unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        reencode(&request),
        original,
        "{name}: re-encoding differs from the captured bytes"
    );
    request
}

fn api_versions(name: &str) -> (Option<String>, String, String) {
    let request = decoded(name);
    let Request::ApiVersions(body) = &request.body else {
        panic!("{name}: not ApiVersions")
    };
    (
        request.header.client_id.as_ref().map(|c| c.to_string()),
        body.client_software_name.to_string(),
        body.client_software_version.to_string(),
    )
}

fn metadata(name: &str) -> kafka_protocol::messages::MetadataRequest {
    match decoded(name).body {
        Request::Metadata(body) => body,
        other => panic!("{name}: not Metadata: {other:?}"),
    }
}

#[test]
fn kcat_librdkafka_2_0_2() {
    let (client_id, name, version) = api_versions("kcat-ApiVersions-v3.bin");
    assert_eq!(client_id.as_deref(), Some("rdkafka"));
    assert_eq!(name, "librdkafka");
    assert_eq!(version, "2.0.2");
    let request = metadata("kcat-Metadata-v4.bin");
    assert_eq!(
        request.topics,
        Some(vec![]),
        "brokers-only metadata request"
    );
    assert!(!request.allow_auto_topic_creation);
}

#[test]
fn confluent_kafka_python_librdkafka_2_16() {
    let (client_id, name, version) = api_versions("librdkafka-ApiVersions-v3.bin");
    assert_eq!(client_id.as_deref(), Some("petrel-compat-python"));
    assert!(name.starts_with("confluent-kafka"), "{name}");
    assert!(version.contains("2.16"), "{version}");
    metadata("librdkafka-Metadata-v13.bin");
}

#[test]
fn kafka_python_3() {
    let (_, name, _) = api_versions("kafka-python-ApiVersions-v4.bin");
    assert_eq!(name, "kafka-python");
    metadata("kafka-python-Metadata-v13.bin");
}

#[test]
fn java_kafka_clients_4_4() {
    let (client_id, name, _) = api_versions("java-ApiVersions-v4.bin");
    assert_eq!(client_id.as_deref(), Some("petrel-compat-java"));
    assert_eq!(name, "apache-kafka-java");
    let request = metadata("java-Metadata-v13.bin");
    assert_eq!(request.topics, Some(vec![]));
}

#[test]
fn java_kafka_clients_first_sends_api_versions_v5_which_is_kip_511() {
    let (result, _) = decode_fixture("java-ApiVersions-v5.bin");
    match result {
        Err(RequestRejection::ApiVersionsTooNew(header)) => assert_eq!(header.api_version, 5),
        other => panic!("expected the KIP-511 path, got {other:?}"),
    }
}

#[test]
fn every_fixture_is_covered_by_a_test() {
    let covered = [
        "kcat-ApiVersions-v3.bin",
        "kcat-Metadata-v4.bin",
        "librdkafka-ApiVersions-v3.bin",
        "librdkafka-Metadata-v13.bin",
        "kafka-python-ApiVersions-v4.bin",
        "kafka-python-Metadata-v13.bin",
        "java-ApiVersions-v4.bin",
        "java-ApiVersions-v5.bin",
        "java-Metadata-v13.bin",
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".bin") {
            assert!(
                covered.contains(&name.as_str()),
                "fixture {name} has no test"
            );
        }
    }
}
