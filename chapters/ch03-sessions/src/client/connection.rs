//! [`Client`]: a ZooKeeper session over tokio, driving [`ClientSession`].
//!
//! Two tasks per connection, as in ZooKeeper's `ClientCnxn` (its
//! `SendThread` does both jobs with NIO; the idea is the same):
//!
//! - the **writer** takes requests from a bounded queue, lets the session
//!   give each its xid and remember it, and writes them, many per syscall
//!   when many are waiting. When nothing has been sent for a third of the
//!   negotiated timeout it sends a ping, so the server's session tracker
//!   sees the session alive.
//! - the **reader** cuts the stream into frames, lets the session match
//!   each reply to its request, wakes the caller, and forwards watch events
//!   to the event channel. Silence for two thirds of the timeout counts as
//!   a lost connection (the Java client's `readTimeout`).
//!
//! A third task, the **supervisor**, owns the connections one after the
//! other. When one is lost, every request waiting for a reply gets
//! [`ClientError::ConnectionLoss`] (its fate is unknown) and the event
//! channel gets `Disconnected`. A client made by [`Client::connect`] stops
//! there: later requests fail at once. A client made by [`Client::start`]
//! does what the Java client does: it tries the next server of its list
//! (wrapping around, pausing a second after each full round), presents
//! its session id and password, and, once a server takes the session back,
//! sends its credentials and its watches (`SetWatches`, with the last zxid
//! it saw, so the server fires what it missed) before anything else, and
//! hears `SyncConnected`. A server that answers "expired" ends it
//! (`Expired`). Such a client also keeps the Java client's copy of its
//! watches ([`ClientWatches`]): an event nobody holds a watch for is not
//! delivered, and `removeWatches` is answered as the Java client answers it.
//!
//! Every queue is bounded: at most `max_outstanding` requests are in flight
//! (a caller waits for a slot), and the event channel holds
//! `event_capacity` events (when it is full the reader waits, so an
//! application that never reads its events eventually stalls its own
//! replies: that is back-pressure, not loss).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ch01_znode::{Acl, AddWatchMode, SessionId, Stat, WatcherType, ZkError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::{timeout, Instant};

use super::session::{ClientSession, Incoming, ProtocolError};
use super::watches::{ClientWatches, Registration};
use crate::proto::{
    encode_frame, AddWatchRequest, AuthPacket, ConnectResponse, CreateRequest, DeleteRequest,
    FrameDecoder, GetDataRequest, KeeperState, OpCode, RemoveWatchesRequest, Request, Response,
    SetDataRequest, WatchedEvent,
};

/// How a client connects and how much it buffers.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The session timeout to ask for (the server clamps it to 2..20 ticks).
    pub session_timeout_ms: i32,
    /// Requests in flight at most; callers beyond it wait for a slot.
    pub max_outstanding: usize,
    /// Watch events buffered before the reader waits for the application.
    pub event_capacity: usize,
    /// How long the TCP connect plus handshake may take.
    pub connect_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            session_timeout_ms: 30_000,
            max_outstanding: 1024,
            event_capacity: 1024,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The server answered with this error code (`KeeperException.Code`).
    Server(i32),
    /// The connection is gone (or never came up); the request's fate is
    /// unknown, as with ZooKeeper's ConnectionLoss.
    ConnectionLoss(String),
    /// The server said the session is no longer valid (timeout 0).
    SessionExpired,
    /// The server's bytes stopped making sense.
    Protocol(ProtocolError),
}

impl ClientError {
    /// The ZooKeeper error this corresponds to, as zkCli would name it.
    pub fn zk_error(&self) -> Option<ZkError> {
        match self {
            ClientError::Server(code) => ZkError::from_code(*code),
            ClientError::ConnectionLoss(_) => Some(ZkError::ConnectionLoss),
            ClientError::SessionExpired => Some(ZkError::SessionExpired),
            ClientError::Protocol(_) => Some(ZkError::MarshallingError),
        }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Server(code) => match ZkError::from_code(*code) {
                Some(e) => write!(f, "{e}"),
                None => write!(f, "server error {code}"),
            },
            ClientError::ConnectionLoss(why) => write!(f, "connection loss: {why}"),
            ClientError::SessionExpired => f.write_str("session expired"),
            ClientError::Protocol(e) => write!(f, "protocol error: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

type Reply = Result<Response, ClientError>;

/// Where the session stands (`ZooKeeper.States`), as zkCli's prompt shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Looking for a server (at the start, or after a connection was lost).
    Connecting,
    Connected,
    /// Closed by the application, or expired: no more requests.
    Closed,
    /// A server refused the credentials (`addauth`) and closed the connection.
    AuthFailed,
}

impl State {
    /// The Java name zkCli prints in its prompt.
    pub fn name(self) -> &'static str {
        match self {
            State::Connecting => "CONNECTING",
            State::Connected => "CONNECTED",
            State::Closed => "CLOSED",
            State::AuthFailed => "AUTH_FAILED",
        }
    }
}

/// What the supervisor publishes: the state, and how many rounds of the server list failed
/// in a row (so a caller can stop waiting for a first connection that is not coming).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Status {
    state: State,
    failed_rounds: u32,
}

/// Whom the session wakes when an answer comes: a request's caller (with
/// the in-flight slot it holds until then, and what the answer does to the
/// client's watch copy), an auth packet's, or nobody (what a new
/// connection sends by itself).
#[derive(Debug)]
enum Waiter {
    Request {
        reply: oneshot::Sender<Reply>,
        _slot: OwnedSemaphorePermit,
        registration: Option<Registration>,
    },
    Auth(oneshot::Sender<Result<(), ClientError>>),
    Nobody,
}

impl Waiter {
    /// Wakes the caller with a failure.
    fn fail(self, error: ClientError) {
        match self {
            Waiter::Request { reply, .. } => drop(reply.send(Err(error))),
            Waiter::Auth(reply) => drop(reply.send(Err(error))),
            Waiter::Nobody => {}
        }
    }
}

enum Command {
    Request(Request, Waiter),
    Auth(AuthPacket, Waiter),
}

impl Command {
    fn fail(self, error: ClientError) {
        match self {
            Command::Request(_, waiter) | Command::Auth(_, waiter) => waiter.fail(error),
        }
    }
}

struct Shared {
    session: Mutex<ClientSession<Waiter>>,
    /// Set once the application asked to close: the end of the connection
    /// is then `Closed`, not `Disconnected`, and nothing reconnects.
    closing: AtomicBool,
    /// Wakes a supervisor that is waiting between rounds of reconnecting.
    closed: Notify,
    status: watch::Sender<Status>,
    /// The negotiated session timeout, in ms (0 before the first handshake).
    timeout_ms: AtomicI32,
    /// The Java client's copy of its watches, kept by a client that
    /// reconnects ([`Client::start`]).
    watches: Option<Mutex<ClientWatches>>,
    /// Credentials the servers accepted, presented again on every new connection.
    auth: Mutex<Vec<AuthPacket>>,
}

/// Locks a mutex that a panicking task may have poisoned: the data is plain
/// bookkeeping, so carrying on with it is safe.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn session(&self) -> MutexGuard<'_, ClientSession<Waiter>> {
        lock(&self.session)
    }

    fn set_state(&self, state: State) {
        self.status.send_modify(|s| {
            s.state = state;
            if state != State::Connecting {
                s.failed_rounds = 0;
            }
        });
    }

    fn state(&self) -> State {
        self.status.borrow().state
    }

    fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }
}

/// Something to call each time an event is queued (a shell waiting for input wakes up).
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// The sending end of the event channel, which also rings the application's bell.
#[derive(Clone)]
struct Events {
    tx: mpsc::Sender<WatchedEvent>,
    wake: Arc<Mutex<Option<Wake>>>,
}

impl Events {
    fn rang(&self) {
        if let Some(wake) = lock(&self.wake).as_ref() {
            wake();
        }
    }

    /// Queues an event, waiting while the channel is full (back-pressure); a dropped
    /// receiver just means nobody listens.
    async fn send(&self, event: WatchedEvent) {
        if self.tx.send(event).await.is_ok() {
            self.rang();
        }
    }

    /// Queues a connection event if there is room.
    fn try_send(&self, event: WatchedEvent) {
        if self.tx.try_send(event).is_ok() {
            self.rang();
        }
    }
}

/// A connected session. Cheap to clone; every clone shares the connection.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    events: Events,
    slots: Arc<Semaphore>,
}

/// One TCP connection that has done its handshake.
struct Link {
    stream: TcpStream,
    decoder: FrameDecoder,
    response: ConnectResponse,
}

/// Connects to `addr` and runs the handshake for the session `session`
/// holds (a new one, or the one to resume), within `limit`.
async fn handshake(
    addr: SocketAddr,
    session: &Mutex<ClientSession<Waiter>>,
    timeout_ms: i32,
    limit: Duration,
) -> Result<Link, ClientError> {
    let lost = |e: std::io::Error| ClientError::ConnectionLoss(e.to_string());
    timeout(limit, async {
        let mut stream = TcpStream::connect(addr).await.map_err(lost)?;
        stream.set_nodelay(true).map_err(lost)?;
        let hello = encode_frame(&lock(session).connect_request(timeout_ms));
        stream.write_all(&hello).await.map_err(lost)?;
        let mut decoder = FrameDecoder::default();
        let payload = read_frame(&mut stream, &mut decoder).await?;
        let response = lock(session)
            .accept_connect_response(&payload)
            .map_err(ClientError::Protocol)?;
        Ok(Link {
            stream,
            decoder,
            response,
        })
    })
    .await
    .map_err(|_| ClientError::ConnectionLoss("connect timed out".into()))?
}

impl Client {
    /// Connects to one server, runs the handshake, and starts the reader and
    /// writer. Returns the client and its watch-event channel; the first event
    /// is `SyncConnected`, as the Java client's default watcher sees. This
    /// client does not reconnect and delivers every event the server sends.
    pub async fn connect(
        addr: SocketAddr,
        config: ClientConfig,
    ) -> Result<(Client, mpsc::Receiver<WatchedEvent>), ClientError> {
        let session = Mutex::new(ClientSession::new());
        let link = handshake(
            addr,
            &session,
            config.session_timeout_ms,
            config.connect_timeout,
        )
        .await?;
        if link.response.time_out <= 0 {
            return Err(ClientError::SessionExpired);
        }
        let (client, commands, events) = Client::new(session, &config, false);
        let negotiated = link.response.time_out;
        client.shared.timeout_ms.store(negotiated, Ordering::SeqCst);
        client
            .events
            .try_send(WatchedEvent::state(KeeperState::SyncConnected));
        client.shared.set_state(State::Connected);
        let supervisor = Supervisor {
            shared: client.shared.clone(),
            events: client.events.clone(),
            hosts: vec![addr],
            next: 0,
            config,
            last_event: KeeperState::SyncConnected,
        };
        tokio::spawn(supervisor.run(Some(link), commands));
        Ok((client, events))
    }

    // ANCHOR: start
    /// A session with any of `hosts`, as the Java client keeps one: it returns
    /// at once (`CONNECTING`) and connects in the background, trying the
    /// servers in order; it reconnects when a connection is lost, keeping the
    /// session and its watches. Requests made meanwhile wait for a
    /// connection, or fail with ConnectionLoss when a round of attempts
    /// fails. Must be called within a tokio runtime.
    pub fn start(
        hosts: Vec<SocketAddr>,
        config: ClientConfig,
    ) -> (Client, mpsc::Receiver<WatchedEvent>) {
        let (client, commands, events) = Client::new(ClientSession::new().into(), &config, true);
        let supervisor = Supervisor {
            shared: client.shared.clone(),
            events: client.events.clone(),
            hosts,
            next: 0,
            config,
            last_event: KeeperState::Disconnected,
        };
        tokio::spawn(supervisor.run(None, commands));
        (client, events)
    }
    // ANCHOR_END: start

    fn new(
        session: Mutex<ClientSession<Waiter>>,
        config: &ClientConfig,
        track_watches: bool,
    ) -> (
        Client,
        mpsc::Receiver<Command>,
        mpsc::Receiver<WatchedEvent>,
    ) {
        let (status, _) = watch::channel(Status {
            state: State::Connecting,
            failed_rounds: 0,
        });
        let shared = Arc::new(Shared {
            session,
            closing: AtomicBool::new(false),
            closed: Notify::new(),
            status,
            timeout_ms: AtomicI32::new(0),
            watches: track_watches.then(|| Mutex::new(ClientWatches::default())),
            auth: Mutex::new(Vec::new()),
        });
        let (commands, command_rx) = mpsc::channel(config.max_outstanding.max(1));
        let (events, event_rx) = mpsc::channel(config.event_capacity.max(1));
        let events = Events {
            tx: events,
            wake: Arc::new(Mutex::new(None)),
        };
        let client = Client {
            commands,
            shared,
            events,
            slots: Arc::new(Semaphore::new(config.max_outstanding.max(1))),
        };
        (client, command_rx, event_rx)
    }

    /// The session id the server assigned (0 before the first connection).
    pub fn session_id(&self) -> SessionId {
        self.shared.session().session_id()
    }

    /// The negotiated session timeout, in ms.
    pub fn session_timeout_ms(&self) -> i32 {
        self.shared.timeout_ms.load(Ordering::SeqCst)
    }

    /// Calls `wake` each time an event is queued, after it is (so an application blocked
    /// elsewhere can come and take it).
    pub fn on_event(&self, wake: Wake) {
        *lock(&self.events.wake) = Some(wake);
    }

    /// Where the session stands now.
    pub fn state(&self) -> State {
        self.shared.state()
    }

    /// Waits (at most `limit`) until the session is connected, or closed, or a whole round
    /// of the server list failed; returns the state then.
    pub async fn settled(&self, limit: Duration) -> State {
        let mut status = self.shared.status.subscribe();
        let settled = status.wait_for(|s| s.state != State::Connecting || s.failed_rounds > 0);
        let _ = timeout(limit, settled).await;
        self.state()
    }

    /// Sends any request and waits for its reply.
    pub async fn request(&self, request: Request) -> Result<Response, ClientError> {
        let registration = Registration::of(&request);
        self.request_with(request, registration).await
    }

    async fn request_with(
        &self,
        request: Request,
        registration: Option<Registration>,
    ) -> Result<Response, ClientError> {
        let gone = || ClientError::ConnectionLoss("connection closed".into());
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| gone())?;
        let (reply, rx) = oneshot::channel();
        let registration = registration.filter(|_| self.shared.watches.is_some());
        let waiter = Waiter::Request {
            reply,
            _slot: slot,
            registration,
        };
        self.commands
            .send(Command::Request(request, waiter))
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Sends an auth packet (`addauth scheme auth`) and waits for its answer. Accepted
    /// credentials are presented again on every new connection; refused ones close the
    /// connection (`AuthFailed`).
    pub async fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<(), ClientError> {
        let gone = || ClientError::ConnectionLoss("connection closed".into());
        let (tx, rx) = oneshot::channel();
        let packet = AuthPacket {
            r#type: 0,
            scheme: Some(scheme.into()),
            auth: Some(auth.to_vec()),
        };
        self.commands
            .send(Command::Auth(packet.clone(), Waiter::Auth(tx)))
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())??;
        lock(&self.shared.auth).push(packet);
        Ok(())
    }

    /// addWatch (opcode 106): a persistent watch, recursive or not.
    pub async fn add_watch(&self, path: &str, recursive: bool) -> Result<(), ClientError> {
        let mode = match recursive {
            true => AddWatchMode::PersistentRecursive,
            false => AddWatchMode::Persistent,
        };
        let path = path.to_string();
        self.request(Request::AddWatch(AddWatchRequest { path, mode }))
            .await
            .map(drop)
    }

    /// removeWatches (opcode 18), then the client's own copy: the watches of
    /// `kind` on `path` go, and the event channel hears one `...WatchRemoved`
    /// per kind removed. With `local` they go even if the server refused or
    /// could not be reached.
    pub async fn remove_watches(
        &self,
        path: &str,
        kind: WatcherType,
        local: bool,
    ) -> Result<(), ClientError> {
        let request = Request::RemoveWatches(RemoveWatchesRequest {
            path: path.to_string(),
            r#type: kind,
        });
        let path = path.to_string();
        let registration = Registration::Remove { path, kind, local };
        match self.request_with(request, Some(registration.clone())).await {
            // Never sent, or lost on the way: only the local copy can be told.
            Err(ClientError::ConnectionLoss(why)) if local => {
                let code = ZkError::ConnectionLoss.code();
                match settle(&self.shared, registration, code, &self.events).await {
                    0 => Ok(()),
                    _ => Err(ClientError::ConnectionLoss(why)),
                }
            }
            other => other.map(drop),
        }
    }

    /// create (opcode 1): returns the actual path (with any sequence suffix).
    pub async fn create(
        &self,
        path: &str,
        data: &[u8],
        acl: Vec<Acl>,
        flags: i32,
    ) -> Result<String, ClientError> {
        let request = Request::Create(CreateRequest {
            path: path.into(),
            data: Some(data.to_vec()),
            acl,
            flags,
        });
        match self.request(request).await? {
            Response::Create(r) => Ok(r.path),
            _ => Err(unexpected(OpCode::Create)),
        }
    }

    /// getData (opcode 4).
    pub async fn get_data(
        &self,
        path: &str,
        watch: bool,
    ) -> Result<(Option<Vec<u8>>, Stat), ClientError> {
        let request = Request::GetData(GetDataRequest {
            path: path.into(),
            watch,
        });
        match self.request(request).await? {
            Response::GetData(r) => Ok((r.data, r.stat)),
            _ => Err(unexpected(OpCode::GetData)),
        }
    }

    /// setData (opcode 5); version -1 matches any.
    pub async fn set_data(
        &self,
        path: &str,
        data: &[u8],
        version: i32,
    ) -> Result<Stat, ClientError> {
        let request = Request::SetData(SetDataRequest {
            path: path.into(),
            data: Some(data.to_vec()),
            version,
        });
        match self.request(request).await? {
            Response::SetData(r) => Ok(r.stat),
            _ => Err(unexpected(OpCode::SetData)),
        }
    }

    /// delete (opcode 2); version -1 matches any.
    pub async fn delete(&self, path: &str, version: i32) -> Result<(), ClientError> {
        let request = Request::Delete(DeleteRequest {
            path: path.into(),
            version,
        });
        self.request(request).await.map(|_| ())
    }

    /// closeSession (opcode -11): the server deletes this session's
    /// ephemerals, answers, and closes the connection. Then the state is
    /// `CLOSED` and the event channel gets `Closed` (as the Java client's
    /// watcher does), even if the server could not be told. A session that
    /// is over already (closed, expired, refused) is left as it is.
    pub async fn close(&self) -> Result<(), ClientError> {
        if !matches!(self.state(), State::Connecting | State::Connected) {
            return Ok(());
        }
        self.shared.closing.store(true, Ordering::SeqCst);
        self.shared.closed.notify_one();
        let told = match self.state() {
            State::Connected => self.request(Request::CloseSession).await.map(drop),
            _ => Ok(()),
        };
        self.shared.set_state(State::Closed);
        let closed = WatchedEvent::state(KeeperState::Closed);
        self.events.send(closed).await;
        told
    }
}

/// A reply whose body does not fit the request: the server broke protocol.
fn unexpected(op: OpCode) -> ClientError {
    ClientError::Protocol(ProtocolError::UnexpectedResponse { op })
}

/// Settles a registration with the answer's code in the client's watch copy, sends the
/// removal events it raises, and returns the code the caller should see.
async fn settle(shared: &Shared, registration: Registration, rc: i32, events: &Events) -> i32 {
    let Some(watches) = &shared.watches else {
        return rc;
    };
    let path = match &registration {
        Registration::Remove { path, .. } => path.clone(),
        _ => String::new(),
    };
    let settled = lock(watches).settle(registration, rc);
    for event in settled.events {
        events.send(WatchedEvent::node(event, &path)).await;
    }
    settled.rc
}

/// Reads until one whole frame is buffered (used for the handshake).
async fn read_frame(
    stream: &mut TcpStream,
    decoder: &mut FrameDecoder,
) -> Result<Vec<u8>, ClientError> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(frame) = decoder
            .next_frame()
            .map_err(|e| ClientError::Protocol(ProtocolError::Decode(e)))?
        {
            return Ok(frame);
        }
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| ClientError::ConnectionLoss(e.to_string()))?;
        if n == 0 {
            return Err(ClientError::ConnectionLoss(
                "server closed the connection".into(),
            ));
        }
        decoder.extend(&buf[..n]);
    }
}

/// The task that owns the connections of one session, one after the other.
struct Supervisor {
    shared: Arc<Shared>,
    events: Events,
    hosts: Vec<SocketAddr>,
    /// The server to try next.
    next: usize,
    config: ClientConfig,
    /// The last connection event sent: the Java client tells each change once.
    last_event: KeeperState,
}

/// The pause after a whole round of the server list failed (`StaticHostProvider`'s spin
/// delay).
const ROUND_PAUSE: Duration = Duration::from_secs(1);

impl Supervisor {
    /// Runs connections until the session ends: `first` is a connection already made (for
    /// [`Client::connect`]), else one is looked for.
    async fn run(mut self, first: Option<Link>, mut commands: mpsc::Receiver<Command>) {
        let reconnect = self.shared.watches.is_some();
        let mut link = first;
        loop {
            let current = match link.take() {
                Some(current) => current,
                None => match self.find_server(&mut commands).await {
                    Some(found) => found,
                    None => break,
                },
            };
            let why;
            (commands, why) = self.serve(current, commands).await;
            for waiter in self.shared.session().lose() {
                waiter.fail(ClientError::ConnectionLoss(why.clone()));
            }
            let state = self.shared.state();
            if self.shared.is_closing() || !reconnect || state == State::AuthFailed {
                if !self.shared.is_closing() && state != State::AuthFailed {
                    self.shared.set_state(State::Closed);
                    self.tell(KeeperState::Disconnected);
                }
                break;
            }
            self.shared.set_state(State::Connecting);
            self.tell(KeeperState::Disconnected);
        }
        // No connection any more: every later request fails at once.
        let error = match self.last_event {
            KeeperState::Expired => ClientError::SessionExpired,
            _ => ClientError::ConnectionLoss("connection closed".into()),
        };
        while let Some(command) = commands.recv().await {
            command.fail(error.clone());
        }
    }

    /// Sends a connection event unless it is the one last sent.
    fn tell(&mut self, state: KeeperState) {
        if self.last_event != state {
            self.last_event = state;
            self.events.try_send(WatchedEvent::state(state));
        }
    }

    /// Tries the servers in turn until one takes the session (a new one at first). Requests
    /// waiting meanwhile fail after each failed attempt, as the Java client fails them.
    /// `None` when the session is over: closed by the application, or expired.
    async fn find_server(&mut self, commands: &mut mpsc::Receiver<Command>) -> Option<Link> {
        let n = self.hosts.len().max(1);
        let asked = self.config.session_timeout_ms;
        let per_host = Duration::from_millis((asked.max(1) as u64) / n as u64);
        let mut failed_in_round = 0;
        loop {
            if self.hosts.is_empty() {
                // Nothing to try (no address resolved): every request fails.
                self.shared.status.send_modify(|s| s.failed_rounds += 1);
                return None;
            }
            if self.shared.is_closing() {
                return None;
            }
            let addr = self.hosts[self.next % n];
            self.next = (self.next + 1) % n;
            let attempt = handshake(addr, &self.shared.session, asked, per_host).await;
            match attempt {
                Ok(link) if link.response.time_out > 0 => return Some(link),
                Ok(_) => {
                    // The session expired while we were away.
                    self.shared.set_state(State::Closed);
                    self.tell(KeeperState::Expired);
                    self.events
                        .try_send(WatchedEvent::state(KeeperState::Closed));
                    return None;
                }
                Err(e) => {
                    while let Ok(command) = commands.try_recv() {
                        command.fail(e.clone());
                    }
                }
            }
            failed_in_round += 1;
            if failed_in_round == n {
                failed_in_round = 0;
                self.shared.status.send_modify(|s| s.failed_rounds += 1);
                let closed = self.shared.closed.notified();
                let _ = timeout(ROUND_PAUSE, closed).await;
            }
        }
    }

    /// Runs one connection until it is lost: first what a new connection owes the server
    /// (credentials, then watches), then the writer and the reader. Returns the request
    /// queue for the next connection, and why this one ended.
    async fn serve(
        &mut self,
        link: Link,
        commands: mpsc::Receiver<Command>,
    ) -> (mpsc::Receiver<Command>, String) {
        let timeout_ms = link.response.time_out;
        self.shared.timeout_ms.store(timeout_ms, Ordering::SeqCst);
        self.shared.session().resume();
        self.next = self
            .hosts
            .iter()
            .position(|h| link.stream.peer_addr().is_ok_and(|p| p == *h))
            .map_or(self.next, |i| (i + 1) % self.hosts.len());
        let (read_half, mut write_half) = link.stream.into_split();
        let prime = self.prime();
        self.shared.set_state(State::Connected);
        self.tell(KeeperState::SyncConnected);
        if let Err(e) = write_half.write_all(&prime).await {
            return (commands, e.to_string());
        }
        let ms = u64::try_from(timeout_ms).unwrap_or(1).max(3);
        let (stop, stopped) = oneshot::channel();
        let writer = tokio::spawn(write_loop(
            write_half,
            commands,
            self.shared.clone(),
            Duration::from_millis(ms / 3),
            stopped,
        ));
        let why = read_loop(
            read_half,
            link.decoder,
            self.shared.clone(),
            self.events.clone(),
            Duration::from_millis(ms * 2 / 3),
        )
        .await;
        let _ = stop.send(());
        match writer.await {
            Ok(commands) => (commands, why),
            // The writer panicked: nothing can be sent any more.
            Err(_) => (mpsc::channel(1).1, why),
        }
    }

    /// `primeConnection`: the credentials, then the watches, both ahead of any request.
    fn prime(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut session = self.shared.session();
        for packet in lock(&self.shared.auth).iter() {
            if let Ok(payload) = session.send_auth(packet.clone(), Waiter::Nobody) {
                out.extend_from_slice(&encode_frame(&payload));
            }
        }
        let watches = self.shared.watches.as_ref().map(|w| lock(w).clone());
        let last_zxid = session.last_zxid();
        if let Some(request) = watches.and_then(|w| w.set_watches(last_zxid)) {
            if let Ok(payload) = session.send(&request, Waiter::Nobody) {
                out.extend_from_slice(&encode_frame(&payload));
            }
        }
        out
    }
}

/// Most bytes the writer gathers before one write.
const WRITE_BATCH_BYTES: usize = 64 * 1024;

/// Writes requests and pings until the connection fails or `stop` fires; hands the request
/// queue back.
async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut commands: mpsc::Receiver<Command>,
    shared: Arc<Shared>,
    ping_every: Duration,
    mut stop: oneshot::Receiver<()>,
) -> mpsc::Receiver<Command> {
    let mut out = Vec::with_capacity(WRITE_BATCH_BYTES);
    let mut last_send = Instant::now();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            command = commands.recv() => {
                let Some(command) = command else { break };
                out.clear();
                encode_command(command, &shared, &mut out);
                // Gather whatever else is already queued: one syscall for many
                // requests is what lets many outstanding requests go fast.
                while out.len() < WRITE_BATCH_BYTES {
                    match commands.try_recv() {
                        Ok(command) => encode_command(command, &shared, &mut out),
                        Err(_) => break,
                    }
                }
                if wr.write_all(&out).await.is_err() {
                    break;
                }
                last_send = Instant::now();
            }
            _ = tokio::time::sleep_until(last_send + ping_every) => {
                let ping = encode_frame(&ClientSession::<Waiter>::ping());
                if wr.write_all(&ping).await.is_err() {
                    break;
                }
                last_send = Instant::now();
            }
        }
    }
    let _ = wr.shutdown().await;
    commands
}

fn encode_command(command: Command, shared: &Shared, out: &mut Vec<u8>) {
    let sent = match command {
        Command::Request(request, waiter) => shared.session().send(&request, waiter),
        Command::Auth(packet, waiter) => shared.session().send_auth(packet, waiter),
    };
    match sent {
        Ok(payload) => out.extend_from_slice(&encode_frame(&payload)),
        // The reader already gave up on this connection.
        Err(waiter) => waiter.fail(ClientError::ConnectionLoss("connection lost".into())),
    }
}

/// Reads replies and events until the connection is lost; returns why.
async fn read_loop(
    mut rd: OwnedReadHalf,
    mut decoder: FrameDecoder,
    shared: Arc<Shared>,
    events: Events,
    read_timeout: Duration,
) -> String {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        loop {
            let frame = match decoder.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => return e.to_string(),
            };
            let incoming = shared.session().receive(&frame);
            match incoming {
                Ok(Incoming::Reply {
                    waiter:
                        Waiter::Request {
                            reply,
                            registration,
                            ..
                        },
                    result,
                    ..
                }) => {
                    let result = match registration {
                        None => result.map_err(ClientError::Server),
                        Some(registration) => {
                            let rc = result.as_ref().err().copied().unwrap_or(0);
                            match settle(&shared, registration, rc, &events).await {
                                0 => result.or(Ok(Response::Empty)),
                                rc => Err(ClientError::Server(rc)),
                            }
                        }
                    };
                    let _ = reply.send(result);
                }
                Ok(Incoming::Event(event)) => {
                    let heard = match &shared.watches {
                        Some(watches) => {
                            let path = event.path.as_deref().unwrap_or_default();
                            lock(watches).materialize(event.event_type, path)
                        }
                        None => true,
                    };
                    if heard {
                        events.send(event).await;
                    }
                }
                Ok(Incoming::Pong) => {}
                Ok(Incoming::Auth { waiter, err }) => {
                    let result = match err {
                        0 => Ok(()),
                        err => Err(ClientError::Server(err)),
                    };
                    if err == ZkError::AuthFailed.code() {
                        // The server closes the connection after this answer.
                        shared.set_state(State::AuthFailed);
                        let failed = WatchedEvent::state(KeeperState::AuthFailed);
                        events.send(failed).await;
                    }
                    if let Some(Waiter::Auth(reply)) = waiter {
                        let _ = reply.send(result);
                    }
                }
                // What a new connection sends by itself needs no answer; an
                // auth waiter answered as a request cannot happen (the session
                // keeps them in separate queues).
                Ok(Incoming::Reply { waiter, .. }) => {
                    waiter.fail(ClientError::Protocol(ProtocolError::UnexpectedResponse {
                        op: OpCode::Auth,
                    }));
                }
                Err(e) => return e.to_string(),
            }
        }
        match timeout(read_timeout, rd.read(&mut buf)).await {
            Err(_) => return "no reply within the read timeout".into(),
            Ok(Err(e)) => return e.to_string(),
            Ok(Ok(0)) => return "server closed the connection".into(),
            Ok(Ok(n)) => decoder.extend(&buf[..n]),
        }
    }
}
