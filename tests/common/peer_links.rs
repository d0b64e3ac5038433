//! The network between an ensemble's peers, as relays a test can cut or stall.
//!
//! A peer reaches another at the address its own zoo.cfg gives on that peer's server line,
//! and binds the ports of its own line. So if each member's zoo.cfg names, for every other
//! member, a relay of its own instead of that member's ports, every connection from `a` to
//! `b` (quorum or election) runs through a relay that carries nothing else: one link per
//! ordered pair and port. Cutting a member off is then cutting the links it is at either end
//! of; the others still reach each other directly through theirs.
//!
//! A member's client port is not relayed: a test talks to each member as a client would.

use super::Proxy;
use std::collections::BTreeMap;

/// One relay per ordered pair of members and per peer port (quorum, election).
pub struct PeerLinks {
    /// `(from, to)` (sids) → the quorum-port relay and the election-port relay.
    links: BTreeMap<(u64, u64), [Proxy; 2]>,
}

impl PeerLinks {
    /// Relays between members `1..=n`, whose own (quorum, election) ports are `ports[sid - 1]`.
    /// No relay listens on a port in `taken`: the members' ports were picked free and let go,
    /// so the kernel may hand one of them to a relay before its member binds it.
    pub fn new(ports: &[(u16, u16)], taken: &[u16]) -> PeerLinks {
        let relay = |port: &u16| loop {
            let relay = Proxy::start(&format!("127.0.0.1:{port}"));
            if !taken.contains(&port_of(&relay)) {
                return relay;
            }
        };
        let mut links = BTreeMap::new();
        for (from, _) in (1..).zip(ports) {
            for (to, (quorum, election)) in (1..).zip(ports) {
                if from != to {
                    links.insert((from, to), [relay(quorum), relay(election)]);
                }
            }
        }
        PeerLinks { links }
    }

    /// The `host:quorumPort:electionPort` member `from`'s zoo.cfg gives for member `to`: a
    /// relay's ports, or None for `from` itself (whose line names its own ports).
    pub fn server_address(&self, from: u64, to: u64) -> Option<String> {
        let [quorum, election] = self.links.get(&(from, to))?;
        Some(format!(
            "127.0.0.1:{}:{}",
            port_of(quorum),
            port_of(election)
        ))
    }

    /// The relays `sid` is at either end of.
    fn touching(&self, sid: u64) -> impl Iterator<Item = &Proxy> {
        self.links
            .iter()
            .filter(move |((from, to), _)| *from == sid || *to == sid)
            .flat_map(|(_, relays)| relays.iter())
    }

    /// Cuts `sid` off from every other member: its connections close, new ones are refused.
    pub fn isolate(&self, sid: u64) {
        // Refuse everywhere first, so no connection slips in while the rest are being cut.
        self.touching(sid).for_each(Proxy::refuse);
        self.touching(sid).for_each(Proxy::cut);
    }

    /// Loses everything `sid` and the others send each other, connections left open.
    pub fn stall(&self, sid: u64) {
        self.touching(sid).for_each(Proxy::stall);
    }

    /// Every link delivers again.
    pub fn heal(&self) {
        self.links
            .values()
            .flat_map(|relays| relays.iter())
            .for_each(Proxy::resume);
    }
}

/// The port a relay listens on.
fn port_of(relay: &Proxy) -> u16 {
    let address = relay.address();
    let port = address.rsplit(':').next().and_then(|p| p.parse().ok());
    port.expect("a relay listens on host:port")
}
