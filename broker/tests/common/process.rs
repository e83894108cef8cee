//! A `petrel` binary run as a child process on free loopback ports, for tests of the
//! process itself (signals, logs, memory, kill -9).

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A `petrel` process on free loopback ports, killed when dropped.
pub struct Petrel {
    pub child: Child,
    pub listen: String,
    pub metrics: String,
    pub log_path: std::path::PathBuf,
    dir: Option<tempfile::TempDir>,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Petrel {
    /// Starts `petrel` with a fresh data directory.
    pub fn start(extra_args: &[&str]) -> Petrel {
        Petrel::start_in(tempfile::tempdir().unwrap(), extra_args)
    }

    /// Starts `petrel` on the data directory under `dir` (e.g. one left by [`Petrel::kill9`]).
    pub fn start_in(dir: tempfile::TempDir, extra_args: &[&str]) -> Petrel {
        let listen = format!("127.0.0.1:{}", free_port());
        let metrics = format!("127.0.0.1:{}", free_port());
        let log_path = dir.path().join("petrel.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_petrel"))
            .args([
                "--listen",
                &listen,
                "--metrics-listen",
                &metrics,
                "--data-dir",
            ])
            .arg(dir.path().join("data"))
            .args(extra_args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("petrel starts");
        let petrel = Petrel {
            child,
            listen,
            metrics,
            log_path,
            dir: Some(dir),
        };
        petrel.wait_until_listening();
        petrel
    }

    pub fn wait_until_listening(&self) {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if TcpStream::connect(&self.listen).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "petrel did not listen within {START_TIMEOUT:?}; log:\n{}",
            self.log()
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("petrel did not exit; log:\n{}", self.log());
    }
}

impl Petrel {
    /// SIGKILLs the process and hands back its data directory, to restart on it.
    pub fn kill9(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.dir.take().unwrap()
    }
}

impl Drop for Petrel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
