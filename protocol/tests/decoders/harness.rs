//! The differential harness for one request body decoder: random requests built for each
//! version are encoded by `kafka-protocol` (the oracle) and decoded by ours; the results
//! must be equal, every strict prefix must be refused or decode to something the oracle
//! also reads from those bytes, and nothing may panic.
//!
//! A decoder is tested here from the moment it exists, before its API is advertised in
//! `SUPPORTED_APIS` (which the top-level differential test covers end to end, headers
//! included).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::ops::RangeInclusive;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, TopicName};
use kafka_protocol::protocol::{Encodable, StrBytes};
use petrel_protocol::messages::DecodeBody;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Checks `R`'s decoder against the oracle for every version in `versions`.
pub fn check_decoder<R, S>(
    api: ApiKey,
    versions: RangeInclusive<i16>,
    cases: u32,
    strategy: impl Fn(i16) -> S,
) where
    R: DecodeBody + Encodable + PartialEq + Debug + Clone,
    S: Strategy<Value = R>,
{
    let schema = api.valid_versions();
    assert!(
        *versions.start() >= schema.min && *versions.end() <= schema.max,
        "{api:?} {versions:?} outside the schema's {}-{}",
        schema.min,
        schema.max
    );
    for version in versions {
        let mut runner = TestRunner::new(Config {
            cases,
            ..Config::default()
        });
        runner
            .run(&strategy(version), |request| {
                let mut buf = BytesMut::new();
                request
                    .encode(&mut buf, version)
                    .map_err(|e| TestCaseError::reject(format!("oracle refused to encode: {e}")))?;
                let bytes = buf.freeze();
                let (rest, decoded) = R::decode_body(&bytes, version)
                    .map_err(|e| TestCaseError::fail(format!("v{version}: {e:?}")))?;
                prop_assert!(
                    rest.is_empty(),
                    "v{version}: {} bytes left over",
                    rest.len()
                );
                prop_assert_eq!(&decoded, &request, "v{}", version);
                for cut in 0..bytes.len() {
                    // A prefix may decode only if the fields it lacks were optional
                    // (tagged); it must never panic.
                    let _ = R::decode_body(&bytes[..cut], version);
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{api:?} v{version}: {e}"));
    }
}

/// Text for names and ids (printable, up to 24 chars).
pub fn text() -> impl Strategy<Value = StrBytes> {
    "\\PC{0,24}".prop_map(StrBytes::from_string)
}

pub fn topic_name() -> impl Strategy<Value = TopicName> {
    "[a-zA-Z0-9._-]{1,20}".prop_map(|s| TopicName(StrBytes::from_string(s)))
}

pub fn uuid() -> impl Strategy<Value = uuid::Uuid> {
    any::<u128>().prop_map(uuid::Uuid::from_u128)
}

pub fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

/// Unknown tagged fields, only where the version is flexible.
pub fn tags(flexible: bool) -> BoxedStrategy<BTreeMap<i32, Bytes>> {
    if flexible {
        prop::collection::btree_map(0..i32::MAX, bytes(12), 0..3).boxed()
    } else {
        Just(BTreeMap::new()).boxed()
    }
}

/// `value` in versions that have the field, else the field's default.
pub fn field<T: Clone + Debug + 'static>(
    present: bool,
    value: impl Strategy<Value = T> + 'static,
    default: T,
) -> BoxedStrategy<T> {
    if present {
        value.boxed()
    } else {
        Just(default).boxed()
    }
}
