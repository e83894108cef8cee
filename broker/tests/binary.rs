//! Tests of the `petrel` binary as a process: configuration from a YAML file, JSON logs,
//! the metrics endpoint, graceful shutdown on SIGTERM/SIGINT, and hostile clients (memory
//! stays flat, WARN lines name the peer and the reason, other clients keep being served).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

mod common;

use common::process::Petrel;

/// A Metadata v1 request for all topics, hand-encoded so this test does not share our codec.
fn metadata_v1_request(correlation_id: i32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&3i16.to_be_bytes());
    body.extend_from_slice(&1i16.to_be_bytes());
    body.extend_from_slice(&correlation_id.to_be_bytes());
    body.extend_from_slice(&(-1i16).to_be_bytes()); // null client id
    body.extend_from_slice(&(-1i32).to_be_bytes()); // all topics
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    frame
}

/// Sends a Metadata request and returns the correlation id of the answer.
fn metadata_roundtrip(addr: &str, correlation_id: i32) -> i32 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(&metadata_v1_request(correlation_id))
        .unwrap();
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; i32::from_be_bytes(len) as usize];
    stream.read_exact(&mut body).unwrap();
    i32::from_be_bytes([body[0], body[1], body[2], body[3]])
}

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// A small deterministic PRNG (xorshift) so hostile inputs are reproducible.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Sends `bytes` and reports whether the broker closed the connection afterwards.
fn send_and_expect_close(addr: &str, bytes: &[u8]) -> bool {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream.write_all(bytes);
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return true,
            Ok(_) => continue, // e.g. a KIP-511 answer before the close
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn hostile_clients_are_disconnected_memory_stays_flat_and_others_are_served() {
    let petrel = Petrel::start(&[]);
    let addr = petrel.listen.clone();
    assert_eq!(metadata_roundtrip(&addr, 1), 1);
    let rss_before_kib = petrel.rss_kib();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let array_bomb: Vec<u8> = [
        0, 0, 0, 18, 0, 3, 0, 1, 0, 0, 0, 7, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0,
    ]
    .to_vec();
    let oversize: Vec<u8> = (200 * 1024 * 1024i32).to_be_bytes().to_vec();
    let mut closed = 0;
    let rounds = 200;
    for round in 0..rounds {
        // Random bytes that start with a plausible small frame length (so they get decoded).
        let mut random = rng.bytes(64);
        random[..4].copy_from_slice(&60i32.to_be_bytes());
        for bytes in [&random, &array_bomb, &oversize] {
            if send_and_expect_close(&addr, bytes) {
                closed += 1;
            }
        }
        if round % 20 == 0 {
            assert_eq!(
                metadata_roundtrip(&addr, round),
                round,
                "well-behaved client served during the attack"
            );
        }
    }
    // A peer announcing a 99 MiB frame and sending 1 KiB holds about 1 KiB, not 99 MiB.
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(&addr).unwrap();
        let mut partial = (99 * 1024 * 1024i32).to_be_bytes().to_vec();
        partial.extend_from_slice(&[0u8; 1024]);
        stream.write_all(&partial).unwrap();
        slow.push(stream);
    }
    assert_eq!(metadata_roundtrip(&addr, 7), 7);
    let rss_after_kib = petrel.rss_kib();
    drop(slow);
    let growth_kib = rss_after_kib.saturating_sub(rss_before_kib);
    println!("RSS before {rss_before_kib} KiB, after {rss_after_kib} KiB, growth {growth_kib} KiB over {} hostile connections", rounds * 3 + 50);
    assert_eq!(closed, rounds * 3, "every hostile connection is closed");
    assert!(growth_kib < 64 * 1024, "RSS grew by {growth_kib} KiB");
    let log = petrel.log();
    for reason in ["frame_too_large", "malformed_request"] {
        assert!(
            log.lines()
                .any(|l| l.contains("WARN") && l.contains("peer=127.0.0.1:") && l.contains(reason)),
            "no WARN line with peer and reason {reason}:\n{}",
            log.lines().take(20).collect::<Vec<_>>().join("\n")
        );
    }
    assert!(!log.contains("panicked"), "a panic was logged");
}

#[test]
fn metrics_endpoint_serves_request_counters() {
    let petrel = Petrel::start(&[]);
    assert_eq!(metadata_roundtrip(&petrel.listen, 3), 3);
    let body = http_get(&petrel.metrics, "/metrics");
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    for needle in [
        "petrel_requests_total{api=\"Metadata\",version=\"1\",error=\"NONE\"} 1",
        "petrel_request_duration_seconds_bucket{api=\"Metadata\"",
        "petrel_bytes_received_total",
        "petrel_bytes_sent_total",
        "petrel_connections_open",
        "petrel_storage_io_backend{backend=",
        // Consumer-group gauges, refreshed by the coordinator's timer loop.
        "petrel_groups{state=\"Stable\"} 0",
        "petrel_group_members 0",
    ] {
        assert!(body.contains(needle), "metrics lack {needle}:\n{body}");
    }
}

fn assert_graceful_exit_on(signal: &str) {
    let mut petrel = Petrel::start(&[]);
    assert_eq!(metadata_roundtrip(&petrel.listen, 1), 1);
    petrel.signal(signal);
    let status = petrel.wait_exit();
    assert!(status.success(), "exit status {status:?} after SIG{signal}");
    let log = petrel.log();
    assert!(log.contains(&format!("SIG{signal} received")), "{log}");
    assert!(log.contains("petrel stopped"), "{log}");
}

#[test]
fn sigterm_shuts_down_gracefully() {
    assert_graceful_exit_on("TERM");
}

#[test]
fn sigint_shuts_down_gracefully() {
    assert_graceful_exit_on("INT");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let mut petrel = Petrel::start(&["--log-format", "json"]);
    petrel.signal("TERM");
    petrel.wait_exit();
    let log = petrel.log();
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines.len() >= 3, "{log}");
    for line in lines {
        assert!(
            line.starts_with('{') && line.ends_with('}'),
            "not a JSON object: {line}"
        );
        assert!(line.contains("\"level\":"), "{line}");
    }
    assert!(log.contains("\"message\":\"petrel started\""), "{log}");
}

#[test]
fn yaml_config_file_is_read_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("petrel.yaml");
    let node_id_in_file = 42;
    std::fs::write(
        &config_path,
        format!("node_id: {node_id_in_file}\nlisten: 127.0.0.1:1\n"),
    )
    .unwrap();
    // The flag's listen address beats the file's (port 1 would fail to bind).
    let petrel = Petrel::start(&["--config", config_path.to_str().unwrap()]);
    assert_eq!(metadata_roundtrip(&petrel.listen, 5), 5);
    assert!(petrel.log().contains("node_id=42"), "{}", petrel.log());
}

#[test]
fn bad_configuration_exits_with_status_2_and_a_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_petrel"))
        .args(["--node-id", "banana"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = Command::new(env!("CARGO_BIN_EXE_petrel"))
        .env("PETREL_FRAME_BYTES_MAX", "lots")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("PETREL_"),
        "{output:?}"
    );
}

#[test]
fn storage_io_backend_switch_forces_the_portable_backend() {
    let petrel = Petrel::start(&["--storage-io-backend", "portable"]);
    assert_eq!(metadata_roundtrip(&petrel.listen, 1), 1);
    let body = http_get(&petrel.metrics, "/metrics");
    assert!(
        body.contains("petrel_storage_io_backend{backend=\"portable\"} 1"),
        "{body}"
    );
    assert!(
        petrel.log().contains("portable"),
        "the chosen backend is logged:\n{}",
        petrel.log()
    );
}

#[test]
fn help_documents_the_flags() {
    let output = Command::new(env!("CARGO_BIN_EXE_petrel"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--data-dir",
        "--listen",
        "--advertised-listen",
        "--metrics-listen",
        "--node-id",
        "--config",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}
