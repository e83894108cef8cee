//! Differential codec tests: for every (API, version) in `SUPPORTED_APIS`, random requests
//! are encoded by `kafka-protocol` (our oracle, generated from Apache Kafka's schemas) and
//! decoded by our nom decoders; the two must agree exactly, header included.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, MetadataRequest, RequestHeader, TopicName,
};
use kafka_protocol::protocol::{Encodable, StrBytes};
use petrel_protocol::{decode_request, Request, SUPPORTED_APIS};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn text() -> impl Strategy<Value = StrBytes> {
    "\\PC{0,24}".prop_map(StrBytes::from_string)
}

fn unknown_tags() -> impl Strategy<Value = BTreeMap<i32, Bytes>> {
    prop::collection::btree_map(
        0..i32::MAX,
        prop::collection::vec(any::<u8>(), 0..12).prop_map(Bytes::from),
        0..3,
    )
}

fn uuid() -> impl Strategy<Value = uuid::Uuid> {
    any::<u128>().prop_map(uuid::Uuid::from_u128)
}

fn api_versions_request(version: i16) -> BoxedStrategy<Request> {
    if version < 3 {
        return Just(Request::ApiVersions(ApiVersionsRequest::default())).boxed();
    }
    (text(), text(), unknown_tags())
        .prop_map(|(name, software_version, tags)| {
            Request::ApiVersions(
                ApiVersionsRequest::default()
                    .with_client_software_name(name)
                    .with_client_software_version(software_version)
                    .with_unknown_tagged_fields(tags),
            )
        })
        .boxed()
}

fn metadata_topic(version: i16) -> BoxedStrategy<MetadataRequestTopic> {
    let name = if version >= 10 {
        prop::option::of(text()).boxed()
    } else {
        text().prop_map(Some).boxed()
    };
    let id = if version >= 10 {
        uuid().boxed()
    } else {
        Just(uuid::Uuid::nil()).boxed()
    };
    let tags = if version >= 9 {
        unknown_tags().boxed()
    } else {
        Just(BTreeMap::new()).boxed()
    };
    (name, id, tags)
        .prop_map(|(name, id, tags)| {
            MetadataRequestTopic::default()
                .with_name(name.map(TopicName))
                .with_topic_id(id)
                .with_unknown_tagged_fields(tags)
        })
        .boxed()
}

fn metadata_request(version: i16) -> BoxedStrategy<Request> {
    let topic_list = prop::collection::vec(metadata_topic(version), 0..5);
    let topics = if version >= 1 {
        prop::option::of(topic_list).boxed()
    } else {
        topic_list.prop_map(Some).boxed()
    };
    let flag_if = |present: bool, absent_value: bool| {
        if present {
            any::<bool>().boxed()
        } else {
            Just(absent_value).boxed()
        }
    };
    let tags = if version >= 9 {
        unknown_tags().boxed()
    } else {
        Just(BTreeMap::new()).boxed()
    };
    (
        topics,
        flag_if(version >= 4, true),
        flag_if((8..=10).contains(&version), false),
        flag_if(version >= 8, false),
        tags,
    )
        .prop_map(|(topics, allow, cluster_ops, topic_ops, tags)| {
            Request::Metadata(
                MetadataRequest::default()
                    .with_topics(topics)
                    .with_allow_auto_topic_creation(allow)
                    .with_include_cluster_authorized_operations(cluster_ops)
                    .with_include_topic_authorized_operations(topic_ops)
                    .with_unknown_tagged_fields(tags),
            )
        })
        .boxed()
}

/// Random bodies for the APIs whose whole frames are tested here; every other advertised
/// API is framed with its default body (its body decoder has its own differential test in
/// tests/decoders, which `every_advertised_api_has_a_body_decoder_test` requires).
fn request_strategy(api_key: ApiKey, version: i16) -> BoxedStrategy<Request> {
    match api_key {
        ApiKey::ApiVersions => api_versions_request(version),
        ApiKey::Metadata => metadata_request(version),
        other => match Request::default_for(other) {
            Some(body) => Just(body).boxed(),
            None => panic!("advertised API {other:?} has no Request variant"),
        },
    }
}

#[test]
fn every_advertised_api_has_a_body_decoder_test() {
    for api in SUPPORTED_APIS {
        if matches!(api.key, ApiKey::ApiVersions | ApiKey::Metadata) {
            continue; // tested with random bodies above
        }
        // ApiKey's Debug name in snake_case, e.g. IncrementalAlterConfigs -> incremental_alter_configs.
        let name = format!("{:?}", api.key);
        let mut snake = String::new();
        for (i, c) in name.chars().enumerate() {
            if c.is_uppercase() && i > 0 {
                snake.push('_');
            }
            snake.push(c.to_ascii_lowercase());
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/decoders/{snake}.rs"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            text.contains("check_decoder"),
            "{:?} is advertised but {} has no differential test",
            api.key,
            path.display()
        );
    }
}

fn header_strategy(api_key: ApiKey, version: i16) -> impl Strategy<Value = RequestHeader> {
    let header_version = api_key.request_header_version(version);
    let tags = if header_version >= 2 {
        unknown_tags().boxed()
    } else {
        Just(BTreeMap::new()).boxed()
    };
    (any::<i32>(), prop::option::of(text()), tags).prop_map(
        move |(correlation_id, client_id, tags)| {
            RequestHeader::default()
                .with_request_api_key(api_key as i16)
                .with_request_api_version(version)
                .with_correlation_id(correlation_id)
                .with_client_id(client_id)
                .with_unknown_tagged_fields(tags)
        },
    )
}

/// Encodes header + body with kafka-protocol, as a client would put them in a frame.
fn encode_with_oracle(
    header: &RequestHeader,
    body: &Request,
    api_key: ApiKey,
    version: i16,
) -> Bytes {
    let mut buf = BytesMut::new();
    header
        .encode(&mut buf, api_key.request_header_version(version))
        .expect("oracle encodes header");
    body.encode_body(&mut buf, version)
        .expect("oracle encodes body");
    buf.freeze()
}

/// Runs `check` on `cases` random (header, request, oracle-encoded frame) triples for every
/// advertised (API, version); returns how many (API, version) pairs were checked.
fn for_every_advertised_version(
    cases: u32,
    check: impl Fn(&RequestHeader, &Request, &Bytes) -> Result<(), TestCaseError>,
) -> u32 {
    let mut pairs_checked = 0;
    for api in SUPPORTED_APIS {
        for version in api.min_version..=api.max_version {
            let mut runner = TestRunner::new(Config {
                cases,
                ..Config::default()
            });
            let strategy = (
                header_strategy(api.key, version),
                request_strategy(api.key, version),
            );
            runner
                .run(&strategy, |(header, body)| {
                    let frame = encode_with_oracle(&header, &body, api.key, version);
                    check(&header, &body, &frame)
                })
                .unwrap_or_else(|e| panic!("{:?} v{version}: {e}", api.key));
            pairs_checked += 1;
        }
    }
    pairs_checked
}

#[test]
fn every_advertised_api_version_decodes_like_the_oracle() {
    let pairs_checked = for_every_advertised_version(128, |header, body, frame| {
        let decoded = decode_request(frame).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decoded.api_key as i16, header.request_api_key);
        prop_assert_eq!(&decoded.header, header);
        prop_assert_eq!(&decoded.body, body);
        Ok(())
    });
    // 5 ApiVersions versions + 14 Metadata versions at least.
    assert!(
        pairs_checked >= 19,
        "only {pairs_checked} (api, version) pairs checked"
    );
}

#[test]
fn every_truncation_of_a_valid_request_is_an_error_not_a_panic() {
    for_every_advertised_version(16, |header, _, frame| {
        for cut in 0..frame.len() {
            // A strict prefix may still decode when the tail was optional (empty bodies);
            // it must never panic, and a prefix that decodes must not invent data.
            if let Ok(decoded) = decode_request(&frame[..cut]) {
                prop_assert_eq!(decoded.header.correlation_id, header.correlation_id);
            }
        }
        Ok(())
    });
}

#[test]
fn header_v0_is_parsed_without_client_id() {
    let mut frame = BytesMut::new();
    frame.put_i16(3);
    frame.put_i16(1);
    frame.put_i32(77);
    let (rest, header) = petrel_protocol::header::request_header(&frame, 0).expect("v0 header");
    assert!(rest.is_empty());
    assert_eq!(header.correlation_id, 77);
    assert_eq!(header.client_id, None);
}
