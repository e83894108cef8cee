//! Golden bytes: request frames captured from 7 stock clients (kcat, confluent-kafka-python
//! as `librdkafka`, kafka-python, Java kafka-clients, franz-go, sarama, kafkajs) while they
//! ran the compatibility scenarios, by `compat-tests/capture/capture.sh`: the first frame of
//! every (client, API, version), as `tests/fixtures/<client>-<Api>-v<version>.bin`.
//!
//! Every fixture in the directory must decode with our decoder and re-encode with
//! `kafka-protocol` to exactly the captured bytes (so nothing was lost or invented by our
//! decoder); the only frames exempt are ApiVersions requests newer than we serve, which are
//! answered through KIP-511 without decoding their body. Some fixtures are also checked for
//! what the client meant (client identity, records, group and admin requests), and the set of
//! fixtures must cover every client and the APIs the scenarios use, so that a capture that
//! silently recorded little cannot pass.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::Encodable;
use petrel_protocol::api::support_for;
use petrel_protocol::frame::split_frame;
use petrel_protocol::records::{decompress_records, validate_batch, BatchIter};
use petrel_protocol::{decode_request, DecodedRequest, Request, RequestRejection};

/// The capture's client labels (fixture name prefixes).
const CLIENTS: [&str; 7] = [
    "kcat",
    "librdkafka",
    "kafka-python",
    "java",
    "franz-go",
    "sarama",
    "kafkajs",
];

/// APIs every client sends in the captured scenarios (metadata, seek-timestamp,
/// commit-resume, idempotence): connecting, producing, consuming, looking up offsets by
/// time, and a consumer group with commits.
const EVERY_CLIENT_SENDS: [&str; 11] = [
    "ApiVersions",
    "Metadata",
    "Produce",
    "Fetch",
    "ListOffsets",
    "InitProducerId",
    "FindCoordinator",
    "JoinGroup",
    "SyncGroup",
    "OffsetCommit",
    "OffsetFetch",
];

/// APIs of the `admin` scenario, sent by every client but kcat (which has no admin API).
const ADMIN_CLIENTS_SEND: [&str; 4] = [
    "CreateTopics",
    "DeleteTopics",
    "CreatePartitions",
    "DescribeConfigs",
];

/// APIs whose first frame depends on timing or on how a client closes (a heartbeat is due
/// only after its interval; a consumer may leave or just disconnect): at least one client.
const SOME_CLIENT_SENDS: [&str; 4] = [
    "Heartbeat",
    "LeaveGroup",
    "IncrementalAlterConfigs",
    "AlterConfigs",
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every `*.bin` directly in the fixtures directory (not `compressed/`), sorted.
fn fixture_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_file())
        .map(|entry| entry.file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".bin"))
        .collect();
    names.sort();
    names
}

/// `<client>-<Api>-v<version>.bin` split into its parts (client labels may contain `-`,
/// API names do not).
fn parse_name(name: &str) -> Option<(&str, &str, i16)> {
    let (rest, version) = name.strip_suffix(".bin")?.rsplit_once("-v")?;
    let (client, api) = rest.rsplit_once('-')?;
    Some((client, api, version.parse().ok()?))
}

fn fixture(name: &str) -> BytesMut {
    let path = fixtures_dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    BytesMut::from(&bytes[..])
}

/// Splits the single frame out of a fixture and decodes it; `Err` if the file is not
/// exactly one frame.
fn try_decode_fixture(
    name: &str,
) -> Result<(Result<DecodedRequest, RequestRejection>, BytesMut), String> {
    let mut buf = fixture(name);
    let original = buf.clone();
    let frame = split_frame(&mut buf, 1 << 20)
        .map_err(|e| format!("not a frame: {e}"))?
        .ok_or("shorter than its length prefix says")?;
    if !buf.is_empty() {
        return Err(format!("{} bytes after the frame", buf.len()));
    }
    Ok((decode_request(&frame), original))
}

fn decode_fixture(name: &str) -> (Result<DecodedRequest, RequestRejection>, BytesMut) {
    try_decode_fixture(name).unwrap_or_else(|why| panic!("{name}: {why}"))
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

/// The round trip of one fixture: `Ok` when it decodes and re-encodes to the same bytes, or
/// is an ApiVersions request newer than we serve (the one exemption, explained below).
fn round_trip(name: &str) -> Result<(), String> {
    let (client, api, version) =
        parse_name(name).ok_or("name is not <client>-<Api>-v<version>.bin")?;
    if !CLIENTS.contains(&client) {
        return Err(format!("unknown client label {client}"));
    }
    let (result, original) = try_decode_fixture(name)?;
    if original.len() < 12 {
        return Err("too short for a request header".into());
    }
    let key = i16::from_be_bytes([original[4], original[5]]);
    let frame_version = i16::from_be_bytes([original[6], original[7]]);
    let api_key = ApiKey::try_from(key).map_err(|_| format!("api key {key} is not a Kafka API"))?;
    if format!("{api_key:?}") != api || frame_version != version {
        return Err(format!(
            "the frame is {api_key:?} v{frame_version}, not what its name says"
        ));
    }
    match result {
        Ok(request) => {
            let encoded = reencode(&request);
            if encoded == original {
                Ok(())
            } else {
                let at = encoded
                    .iter()
                    .zip(original.iter())
                    .position(|(a, b)| a != b)
                    .unwrap_or(encoded.len().min(original.len()));
                Err(format!(
                    "re-encoding differs from the captured bytes: {} vs {} bytes, first \
                     difference at byte {at}",
                    encoded.len(),
                    original.len()
                ))
            }
        }
        // Kafka answers an ApiVersions request newer than it knows with UNSUPPORTED_VERSION
        // and its own range (KIP-511), without reading the body; so do we, and the oracle
        // (kafka-protocol 0.18, ApiVersions v0-4) has no schema for such a version either.
        // The client then retries with a version from that range: that frame must be a
        // fixture too, and it goes through the round trip.
        Err(RequestRejection::ApiVersionsTooNew(header))
            if api_key == ApiKey::ApiVersions
                && header.api_version > support_for(ApiKey::ApiVersions).unwrap().max_version =>
        {
            let served = support_for(ApiKey::ApiVersions).unwrap();
            let retried = fixture_names().iter().any(|other| {
                parse_name(other).is_some_and(|(c, a, v)| {
                    c == client && a == "ApiVersions" && served.supports(v)
                })
            });
            if retried {
                Ok(())
            } else {
                Err("KIP-511 path, but no fixture of the client's retry at a served version".into())
            }
        }
        Err(e) => Err(format!("our decoder refused it: {e}")),
    }
}

#[test]
fn every_fixture_decodes_and_reencodes_to_the_captured_bytes() {
    let names = fixture_names();
    let failures: Vec<String> = names
        .iter()
        .filter_map(|name| round_trip(name).err().map(|why| format!("{name}: {why}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}

#[test]
fn fixtures_cover_every_client_and_the_scenario_apis() {
    let mut apis_of: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let names = fixture_names();
    for name in &names {
        let (client, api, _) = parse_name(name).unwrap_or_else(|| panic!("{name}: bad name"));
        apis_of.entry(client).or_default().insert(api.to_string());
    }
    let clients: BTreeSet<&str> = apis_of.keys().copied().collect();
    assert_eq!(
        clients,
        CLIENTS.into_iter().collect(),
        "fixtures from exactly these clients"
    );
    let mut missing = Vec::new();
    for client in CLIENTS {
        let apis = &apis_of[client];
        let admin: &[&str] = if client == "kcat" {
            &[]
        } else {
            &ADMIN_CLIENTS_SEND
        };
        for api in EVERY_CLIENT_SENDS.iter().chain(admin) {
            if !apis.contains(*api) {
                missing.push(format!("{client}-{api}"));
            }
        }
    }
    for api in SOME_CLIENT_SENDS {
        if !apis_of.values().any(|apis| apis.contains(api)) {
            missing.push(format!("<any client>-{api}"));
        }
    }
    assert!(
        missing.is_empty(),
        "no fixture for: {} (a capture that recorded too little?)",
        missing.join(", ")
    );
}

/// CAPTURED.txt lists exactly the fixtures, with their sizes (and sha256, which this test
/// does not recompute).
#[test]
fn manifest_lists_every_fixture() {
    let manifest = std::fs::read_to_string(fixtures_dir().join("CAPTURED.txt")).unwrap();
    let listed: BTreeMap<String, u64> = manifest
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 3, "CAPTURED.txt: {line}");
            (fields[0].to_string(), fields[1].parse().unwrap())
        })
        .collect();
    let present: BTreeMap<String, u64> = fixture_names()
        .into_iter()
        .map(|name| {
            let size = std::fs::metadata(fixtures_dir().join(&name)).unwrap().len();
            (name, size)
        })
        .collect();
    let differing: Vec<String> = listed
        .keys()
        .chain(present.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|name| listed.get(*name) != present.get(*name))
        .map(|name| {
            format!(
                "{name}: listed {:?} bytes, file {:?} bytes",
                listed.get(name),
                present.get(name)
            )
        })
        .collect();
    assert!(
        differing.is_empty(),
        "CAPTURED.txt disagrees with the directory:\n{}",
        differing.join("\n")
    );
}

fn decoded(name: &str) -> DecodedRequest {
    round_trip(name).unwrap_or_else(|why| panic!("{name}: {why}"));
    decode_fixture(name).0.unwrap()
}

/// Every fixture of one API, with its client label, decoded.
fn decoded_of_api(api: &str) -> Vec<(String, String, DecodedRequest)> {
    let found: Vec<_> = fixture_names()
        .into_iter()
        .filter_map(|name| {
            let (client, fixture_api, _) = parse_name(&name)?;
            (fixture_api == api).then(|| (client.to_string(), name.clone()))
        })
        .map(|(client, name)| {
            let request = decoded(&name);
            (client, name, request)
        })
        .collect();
    assert!(!found.is_empty(), "no {api} fixtures");
    found
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
fn franz_go_sarama_and_kafkajs_identify_themselves() {
    let (_, name, version) = api_versions("franz-go-ApiVersions-v4.bin");
    assert_eq!(name, "kgo");
    assert!(version.starts_with("v1."), "{version}");
    let (client_id, name, version) = api_versions("sarama-ApiVersions-v4.bin");
    assert_eq!(client_id.as_deref(), Some("petrel-compat-sarama"));
    assert_eq!(name, "sarama");
    assert!(version.starts_with("v1."), "{version}");
    // kafkajs 2.x stops at ApiVersions v2, which has no client software fields.
    let (client_id, _, _) = api_versions("kafkajs-ApiVersions-v2.bin");
    assert_eq!(client_id.as_deref(), Some("petrel-compat-kafkajs"));
}

/// The batches of every Produce fixture pass our validation (CRC included) and read back,
/// with our records code, as SCENARIOS.md's records: record `i` (its `idx` header) has key
/// `key-<i % 20>` (null when `i % 10 == 9`), value `value-<i>` (null when `i % 7 == 6`), and
/// headers `idx` = `<i>` plus `empty` = "" when `i % 5 == 0`. (The first Produce of each
/// client comes from `seek-timestamp`, where even kcat produces one record per run and so
/// with that record's own headers.)
#[test]
fn produce_fixtures_carry_the_scenario_records() {
    for (_, name, request) in decoded_of_api("Produce") {
        let Request::Produce(produce) = request.body else {
            unreachable!()
        };
        assert_eq!(produce.acks, -1, "{name}: scenarios produce with acks=all");
        assert_eq!(produce.transactional_id, None, "{name}");
        let mut count = 0;
        for topic in &produce.topic_data {
            for partition in &topic.partition_data {
                let bytes = partition.records.as_ref().expect("records");
                for batch in BatchIter::new(bytes) {
                    let (_, range) = batch.unwrap_or_else(|e| panic!("{name}: {e}"));
                    let batch = &bytes[range];
                    validate_batch(batch).unwrap_or_else(|e| panic!("{name}: {e}"));
                    let section = decompress_records(batch, 1 << 20).unwrap();
                    for record in section.records() {
                        let record = record.unwrap_or_else(|e| panic!("{name}: {e}"));
                        let (idx_key, idx) = record.headers.first().copied().unwrap_or_default();
                        assert_eq!(idx_key, b"idx", "{name}: first header is idx");
                        let i: usize = std::str::from_utf8(idx.expect("idx value"))
                            .unwrap()
                            .parse()
                            .unwrap();
                        let key = format!("key-{}", i % 20);
                        let value = format!("value-{i}");
                        assert_eq!(
                            record.key,
                            (i % 10 != 9).then_some(key.as_bytes()),
                            "{name}: record {i} key"
                        );
                        assert_eq!(
                            record.value,
                            (i % 7 != 6).then_some(value.as_bytes()),
                            "{name}: record {i} value"
                        );
                        let mut headers = vec![(&b"idx"[..], Some(i.to_string().into_bytes()))];
                        if i.is_multiple_of(5) {
                            headers.push((b"empty", Some(vec![])));
                        }
                        let got: Vec<(&[u8], Option<Vec<u8>>)> = record
                            .headers
                            .iter()
                            .map(|(k, v)| (*k, v.map(<[u8]>::to_vec)))
                            .collect();
                        assert_eq!(got, headers, "{name}: record {i} headers");
                        count += 1;
                    }
                }
            }
        }
        assert!(count > 0, "{name}: no records");
    }
}

#[test]
fn join_group_fixtures_are_consumer_groups() {
    for (_, name, request) in decoded_of_api("JoinGroup") {
        let Request::JoinGroup(join) = request.body else {
            unreachable!()
        };
        assert_eq!(join.protocol_type.as_str(), "consumer", "{name}");
        assert!(!join.protocols.is_empty(), "{name}: no assignors offered");
        assert!(!join.group_id.is_empty(), "{name}");
        assert!(
            (6_000..=1_800_000).contains(&join.session_timeout_ms),
            "{name}: session timeout {} outside Kafka's default bounds",
            join.session_timeout_ms
        );
    }
}

#[test]
fn init_producer_id_fixtures_are_idempotent_producers() {
    for (_, name, request) in decoded_of_api("InitProducerId") {
        let Request::InitProducerId(init) = request.body else {
            unreachable!()
        };
        assert_eq!(init.transactional_id, None, "{name}: not transactional");
    }
}

/// The first CreateTopics of each client is the `admin` scenario's: `TOPIC-admin` with 3
/// partitions and `retention.ms=3600000`.
#[test]
fn create_topics_fixtures_are_the_admin_scenarios() {
    for (_, name, request) in decoded_of_api("CreateTopics") {
        let Request::CreateTopics(create) = request.body else {
            unreachable!()
        };
        let [topic] = &create.topics[..] else {
            panic!("{name}: one topic expected, got {:?}", create.topics)
        };
        assert!(topic.name.ends_with("-admin"), "{name}: {:?}", topic.name);
        assert_eq!(topic.num_partitions, 3, "{name}");
        assert!(
            topic
                .configs
                .iter()
                .any(|c| c.name.as_str() == "retention.ms"
                    && c.value.as_ref().map(|v| v.as_str()) == Some("3600000")),
            "{name}: retention.ms=3600000 expected in {:?}",
            topic.configs
        );
    }
}
