//! Exercise: make the membership client survive a burst of changes.
//!
//! Three servers come up back to back, faster than the client handles events. The client's
//! one-shot child watch fires on the first of them and is gone; the other two changes tell
//! nobody. Then a server goes down and another comes up, one at a time.
//!
//! Lab 2.4: after `cargo run -- lab start 2.4`, [`StudentClient::on_event`] below re-reads the
//! list but forgets something, so after the burst it goes deaf. Fix it, then run
//! `cargo run -- lab check 2.4`: the test `lab_2_4_student_client_survives_a_burst` turns
//! green when your client prints exactly what the snapshot `all__labs__lab_2_4_burst.snap` shows.

use ch01_znode::CreateMode;

use super::servers::{world_with_services, SERVICES};
use super::World;
use crate::event::WatchedEvent;
use crate::SessionId;

/// A client that keeps a list of live servers up to date from watch events.
pub trait Membership {
    /// Reads the list for the first time (and arranges to hear about changes).
    fn start(&mut self, world: &mut World) -> Vec<String>;
    /// Handles one event; returns the list as it now knows it.
    fn on_event(&mut self, event: &WatchedEvent, world: &mut World) -> Vec<String>;
}

// ANCHOR: skeleton
/// Your client. `start` is right; `on_event` is yours to fix.
pub struct StudentClient {
    pub session: SessionId,
}

impl Membership for StudentClient {
    fn start(&mut self, world: &mut World) -> Vec<String> {
        world
            .children(self.session, SERVICES, true)
            .expect("/services exists")
    }

    fn on_event(&mut self, _event: &WatchedEvent, world: &mut World) -> Vec<String> {
        // LAB 2.4 ANSWER (lab start puts the //> lines here)
        //> // The list changed: read it again.
        //> world
        //>     .children(self.session, SERVICES, false)
        //>     .expect("/services exists")
        // The list changed: read it again, and leave a watch for the next change.
        world
            .children(self.session, SERVICES, true)
            .expect("/services exists")
        // LAB 2.4 END
    }
}
// ANCHOR_END: skeleton

/// The scenario the exercise is graded on. `client` is built from the session it is given.
pub fn run<C: Membership>(make_client: impl FnOnce(SessionId) -> C) -> Vec<String> {
    let mut world = world_with_services();
    let mut out = Vec::new();
    let mut client = make_client(world.connect());
    let servers = client.start(&mut world);
    out.push(format!("client: servers = [{}]", servers.join(", ")));

    let up = |world: &mut World, host: &str| {
        let session = world.connect();
        let path = format!("{SERVICES}/{host}");
        world
            .create(session, &path, host, CreateMode::Ephemeral)
            .expect("/services exists");
        session
    };

    // The burst: three servers before the client handles a single event.
    let mut sessions = Vec::new();
    for host in ["hadoop102", "hadoop103", "hadoop104"] {
        sessions.push(up(&mut world, host));
    }
    out.push("burst: hadoop102, hadoop103, hadoop104 come up".to_string());
    catch_up(&mut world, &mut client, &mut out);

    world.close(sessions[1]);
    out.push("hadoop103 goes down".to_string());
    catch_up(&mut world, &mut client, &mut out);

    up(&mut world, "hadoop105");
    out.push("hadoop105 comes up".to_string());
    catch_up(&mut world, &mut client, &mut out);
    out
}

fn catch_up<C: Membership>(world: &mut World, client: &mut C, out: &mut Vec<String>) {
    let mut heard = 0;
    while let Some(delivery) = world.next_delivery() {
        heard += 1;
        out.push(format!("client hears {}", delivery.event));
        let servers = client.on_event(&delivery.event, world);
        out.push(format!("client: servers = [{}]", servers.join(", ")));
    }
    if heard == 0 {
        out.push("client hears nothing".to_string());
    }
}
