//! A real `keeper server` process for end-to-end tests, and a raw-socket client for the
//! bytes no well-behaved client would send.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ch03_sessions::jute::{Reader, Record, Writer};
use ch03_sessions::proto::{self, ConnectRequest, ConnectResponse, Request};

/// A `keeper server` child process on a free loopback port; killed on drop.
pub struct KeeperProcess {
    child: Child,
    pub addr: SocketAddr,
    pub dir: PathBuf,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl KeeperProcess {
    /// Starts `keeper server` with the seed's zoo.cfg keys plus `extra` lines; port 0 lets the
    /// OS choose, and the server prints the address it got.
    pub fn start(extra: &str) -> KeeperProcess {
        let dir = std::env::temp_dir().join(format!(
            "keeper-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let cfg = dir.join("zoo.cfg");
        let text = format!(
            "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort=0\n\
             clientPortAddress=127.0.0.1\n{extra}",
            dir.join("data").display()
        );
        std::fs::write(&cfg, text).expect("write zoo.cfg");
        let mut child = Command::new(env!("CARGO_BIN_EXE_keeper"))
            .args(["server", "--config"])
            .arg(&cfg)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn keeper server");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("keeper server exited before listening")
                .expect("read stderr");
            if let Some(rest) = line.split("standalone server on ").nth(1) {
                let addr = rest.split_whitespace().next().expect("an address");
                break addr.parse().expect("a socket address");
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        KeeperProcess { child, addr, dir }
    }

    /// `host:port` for client libraries.
    pub fn connect_string(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for KeeperProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A client that speaks the protocol byte by byte, with every read bounded by a timeout.
pub struct RawClient {
    pub stream: TcpStream,
}

impl RawClient {
    pub fn connect(addr: SocketAddr) -> RawClient {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        RawClient { stream }
    }

    /// Opens a session asking for `timeout_ms`; returns the server's answer.
    pub fn handshake(addr: SocketAddr, timeout_ms: i32) -> (RawClient, ConnectResponse) {
        let mut client = RawClient::connect(addr);
        let request = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: ch01_znode::Zxid(0),
            time_out: timeout_ms,
            session_id: ch01_znode::SessionId(0),
            passwd: vec![0; 16],
            read_only: Some(false),
        };
        let mut w = Writer::new();
        request.encode(&mut w);
        client.send_frame(&w.into_bytes());
        let frame = client.read_frame().expect("a ConnectResponse");
        let response = ConnectResponse::decode(&mut Reader::new(&frame)).expect("decodes");
        (client, response)
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    pub fn send_frame(&mut self, payload: &[u8]) {
        self.send_raw(&proto::encode_frame(payload));
    }

    pub fn send_request(&mut self, xid: i32, request: &Request) {
        self.send_frame(&proto::encode_request(xid, request));
    }

    /// The next frame's payload, or `None` if the server closed the connection.
    pub fn read_frame(&mut self) -> Option<Vec<u8>> {
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len).ok()?;
        let mut payload = vec![0u8; i32::from_be_bytes(len) as usize];
        self.stream.read_exact(&mut payload).ok()?;
        Some(payload)
    }

    /// The next reply's header (xid, zxid, err).
    pub fn read_header(&mut self) -> Option<proto::ReplyHeader> {
        let frame = self.read_frame()?;
        proto::ReplyHeader::decode(&mut Reader::new(&frame)).ok()
    }

    /// True once the server has closed the connection (reads EOF within the timeout).
    pub fn is_closed_by_server(&mut self) -> bool {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
            }
        }
    }
}

/// Sends a four-letter word and returns the whole answer.
pub fn four_letter_word(addr: SocketAddr, word: &str) -> String {
    let mut client = RawClient::connect(addr);
    client.send_raw(word.as_bytes());
    let mut text = String::new();
    client
        .stream
        .read_to_string(&mut text)
        .expect("read 4lw answer");
    text
}
