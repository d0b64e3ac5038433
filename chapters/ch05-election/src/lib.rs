//! # Chapter 5: electing a leader
//!
//! (essay to come)

pub mod lab;
pub mod notification;
pub mod peer;
pub mod quorum;
pub mod render;
pub mod sim;
pub mod tcp;
pub mod vote;
pub mod wire;
