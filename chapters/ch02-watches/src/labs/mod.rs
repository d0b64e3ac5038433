//! The chapter's labs: small programs on top of a [`World`] — one server with watches, a
//! virtual clock, and the queue of events on their way to clients.
//!
//! - [`servers`]: the seed's servers up/down lab (`DistributeServer` / `DistributeClient`).
//! - [`config`]: configuration push — one znode, every client told when it changes.
//! - [`burst`]: the exercise — a membership client that must survive a burst of changes.

pub mod burst;
pub mod config;
pub mod servers;
mod world;

pub use world::World;
