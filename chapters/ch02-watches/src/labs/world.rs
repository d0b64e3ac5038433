//! A server with watches, a clock, and an event queue: what the labs run on.
//!
//! A real client hears its events on its own thread, some time after the write that caused
//! them. Here events wait in a queue until the lab says "deliver now", so a lab can choose when
//! a client catches up — at once, or only after a whole burst of changes.

use std::collections::VecDeque;

use ch01_znode::{Acl, CreateMode, Request, Stat};

use crate::event::Delivery;
use crate::server::{WatchServer, Written};
use crate::{SessionId, ZkError};

/// One server, its clock and the events in flight.
#[derive(Debug, Default)]
pub struct World {
    pub server: WatchServer,
    /// Virtual time: one second per write, from 0, so runs repeat exactly.
    clock_ms: i64,
    inbox: VecDeque<Delivery>,
}

impl World {
    /// Opens a session.
    pub fn connect(&mut self) -> SessionId {
        let now = self.tick();
        self.server.connect(now)
    }

    /// `create path data` from `session` with `mode`; returns the created path.
    pub fn create(
        &mut self,
        session: SessionId,
        path: &str,
        data: &str,
        mode: CreateMode,
    ) -> Result<String, ZkError> {
        let request = Request::Create {
            path: path.to_string(),
            data: Some(data.as_bytes().to_vec()),
            acl: Acl::open_unsafe(),
            mode,
        };
        let written = self.write(session, &request);
        match written.applied.result {
            ch01_znode::TxnResult::Created { path, .. } => Ok(path),
            other => Err(other.err().unwrap_or(ZkError::SystemError)),
        }
    }

    /// `set path data` (any version).
    pub fn set(&mut self, session: SessionId, path: &str, data: &str) -> Result<(), ZkError> {
        let request = Request::SetData {
            path: path.to_string(),
            data: Some(data.as_bytes().to_vec()),
            version: -1,
        };
        let written = self.write(session, &request);
        written.applied.result.err().map_or(Ok(()), Err)
    }

    /// Closes `session`: its ephemeral nodes go, and with them its registration.
    pub fn close(&mut self, session: SessionId) {
        let now = self.tick();
        let written = self.server.close_session(session, now);
        self.inbox.extend(written.deliveries);
    }

    /// `getData(path, watch)` as UTF-8 text.
    pub fn get(&mut self, session: SessionId, path: &str, watch: bool) -> Result<String, ZkError> {
        let (data, _) = self.server.get_data(session, path, watch)?;
        Ok(String::from_utf8_lossy(&data.unwrap_or_default()).into_owned())
    }

    /// `getChildren(path, watch)`, sorted.
    pub fn children(
        &mut self,
        session: SessionId,
        path: &str,
        watch: bool,
    ) -> Result<Vec<String>, ZkError> {
        Ok(self.server.get_children(session, path, watch)?.0)
    }

    /// `exists(path, watch)`.
    pub fn exists(&mut self, session: SessionId, path: &str, watch: bool) -> Option<Stat> {
        self.server.exists(session, path, watch).ok()
    }

    /// The next event waiting to be delivered, oldest first.
    pub fn next_delivery(&mut self) -> Option<Delivery> {
        self.inbox.pop_front()
    }

    fn write(&mut self, session: SessionId, request: &Request) -> Written {
        let now = self.tick();
        let written = self.server.submit(session, now, request);
        self.inbox.extend(written.deliveries.iter().cloned());
        written
    }

    fn tick(&mut self) -> i64 {
        self.clock_ms += 1000;
        self.clock_ms
    }
}
