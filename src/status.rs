//! `keeper status`: `zkServer.sh status`, line for line.
//!
//! The script finds `clientPort` and `clientPortAddress` in zoo.cfg (`localhost` when there is
//! no address), sends the four-letter word `srvr`, and prints the `Mode:` line it gets back; if
//! there is none (nothing listening, or not a ZooKeeper), it says "Error contacting service. It
//! is probably not running." and exits 1. Its `Client port found: ...` line and the answer both
//! go to stdout, as in Debian's ZooKeeper 3.8 script (only its JMX and "Using config" notes go
//! to stderr), so a script reading stdout sees the same text.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use ch01_znode::Sid;
use ch03_sessions::config::ZooCfg;

/// Runs the status check against the server a zoo.cfg describes.
pub fn run(config: &Path) -> ExitCode {
    let cfg = match super::load(config) {
        Ok(cfg) => cfg,
        Err(code) => return code,
    };
    // The script names the address as written in zoo.cfg, or `localhost` when there is none.
    let text = std::fs::read(config)
        .map(|bytes| ch03_sessions::properties::decode(&bytes))
        .unwrap_or_default();
    let (shown, port) = match cfg.client_port {
        Some(port) if sets_client_port_address(&text) => {
            (cfg.client_port_address.to_string(), port)
        }
        Some(port) => ("localhost".to_string(), port),
        None => match from_server_line(&cfg) {
            Ok(found) => found,
            Err(said) => {
                for line in said {
                    println!("{line}");
                }
                println!(
                    "Client port not found. Looking for secureClientPort in the static config."
                );
                println!("Unable to find either secure or unsecure client port in any configs. Terminating.");
                return ExitCode::FAILURE;
            }
        },
    };
    println!("Client port found: {port}. Client address: {shown}. Client SSL: false.");
    let ip = match shown.as_str() {
        "localhost" => IpAddr::from([127, 0, 0, 1]),
        other => other.parse().unwrap_or(cfg.client_port_address),
    };
    match srvr(SocketAddr::new(ip, port))
        .as_deref()
        .and_then(mode_line)
    {
        Some(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        None => {
            println!("Error contacting service. It is probably not running.");
            ExitCode::FAILURE
        }
    }
}

/// With no `clientPort` line, the script looks for `;[addr:]port` on this server's own
/// `server.N` line, N read from `dataDir/myid`; when it cannot, the lines it prints on the
/// way are the error.
fn from_server_line(cfg: &ZooCfg) -> Result<(String, u16), Vec<&'static str>> {
    let myid = std::fs::read_to_string(cfg.data_dir.join("myid")).unwrap_or_default();
    let Ok(myid) = myid.trim().parse::<u64>() else {
        return Err(vec![
            "myid could not be determined, will not able to locate clientPort in the server configs.",
        ]);
    };
    let line = cfg.servers.get(&Sid(myid));
    match line.and_then(|l| Some((l.client.as_deref()?, l.client_port()?))) {
        Some((client, port)) => {
            let addr = match client.rsplit_once(':') {
                Some((addr, _)) => addr.trim_start_matches('[').trim_end_matches(']'),
                None => "localhost",
            };
            Ok((addr.to_string(), port))
        }
        None => Err(vec![
            "Client port not found in static config file. Looking in dynamic config file.",
            "Client port not found in the server configs",
        ]),
    }
}

/// Sends `srvr` and reads the answer until the server closes the connection.
pub(crate) fn srvr(addr: SocketAddr) -> Option<String> {
    four_letter_word(addr, b"srvr", Duration::from_secs(5))
}

/// Sends a four-letter word and reads the answer until the server closes the connection;
/// None if nothing answers within `timeout` (to connect, then to answer).
pub(crate) fn four_letter_word(
    addr: SocketAddr,
    word: &[u8; 4],
    timeout: Duration,
) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.write_all(word).ok()?;
    // A server's answer is a few kilobytes; something else on the port may stream for ever.
    let mut text = String::new();
    stream.take(ANSWER_LIMIT).read_to_string(&mut text).ok()?;
    Some(text)
}

/// The most of a four-letter word's answer read: far more than any server's `srvr`, `envi`
/// or `mntr`, and a bound on what a program that is not a server can make us hold.
const ANSWER_LIMIT: u64 = 1 << 20;

/// Whether zoo.cfg has a `clientPortAddress` line, as the script's
/// `grep "^[[:space:]]*clientPortAddress[^[:alpha:]]"` decides it.
fn sets_client_port_address(zoo_cfg: &str) -> bool {
    zoo_cfg.lines().any(|line| {
        line.trim_start()
            .strip_prefix("clientPortAddress")
            .and_then(|rest| rest.chars().next())
            .is_some_and(|next| !next.is_alphabetic())
    })
}

/// The `Mode: ...` line of a `srvr` answer.
pub(crate) fn mode_line(text: &str) -> Option<&str> {
    text.lines().find(|l| l.starts_with("Mode: "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_line_is_found_in_a_srvr_answer() {
        let text = "Zookeeper version: 3.8.0\nZxid: 0x0\nMode: standalone\nNode count: 5\n";
        assert_eq!(mode_line(text), Some("Mode: standalone"));
        assert_eq!(mode_line("imok"), None);
    }

    #[test]
    fn a_client_port_address_line_is_found_as_the_script_greps_for_it() {
        assert!(sets_client_port_address(
            "dataDir=/d\n  clientPortAddress=::1\n"
        ));
        assert!(!sets_client_port_address("clientPort=2181\n"));
        assert!(!sets_client_port_address("clientPortAddressX=1\n"));
    }
}
