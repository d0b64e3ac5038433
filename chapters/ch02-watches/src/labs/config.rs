//! Configuration push (the seed's "unified configuration management").
//!
//! The configuration lives in one znode. Every client reads it with a data watch; when an
//! operator writes a new value, every watching client is told `NodeDataChanged`, reads the new
//! value — registering the next watch in the same read — and applies it. Nobody polls, and a
//! client that reads after the change is guaranteed to see it.

use ch01_znode::CreateMode;

use super::World;
use crate::SessionId;

/// The znode holding the configuration.
pub const CONFIG: &str = "/config/db.url";

/// Runs the lab: three clients, two configuration changes. Returns what everyone printed.
pub fn run() -> Vec<String> {
    let mut world = World::default();
    let mut out = Vec::new();
    let operator = world.connect();
    world
        .create(operator, "/config", "", CreateMode::Persistent)
        .expect("a fresh tree has no /config");
    world
        .create(
            operator,
            CONFIG,
            "jdbc:mysql://db1/app",
            CreateMode::Persistent,
        )
        .expect("/config was just created");

    let clients: Vec<(&str, SessionId)> = ["web1", "web2", "worker"]
        .into_iter()
        .map(|name| (name, world.connect()))
        .collect();
    for (name, session) in &clients {
        let value = world
            .get(*session, CONFIG, true)
            .expect("the config exists");
        out.push(format!("{name}: using {value}"));
    }

    for value in ["jdbc:mysql://db2/app", "jdbc:mysql://db3/app"] {
        world
            .set(operator, CONFIG, value)
            .expect("the config exists");
        out.push(format!("operator: set {CONFIG} {value}"));
        while let Some(delivery) = world.next_delivery() {
            let (name, session) = clients
                .iter()
                .find(|(_, s)| *s == delivery.watcher)
                .expect("only the clients watch the config");
            // Re-read with a watch: the new value, and the next notification.
            let value = world
                .get(*session, CONFIG, true)
                .expect("the config exists");
            out.push(format!(
                "{name}: hears {}, now using {value}",
                delivery.event.event_type
            ));
        }
    }
    out
}
