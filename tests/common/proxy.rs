//! A TCP relay between a client and a server that a test can cut, to lose
//! a connection without losing the session.
//!
//! ZooKeeper's sessions outlive connections: a client that loses its socket
//! reconnects with its session id and password, and re-registers its
//! watches (setWatches) from the last zxid it saw. To see that happen, the
//! client talks to the server through this relay; `cut` shuts every relayed
//! socket and turns new connections away until `resume`.
//!
//! Peers of an ensemble can talk through relays too (a zoo.cfg's server lines
//! name a relay's port instead of the peer's own): then a test can also
//! `stall` a link, which keeps its connections open but loses every byte sent
//! either way, as a network that stops delivering does. A sender only learns
//! of it from a timeout, not from a closed socket.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// A relay listening on 127.0.0.1, forwarding to one upstream address.
pub struct Proxy {
    address: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    upstream: SocketAddr,
    /// False while cut: new connections are closed at once.
    open: AtomicBool,
    /// True while stalled: relayed bytes are read and dropped.
    stalled: AtomicBool,
    /// Set on drop: the accept loop ends.
    stopped: AtomicBool,
    /// Both ends of every relayed connection, to shut them on `cut`.
    sockets: Mutex<Vec<TcpStream>>,
}

impl Proxy {
    pub fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port for the proxy");
        let address = listener.local_addr().expect("the proxy's address");
        let shared = Arc::new(Shared {
            upstream: upstream.parse().expect("upstream is ip:port"),
            open: AtomicBool::new(true),
            stalled: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            sockets: Mutex::new(Vec::new()),
        });
        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            for client in listener.incoming() {
                if accepting.stopped.load(Ordering::SeqCst) {
                    break;
                }
                match client {
                    Ok(client) if accepting.open.load(Ordering::SeqCst) => {
                        // A relay that cannot reach the server drops the
                        // client, as the unreachable server would.
                        let _ = accepting.relay(client);
                    }
                    _ => {}
                }
            }
        });
        Proxy { address, shared }
    }

    /// The address clients connect to.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Refuses new connections, leaving the relayed ones be: cutting two
    /// relays one after the other would let a client hop from the first to
    /// the second in between, so both refuse first.
    pub fn refuse(&self) {
        self.shared.open.store(false, Ordering::SeqCst);
    }

    /// Shuts every relayed connection and refuses new ones.
    pub fn cut(&self) {
        self.shared.open.store(false, Ordering::SeqCst);
        for socket in self.shared.sockets.lock().expect("proxy lock").drain(..) {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }

    /// Loses every byte relayed from now on, both ways, with the connections
    /// left open (and new ones accepted), until `resume`.
    pub fn stall(&self) {
        self.shared.stalled.store(true, Ordering::SeqCst);
    }

    /// Relays new connections again, and delivers bytes again.
    pub fn resume(&self) {
        self.shared.stalled.store(false, Ordering::SeqCst);
        self.shared.open.store(true, Ordering::SeqCst);
    }
}

impl Shared {
    fn relay(self: &Arc<Self>, client: TcpStream) -> io::Result<()> {
        let server = TcpStream::connect_timeout(&self.upstream, Duration::from_secs(2))?;
        let mut sockets = self.sockets.lock().expect("proxy lock");
        // A `cut` that came while this connection was being relayed has
        // already shut the others: this one must not outlive it. (`cut`
        // clears `open` before it takes the lock, so reading it under the
        // lock cannot miss a cut.)
        if !self.open.load(Ordering::SeqCst) {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
            return Ok(());
        }
        sockets.push(client.try_clone()?);
        sockets.push(server.try_clone()?);
        pump(client.try_clone()?, server.try_clone()?, Arc::clone(self));
        pump(server, client, Arc::clone(self));
        Ok(())
    }
}

/// Copies `from` into `to` on its own thread, dropping what it reads while
/// the relay is stalled; when either side ends, both directions are shut so
/// the other pump ends too.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: Arc<Shared>) {
    thread::spawn(move || {
        let mut buffer = [0; 16 * 1024];
        loop {
            let read = match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            if !shared.stalled.load(Ordering::SeqCst) && to.write_all(&buffer[..read]).is_err() {
                break;
            }
        }
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    });
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.cut();
        // Wake the accept loop so it sees `stopped`.
        let _ = TcpStream::connect(self.address);
    }
}
