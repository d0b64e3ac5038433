//! Starting a chapter's `--model-check --explore PORT` and asking it over HTTP, for the tests of
//! every chapter with a model checker (each includes this file by path).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the explorer may take to answer one request, under load.
const BOUND: Duration = Duration::from_secs(60);

/// How long the explorer may take to say it answers. It needs a few milliseconds idle; the
/// bound is for a machine so loaded that the child is hardly scheduled (it once missed 60 s
/// in a full test run). A child that exits without the line is seen at once, by its end of
/// the pipe closing, so the bound only ever runs out on a child that hangs.
const START_BOUND: Duration = Duration::from_secs(300);

/// The running explorer; stopped when dropped.
pub struct Explorer {
    child: Child,
    pub port: u16,
}

impl Explorer {
    /// Start `binary` with `args` and `--explore` on a free loopback port; wait (bounded) for
    /// the line that says it answers.
    pub fn start(binary: &str, args: &[&str]) -> Explorer {
        // A free port below the ephemeral range, where no outgoing connection can take it
        // between this pick and the explorer's bind.
        let listener = crate::free_port::listen_on_a_free_port("127.0.0.1").expect("a free port");
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut child = Command::new(binary)
            .args(args)
            .args(["--explore", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut explorer = Explorer { child, port };
        let started = std::time::Instant::now();
        let line = match rx.recv_timeout(START_BOUND) {
            Ok(line) => line,
            Err(e) => panic!(
                "the explorer does not announce itself ({e:?} after {:.1?}; child: {:?})",
                started.elapsed(),
                explorer.child.try_wait()
            ),
        };
        // An empty line: the child ended first (it says why on standard error).
        assert_eq!(
            line,
            format!("explorer: http://127.0.0.1:{port}/ (interrupt to stop)\n"),
            "the explorer's first line (child: {:?})",
            explorer.child.try_wait()
        );
        explorer
    }

    /// The body of `GET path`, which must answer 200.
    pub fn get(&self, path: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("it listens");
        stream.set_read_timeout(Some(BOUND)).unwrap();
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("an answer in time");
        let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
        assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{head}");
        body.to_string()
    }
}

impl Explorer {
    /// The names of the model's properties, from the checker's status.
    pub fn property_names(&self) -> Vec<String> {
        let status: serde_json::Value = serde_json::from_str(&self.get("/.status")).unwrap();
        let properties = status["properties"].as_array().expect("a list of properties");
        properties.iter().map(|p| p[1].as_str().unwrap().to_string()).collect()
    }

    /// The first start state, as the explorer prints it.
    pub fn start_state(&self) -> String {
        let states: serde_json::Value = serde_json::from_str(&self.get("/.states/")).unwrap();
        states[0]["state"].as_str().expect("a start state").to_string()
    }
}

impl Drop for Explorer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
