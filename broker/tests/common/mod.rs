//! Test helpers: a broker started in-process on port 0, and a raw Kafka client that
//! encodes requests and decodes responses with `kafka-protocol` (independent of our codec).

#![allow(dead_code)]

pub mod process;

use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use petrel_broker::config::Config;
use petrel_broker::RunningBroker;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts a broker on 127.0.0.1:0 with a fresh data directory.
pub async fn start_broker(adjust: impl FnOnce(&mut Config)) -> (RunningBroker, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".into(),
        ..Config::default()
    };
    adjust(&mut config);
    let broker = petrel_broker::start(config).await.expect("broker starts");
    (broker, dir)
}

/// A request frame (length prefix included) as a client would encode it.
pub fn request_frame<R: Encodable>(
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &R,
) -> Bytes {
    let header = RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("petrel-tests")));
    let mut buf = BytesMut::new();
    buf.put_i32(0);
    header
        .encode(&mut buf, api.request_header_version(version))
        .expect("header encodes");
    body.encode(&mut buf, version).expect("body encodes");
    let len = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&len.to_be_bytes());
    buf.freeze()
}

pub struct RawClient {
    pub stream: TcpStream,
}

impl RawClient {
    pub async fn connect(broker: &RunningBroker) -> RawClient {
        RawClient::connect_to(&broker.listen_addr.to_string())
            .await
            .expect("connects")
    }

    pub async fn connect_to(addr: &str) -> std::io::Result<RawClient> {
        Ok(RawClient {
            stream: TcpStream::connect(addr).await?,
        })
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes).await
    }

    /// Reads one response frame (without its length prefix), or None on EOF/reset.
    pub async fn read_frame(&mut self) -> Option<Bytes> {
        let read = async {
            let len = self.stream.read_i32().await.ok()?;
            let mut body = vec![0u8; usize::try_from(len).ok()?];
            self.stream.read_exact(&mut body).await.ok()?;
            Some(Bytes::from(body))
        };
        tokio::time::timeout(IO_TIMEOUT, read)
            .await
            .expect("response or close within timeout")
    }

    /// Sends a request and decodes its response; header version per the API's rules.
    pub async fn call<Req: Encodable, Resp: Decodable>(
        &mut self,
        api: ApiKey,
        version: i16,
        correlation_id: i32,
        body: &Req,
    ) -> Resp {
        self.send_raw(&request_frame(api, version, correlation_id, body))
            .await
            .expect("sends");
        let mut frame = self
            .read_frame()
            .await
            .expect("a response, not a closed connection");
        let header = ResponseHeader::decode(&mut frame, api.response_header_version(version))
            .expect("header");
        assert_eq!(header.correlation_id, correlation_id);
        let response = Resp::decode(&mut frame, version).expect("response decodes");
        assert_eq!(
            frame.remaining(),
            0,
            "trailing bytes in {api:?} v{version} response"
        );
        response
    }

    /// True if the broker closed the connection (EOF or reset) within the timeout.
    pub async fn is_closed_by_broker(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match tokio::time::timeout(IO_TIMEOUT, self.stream.read(&mut byte)).await {
            Ok(Ok(0)) | Ok(Err(_)) => true,
            Ok(Ok(_)) => false,
            Err(_) => false,
        }
    }
}
