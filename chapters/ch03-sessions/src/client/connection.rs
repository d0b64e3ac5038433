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
//! Every queue is bounded: at most `max_outstanding` requests are in flight
//! (a caller waits for a slot), and the event channel holds
//! `event_capacity` events (when it is full the reader waits, so an
//! application that never reads its events eventually stalls its own
//! replies: that is back-pressure, not loss). When the connection is lost,
//! every waiting caller gets [`ClientError::ConnectionLoss`] and the event
//! channel gets a `Disconnected` event. This client does not reconnect.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ch01_znode::{Acl, SessionId, Stat, ZkError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::time::{timeout, Instant};

use super::session::{ClientSession, Incoming, ProtocolError};
use crate::proto::{
    encode_frame, AuthPacket, CreateRequest, DeleteRequest, FrameDecoder, GetDataRequest,
    KeeperState, OpCode, Request, Response, SetDataRequest, WatchedEvent,
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

/// Whom the session wakes when an answer comes: a request's caller (with
/// the in-flight slot it holds until then), or an auth packet's.
#[derive(Debug)]
enum Waiter {
    Request {
        reply: oneshot::Sender<Reply>,
        _slot: OwnedSemaphorePermit,
    },
    Auth(oneshot::Sender<Result<(), ClientError>>),
}

impl Waiter {
    /// Wakes the caller with a failure.
    fn fail(self, error: ClientError) {
        match self {
            Waiter::Request { reply, .. } => drop(reply.send(Err(error))),
            Waiter::Auth(reply) => drop(reply.send(Err(error))),
        }
    }
}

enum Command {
    Request(Request, Waiter),
    Auth(AuthPacket, Waiter),
}

struct Shared {
    session: Mutex<ClientSession<Waiter>>,
    /// Set once the application asked to close: the end of the connection
    /// is then `Closed`, not `Disconnected`.
    closing: AtomicBool,
}

impl Shared {
    fn session(&self) -> MutexGuard<'_, ClientSession<Waiter>> {
        // A poisoned lock means a task panicked mid-update; the session's
        // state is plain data, so carrying on with it is safe.
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A connected session. Cheap to clone; every clone shares the connection.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    events: mpsc::Sender<WatchedEvent>,
    slots: Arc<Semaphore>,
    session_id: SessionId,
    timeout_ms: i32,
}

impl Client {
    /// Connects, runs the handshake, and starts the reader and writer.
    /// Returns the client and its watch-event channel; the first event is
    /// `SyncConnected`, as the Java client's default watcher sees.
    pub async fn connect(
        addr: SocketAddr,
        config: ClientConfig,
    ) -> Result<(Client, mpsc::Receiver<WatchedEvent>), ClientError> {
        let lost = |e: std::io::Error| ClientError::ConnectionLoss(e.to_string());
        let mut session = ClientSession::new();
        let (stream, response, decoder) = timeout(config.connect_timeout, async {
            let mut stream = TcpStream::connect(addr).await.map_err(lost)?;
            stream.set_nodelay(true).map_err(lost)?;
            let hello = encode_frame(&session.connect_request(config.session_timeout_ms));
            stream.write_all(&hello).await.map_err(lost)?;
            let mut decoder = FrameDecoder::default();
            let payload = read_frame(&mut stream, &mut decoder).await?;
            let response = session
                .accept_connect_response(&payload)
                .map_err(ClientError::Protocol)?;
            Ok::<_, ClientError>((stream, response, decoder))
        })
        .await
        .map_err(|_| ClientError::ConnectionLoss("connect timed out".into()))??;
        if response.time_out <= 0 {
            return Err(ClientError::SessionExpired);
        }

        let timeout_ms = response.time_out;
        let shared = Arc::new(Shared {
            session: Mutex::new(session),
            closing: AtomicBool::new(false),
        });
        let (commands, command_rx) = mpsc::channel(config.max_outstanding.max(1));
        let (events, event_rx) = mpsc::channel(config.event_capacity.max(1));
        let _ = events.try_send(WatchedEvent::state(KeeperState::SyncConnected));
        let (read_half, write_half) = stream.into_split();
        let ms = u64::try_from(timeout_ms).unwrap_or(1).max(3);
        tokio::spawn(write_loop(
            write_half,
            command_rx,
            shared.clone(),
            Duration::from_millis(ms / 3),
        ));
        tokio::spawn(read_loop(
            read_half,
            decoder,
            shared.clone(),
            events.clone(),
            Duration::from_millis(ms * 2 / 3),
        ));
        Ok((
            Client {
                commands,
                shared,
                events,
                slots: Arc::new(Semaphore::new(config.max_outstanding.max(1))),
                session_id: response.session_id,
                timeout_ms,
            },
            event_rx,
        ))
    }

    /// The session id the server assigned.
    pub fn session_id(&self) -> SessionId {
        self.session_id
    }

    /// The negotiated session timeout, in ms.
    pub fn session_timeout_ms(&self) -> i32 {
        self.timeout_ms
    }

    /// Sends any request and waits for its reply.
    pub async fn request(&self, request: Request) -> Result<Response, ClientError> {
        let gone = || ClientError::ConnectionLoss("connection closed".into());
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| gone())?;
        let (reply, rx) = oneshot::channel();
        let waiter = Waiter::Request { reply, _slot: slot };
        self.commands
            .send(Command::Request(request, waiter))
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Sends an auth packet (`addauth scheme auth`) and waits for its answer.
    pub async fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<(), ClientError> {
        let gone = || ClientError::ConnectionLoss("connection closed".into());
        let (tx, rx) = oneshot::channel();
        let packet = AuthPacket {
            r#type: 0,
            scheme: scheme.into(),
            auth: auth.to_vec(),
        };
        self.commands
            .send(Command::Auth(packet, Waiter::Auth(tx)))
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
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
    /// ephemerals, answers, and closes the connection. Once it answered,
    /// the event channel gets `Closed` (as the Java client's watcher does).
    pub async fn close(&self) -> Result<(), ClientError> {
        self.shared.closing.store(true, Ordering::SeqCst);
        self.request(Request::CloseSession).await?;
        let _ = self
            .events
            .send(WatchedEvent::state(KeeperState::Closed))
            .await;
        Ok(())
    }
}

/// A reply whose body does not fit the request: the server broke protocol.
fn unexpected(op: OpCode) -> ClientError {
    ClientError::Protocol(ProtocolError::UnexpectedResponse { op })
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

/// Most bytes the writer gathers before one write.
const WRITE_BATCH_BYTES: usize = 64 * 1024;

async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut commands: mpsc::Receiver<Command>,
    shared: Arc<Shared>,
    ping_every: Duration,
) {
    let mut out = Vec::with_capacity(WRITE_BATCH_BYTES);
    let mut last_send = Instant::now();
    loop {
        tokio::select! {
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

async fn read_loop(
    mut rd: OwnedReadHalf,
    mut decoder: FrameDecoder,
    shared: Arc<Shared>,
    events: mpsc::Sender<WatchedEvent>,
    read_timeout: Duration,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let why = 'conn: loop {
        while let Some(frame) = match decoder.next_frame() {
            Ok(f) => f,
            Err(e) => break 'conn e.to_string(),
        } {
            let incoming = shared.session().receive(&frame);
            match incoming {
                Ok(Incoming::Reply {
                    waiter: Waiter::Request { reply, .. },
                    result,
                    ..
                }) => {
                    let _ = reply.send(result.map_err(ClientError::Server));
                }
                Ok(Incoming::Event(event)) => {
                    // Waits when the channel is full (back-pressure); a
                    // dropped receiver just means nobody listens.
                    let _ = events.send(event).await;
                }
                Ok(Incoming::Pong) => {}
                Ok(Incoming::Auth { waiter, err }) => {
                    if let Some(Waiter::Auth(reply)) = waiter {
                        let result = match err {
                            0 => Ok(()),
                            err => Err(ClientError::Server(err)),
                        };
                        let _ = reply.send(result);
                    }
                }
                // An auth waiter answered as a request (or the reverse)
                // cannot happen: the session keeps them in separate queues.
                Ok(Incoming::Reply { waiter, .. }) => {
                    waiter.fail(ClientError::Protocol(ProtocolError::UnexpectedResponse {
                        op: OpCode::Auth,
                    }));
                }
                Err(e) => break 'conn e.to_string(),
            }
        }
        match timeout(read_timeout, rd.read(&mut buf)).await {
            Err(_) => break 'conn "no reply within the read timeout".into(),
            Ok(Err(e)) => break 'conn e.to_string(),
            Ok(Ok(0)) => break 'conn "server closed the connection".into(),
            Ok(Ok(n)) => decoder.extend(&buf[..n]),
        }
    };
    let waiters = shared.session().lose();
    for w in waiters {
        w.fail(ClientError::ConnectionLoss(why.clone()));
    }
    if !shared.closing.load(Ordering::SeqCst) {
        let _ = events.try_send(WatchedEvent::state(KeeperState::Disconnected));
    }
}
