//! The servers up/down lab (the seed's `DistributeServer` / `DistributeClient`).
//!
//! Each server, when it starts, creates an **ephemeral sequential** child of `/services`
//! holding its host name. Ephemeral: the node lives exactly as long as the server's session, so
//! a server that dies or quits disappears from the list with no one having to clean up.
//! Sequential: two servers with the same name still get distinct nodes.
//!
//! The client reads the children of `/services` **with a watch**, reads each child's data, and
//! prints `servers = [...]`. When the watch fires it does the same again — which also
//! registers the next watch. Read, watch, react, read-and-watch again: that loop is the whole
//! recipe.

use ch01_znode::CreateMode;

use super::World;
use crate::SessionId;

/// Where the servers register.
pub const SERVICES: &str = "/services";

// ANCHOR: client
/// The client of the lab: keeps the list of live servers.
pub struct DistributeClient {
    pub session: SessionId,
}

impl DistributeClient {
    /// Reads the server list and leaves a child watch on `/services` for the next change.
    pub fn monitor(&self, world: &mut World) -> String {
        let children = world
            .children(self.session, SERVICES, true)
            .expect("/services exists for the whole lab");
        let servers: Vec<String> = children
            .iter()
            .filter_map(|child| {
                // A server may leave between the two reads: then it is simply not listed.
                world
                    .get(self.session, &format!("{SERVICES}/{child}"), false)
                    .ok()
            })
            .collect();
        format!("servers = [{}]", servers.join(", "))
    }
}
// ANCHOR_END: client

/// Delivers every waiting event; the client answers each by monitoring again.
fn catch_up(world: &mut World, client: &DistributeClient, out: &mut Vec<String>) {
    while let Some(delivery) = world.next_delivery() {
        out.push(format!("client hears {}", delivery.event));
        out.push(client.monitor(world));
    }
}

// ANCHOR: register
/// A server comes up: a session, and an ephemeral sequential node carrying its name.
fn register(world: &mut World, host: &str, out: &mut Vec<String>) -> SessionId {
    let session = world.connect();
    let path = world
        .create(
            session,
            &format!("{SERVICES}/{host}"),
            host,
            CreateMode::EphemeralSequential,
        )
        .expect("/services exists for the whole lab");
    out.push(format!("{host} is online! ({path}, session {session})"));
    session
}
// ANCHOR_END: register

/// A fresh world in which an admin has created the persistent `/services`.
pub fn world_with_services() -> World {
    let mut world = World::default();
    let admin = world.connect();
    world
        .create(admin, SERVICES, "", CreateMode::Persistent)
        .expect("a fresh tree has no /services");
    world
}

/// Runs the lab: three servers come up, one goes down. Returns what everyone printed.
pub fn run() -> Vec<String> {
    let mut world = world_with_services();
    let mut out = Vec::new();
    out.push(format!("admin created {SERVICES}"));

    let client = DistributeClient {
        session: world.connect(),
    };
    out.push(client.monitor(&mut world));

    let mut sessions = Vec::new();
    for host in ["hadoop102", "hadoop103", "hadoop104"] {
        sessions.push((host, register(&mut world, host, &mut out)));
        catch_up(&mut world, &client, &mut out);
    }

    let (host, session) = sessions[1];
    world.close(session);
    out.push(format!("{host} goes down (session {session} closed)"));
    catch_up(&mut world, &client, &mut out);
    out
}
