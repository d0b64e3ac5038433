//! Several named clients in one shell: the seed's two machines in one terminal.
//!
//! The seed shows watches with two computers: on one, client B runs `get -w /sanguo`; on the
//! other, client A runs `set /sanguo "xishi"`, and B's terminal prints the event. [`Clients`]
//! puts both in one shell: every client is a session on one [`WatchServer`], `connect B`
//! opens another, `use A` switches, and the commands typed run as the current client. Each
//! client keeps its own inbox of events; the current client's are printed by chapter 1's
//! shell like zkCli's default watcher, the others' by this chapter's loop under that client's
//! prompt, at the point they arrive.
//!
//! Everything that happens is also recorded as trace [`Event`]s: the watches each step adds
//! and spends (found by comparing the registry before and after), the txns, the deliveries.

use std::collections::BTreeSet;

use ch01_znode::shell::backend::Clock;
use ch01_znode::shell::{Backend, Line};
use ch01_znode::{Acl, Request, Stat, TxnOp, TxnResult};

use crate::event::{KeeperState, WatchedEvent};
use crate::mode::{AddWatchMode, WatcherType};
use crate::registry::Watch;
use crate::server::{WatchServer, Written};
use crate::trace::{Cause, Event};
use crate::{SessionId, ZkError};

/// One named client: a session and the events waiting to be printed for it.
#[derive(Debug)]
struct Client {
    name: String,
    session: SessionId,
    closed: bool,
    inbox: Vec<WatchedEvent>,
}

/// The named clients sharing one server.
pub struct Clients {
    pub server: WatchServer,
    clock: Clock,
    clients: Vec<Client>,
    current: usize,
    /// Everything that happened, for `--trace`.
    pub trace: Vec<Event>,
}

impl Clients {
    /// A server with one client, `first`, connected.
    pub fn new(first: &str, clock: Clock) -> Clients {
        let mut clients = Clients {
            server: WatchServer::default(),
            clock,
            clients: Vec::new(),
            current: 0,
            trace: Vec::new(),
        };
        clients.connect(first);
        clients
    }

    /// The current client's name.
    pub fn current_name(&self) -> &str {
        &self.clients[self.current].name
    }

    /// Opens a session for a new client `name` and makes it current. zkCli's watcher prints
    /// `SyncConnected` with type `None` when a session is established.
    pub fn connect(&mut self, name: &str) {
        let now = (self.clock)();
        let session = self.server.connect(now);
        self.trace.push(Event::Connected {
            client: name.to_string(),
            session,
        });
        self.clients.push(Client {
            name: name.to_string(),
            session,
            closed: false,
            inbox: vec![WatchedEvent::state(KeeperState::SyncConnected)],
        });
        self.current = self.clients.len() - 1;
    }

    /// Makes `name` the current client; false if there is none by that name.
    pub fn switch_to(&mut self, name: &str) -> bool {
        match self.clients.iter().position(|c| c.name == name) {
            Some(i) => {
                self.current = i;
                true
            }
            None => false,
        }
    }

    /// Closes the current client's session: its ephemerals go (firing watches), then its
    /// watches; zkCli's watcher prints `Closed` (3.6+).
    pub fn close_current(&mut self) {
        let client = &self.clients[self.current];
        if client.closed {
            return;
        }
        let (session, name) = (client.session, client.name.clone());
        let now = (self.clock)();
        self.observed(Cause::SessionClosed, |s| {
            let written = s.server.close_session(session, now);
            s.deliver(&written);
        });
        let client = &mut self.clients[self.current];
        client.closed = true;
        client.inbox.push(WatchedEvent::state(KeeperState::Closed));
        self.trace.push(Event::Closed {
            client: name,
            session,
        });
    }

    /// Closes every session still open (the end of a script).
    pub fn close_all(&mut self) {
        let current = self.current;
        for i in 0..self.clients.len() {
            self.current = i;
            self.close_current();
        }
        self.current = current;
    }

    /// Takes the events waiting for clients other than the current one, in connect order,
    /// each group with the prompt label of its client (`B(CONNECTED)`); with `print` false
    /// (`printwatches off`) they are dropped.
    pub fn take_others(&mut self, print: bool) -> Vec<(String, Vec<WatchedEvent>)> {
        let current = self.current;
        self.clients
            .iter_mut()
            .enumerate()
            .filter(|(i, c)| *i != current && !c.inbox.is_empty())
            .map(|(_, c)| {
                let state = if c.closed { "CLOSED" } else { "CONNECTED" };
                let label = format!("{}({state})", c.name);
                (label, std::mem::take(&mut c.inbox))
            })
            .filter(|_| print)
            .collect()
    }

    /// Takes the events waiting for the current client.
    pub fn take_current(&mut self) -> Vec<WatchedEvent> {
        std::mem::take(&mut self.clients[self.current].inbox)
    }

    /// The current client's session.
    pub fn session(&self) -> SessionId {
        self.clients[self.current].session
    }

    /// Raises a client-local event for the current client (`removewatches`' `...Removed`).
    pub fn raise_local(&mut self, event: WatchedEvent) {
        self.trace.push(Event::Delivered {
            client: self.current_name().to_string(),
            event: event.clone(),
            local: true,
        });
        self.clients[self.current].inbox.push(event);
    }

    // ANCHOR: observed
    /// Runs `step` and records the watches it added and the ones it removed (for `cause`), by
    /// comparing the registry before and after.
    pub fn observed<T>(&mut self, cause: Cause, step: impl FnOnce(&mut Self) -> T) -> T {
        let before = self.server.watches().all_watches();
        let result = step(self);
        let after = self.server.watches().all_watches();
        for watch in after.difference(&before) {
            let client = self.name_of(watch.session);
            let watch = watch.clone();
            self.trace.push(Event::WatchAdded { client, watch });
        }
        let removed: BTreeSet<&Watch> = before.difference(&after).collect();
        for watch in removed {
            let client = self.name_of(watch.session);
            let watch = watch.clone();
            self.trace.push(Event::WatchRemoved {
                client,
                watch,
                cause,
            });
        }
        result
    }
    // ANCHOR_END: observed

    /// Puts each delivery of a write in its client's inbox, and in the trace.
    fn deliver(&mut self, written: &Written) {
        let triggers = written.applied.triggers.iter().map(|t| t.to_string());
        self.trace.push(Event::Applied {
            zxid: written.txn.zxid,
            op: describe(&written.txn.op),
            triggers: triggers.collect(),
            told: written.deliveries.len(),
        });
        for delivery in &written.deliveries {
            let client = self.name_of(delivery.watcher);
            self.trace.push(Event::Delivered {
                client,
                event: delivery.event.clone(),
                local: false,
            });
            if let Some(c) = self
                .clients
                .iter_mut()
                .find(|c| c.session == delivery.watcher)
            {
                c.inbox.push(delivery.event.clone());
            }
        }
    }

    fn name_of(&self, session: SessionId) -> String {
        self.clients
            .iter()
            .find(|c| c.session == session)
            .map_or_else(|| session.to_string(), |c| c.name.clone())
    }

    /// A read by the current client, which may register a watch.
    fn read<T>(
        &mut self,
        step: impl FnOnce(&mut WatchServer, SessionId) -> Result<T, ZkError>,
    ) -> Result<T, ZkError> {
        self.open()?;
        let session = self.session();
        self.observed(Cause::Fired, |s| step(&mut s.server, session))
    }

    fn open(&self) -> Result<(), ZkError> {
        match self.clients[self.current].closed {
            true => Err(ZkError::SessionExpired),
            false => Ok(()),
        }
    }
}

/// A txn in a few words: `setData /sanguo`, `error NodeExists`.
fn describe(op: &TxnOp) -> String {
    match op {
        TxnOp::Create { path, .. }
        | TxnOp::Delete { path }
        | TxnOp::SetData { path, .. }
        | TxnOp::SetAcl { path, .. }
        | TxnOp::Check { path, .. } => format!("{} {path}", op.type_name()),
        TxnOp::Error { code } => match ZkError::from_code(*code) {
            Some(e) => format!("error {e:?}"),
            None => format!("error {code}"),
        },
        TxnOp::CloseSession { paths_to_delete } => {
            format!("closeSession [{}]", paths_to_delete.join(", "))
        }
        TxnOp::Multi(ops) => {
            let ops: Vec<String> = ops.iter().map(describe).collect();
            format!("multi [{}]", ops.join("; "))
        }
        TxnOp::CreateSession { .. } => op.type_name().to_string(),
    }
}

impl Backend for Clients {
    /// The prompt names the current client: `[zk: B(CONNECTED) 3]`.
    fn connect_string(&self) -> String {
        self.current_name().to_string()
    }

    fn state(&self) -> &'static str {
        match self.clients[self.current].closed {
            true => "CLOSED",
            false => "CONNECTED",
        }
    }

    /// A write by the current client: applied, its events delivered, spent watches traced.
    fn write(&mut self, request: Request) -> Result<TxnResult, ZkError> {
        self.open()?;
        let session = self.session();
        let now = (self.clock)();
        let written = self.observed(Cause::Fired, |s| {
            let written = s.server.submit(session, now, &request);
            s.deliver(&written);
            written
        });
        let result = written.applied.result;
        result.err().map_or(Ok(result), Err)
    }

    fn get_data(&mut self, path: &str, watch: bool) -> Result<(Option<Vec<u8>>, Stat), ZkError> {
        self.read(|server, session| server.get_data(session, path, watch))
    }

    fn exists(&mut self, path: &str, watch: bool) -> Result<Stat, ZkError> {
        self.read(|server, session| server.exists(session, path, watch))
    }

    fn get_children(&mut self, path: &str, watch: bool) -> Result<(Vec<String>, Stat), ZkError> {
        self.read(|server, session| server.get_children(session, path, watch))
    }

    fn get_acl(&mut self, path: &str) -> Result<(Vec<Acl>, Stat), ZkError> {
        self.open()?;
        self.server.tree().get_acl(path)
    }

    fn get_all_children_number(&mut self, path: &str) -> Result<i32, ZkError> {
        self.open()?;
        Ok(self.server.tree().get_all_children_number(path)? as i32)
    }

    fn get_ephemerals(&mut self, prefix: &str) -> Result<Vec<String>, ZkError> {
        self.open()?;
        let mine = self.server.tree().ephemerals(self.session());
        Ok(mine.into_iter().filter(|p| p.starts_with(prefix)).collect())
    }

    fn close(&mut self) -> Result<(), ZkError> {
        self.close_all();
        Ok(())
    }

    /// `addWatch`: a persistent watch for the current client, traced like any other.
    fn add_watch(&mut self, path: &str, mode: AddWatchMode) -> Result<(), ZkError> {
        self.open()?;
        let session = self.session();
        self.observed(Cause::Removed, |c| {
            c.server.watches_mut().add_watch(session, path, mode)
        })
    }

    /// `removewatches`: on success the client's watcher hears `ChildWatchRemoved` /
    /// `DataWatchRemoved` / `PersistentWatchRemoved`; with nothing to remove, `NoWatcher`.
    /// `local` (remove here when the server is unreachable) changes nothing: this server is
    /// always reachable.
    fn remove_watches(
        &mut self,
        path: &str,
        kind: WatcherType,
        _local: bool,
    ) -> Result<(), ZkError> {
        self.open()?;
        let session = self.session();
        let removed = self.observed(Cause::Removed, |c| {
            c.server.watches_mut().remove_watches(session, path, kind)
        })?;
        for event_type in removed {
            self.raise_local(WatchedEvent::node(event_type, path));
        }
        Ok(())
    }

    /// The current client's events, for chapter 1's shell to print as zkCli's watcher does.
    fn take_events(&mut self) -> Vec<WatchedEvent> {
        self.take_current()
    }

    fn extra_commands(&self) -> Vec<(&'static str, &'static str)> {
        super::commands::EXTRA.to_vec()
    }

    fn run_extra(&mut self, args: &[String]) -> Option<Vec<Line>> {
        super::commands::run(self, args)
    }
}
