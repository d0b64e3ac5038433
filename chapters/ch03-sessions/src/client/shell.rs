//! [`WireBackend`]: chapter 1's zkCli shell, over the wire.
//!
//! The shell's commands are written against a [`Backend`] trait (the Java
//! `ZooKeeper` object's surface). Here each method becomes one request to a
//! real server through [`Client`], so `keeper cli -server host:port` prints
//! what zkCli prints: the parser and printer are chapter 1's, only the
//! transport is new. The trait is synchronous, so the backend owns a small
//! tokio runtime and blocks on each call.
//!
//! The client is the reconnecting kind ([`Client::start`]): given
//! `host1:port,host2:port`, it moves to the next server when a connection
//! is lost, keeps the session and sets its watches again, and zkCli's
//! `Disconnected` / `SyncConnected` events say so. Watch notifications
//! arrive on their own; the shell's loop ([`run_cli`]) prints them as soon
//! as they come when it is waiting for input, and before a command's output
//! when they came while it ran (a notification travels ahead of the reply
//! that caused it), so a scripted session prints the same every time.

use std::io::{BufRead, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

use ch01_znode::shell::command::Reconfig;
use ch01_znode::shell::repl::emit;
use ch01_znode::shell::{Backend, Shell};
use ch01_znode::txn::Request as Op;
use ch01_znode::{Acl, AddWatchMode, CreateMode, Stat, TxnResult, WatcherType, ZkError};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

use super::connection::{Client, ClientConfig, ClientError, Wake};
use crate::proto::{
    CheckVersionRequest, CreateRequest, CreateTtlRequest, DeleteRequest, ExistsRequest,
    GetAclRequest, GetAllChildrenNumberRequest, GetChildren2Request, GetEphemeralsRequest, MultiOp,
    MultiRequest, OpResult, ReconfigRequest, Request, Response, SetAclRequest, SetDataRequest,
    SyncRequest, WatchedEvent,
};

/// The shell's backend over a real connection.
pub struct WireBackend {
    runtime: Runtime,
    client: Client,
    events: mpsc::Receiver<WatchedEvent>,
    /// Events of a session that `connect` replaced, not printed yet.
    carried: Vec<WatchedEvent>,
    connect_string: String,
    config: ClientConfig,
    /// Rung for each event, so a shell waiting for input can print it.
    wake: Option<Wake>,
}

/// The addresses of a zkCli connect string (`host:port[,host:port...]`), in
/// order (the Java client shuffles them; we keep them as given, so a test
/// knows which comes next).
fn resolve(connect_string: &str) -> Vec<SocketAddr> {
    connect_string
        .split(',')
        .filter_map(|hp| hp.trim().to_socket_addrs().ok())
        .flatten()
        .collect()
}

/// A new client for `connect_string`, once its first round of servers is
/// settled (connected, or each tried once).
fn start(
    runtime: &Runtime,
    config: &ClientConfig,
    wake: Option<&Wake>,
    connect_string: &str,
) -> (Client, mpsc::Receiver<WatchedEvent>) {
    let hosts = resolve(connect_string);
    let limit = config.connect_timeout * (hosts.len().max(1) as u32);
    let (client, events) = {
        let _inside = runtime.enter();
        Client::start(hosts, config.clone())
    };
    if let Some(wake) = wake {
        client.on_event(wake.clone());
    }
    runtime.block_on(client.settled(limit));
    (client, events)
}

impl WireBackend {
    /// Connects to the first server in `connect_string` that answers, asking
    /// for zkCli's 30 s session timeout.
    pub fn connect(connect_string: &str) -> Result<WireBackend, ClientError> {
        WireBackend::connect_with(connect_string, ClientConfig::default())
    }

    /// Starts a session with the servers of `connect_string`, with a chosen
    /// timeout and queue sizes, and waits (boundedly) until it is connected or
    /// every server was tried once. Only a connect string naming no address
    /// at all is an error.
    pub fn connect_with(
        connect_string: &str,
        config: ClientConfig,
    ) -> Result<WireBackend, ClientError> {
        if resolve(connect_string).is_empty() {
            let why = format!("no address in {connect_string}");
            return Err(ClientError::ConnectionLoss(why));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| ClientError::ConnectionLoss(e.to_string()))?;
        let (client, events) = start(&runtime, &config, None, connect_string);
        Ok(WireBackend {
            runtime,
            client,
            events,
            carried: Vec::new(),
            connect_string: connect_string.to_string(),
            config,
            wake: None,
        })
    }

    /// Calls `wake` whenever an event arrives (after it can be taken).
    pub fn on_event(&mut self, wake: Wake) {
        self.client.on_event(wake.clone());
        self.wake = Some(wake);
    }

    /// The underlying client, for anything the shell does not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn call(&mut self, request: Request) -> Result<Response, ZkError> {
        self.runtime
            .block_on(self.client.request(request))
            .map_err(|e| e.zk_error().unwrap_or(ZkError::SystemError))
    }
}

/// A reply body that does not belong to the request: the server broke
/// protocol, which the Java client reports as a marshalling error.
fn mismatch<T>(_: Response) -> Result<T, ZkError> {
    Err(ZkError::MarshallingError)
}

/// The request a create becomes: the Java client picks the opcode from the
/// mode (container → 19, TTL → 21, else 1); a sequential container is 19 with flag 2.
fn create_request(path: &str, data: Option<Vec<u8>>, acl: Vec<Acl>, mode: CreateMode) -> MultiOp {
    let (path, flags) = (path.to_string(), mode.flag());
    match mode {
        CreateMode::Container | CreateMode::ContainerSequential => {
            MultiOp::CreateContainer(CreateRequest {
                path,
                data,
                acl,
                flags,
            })
        }
        CreateMode::PersistentWithTtl(ttl) | CreateMode::PersistentSequentialWithTtl(ttl) => {
            MultiOp::CreateTtl(CreateTtlRequest {
                path,
                data,
                acl,
                flags,
                ttl,
            })
        }
        _ => MultiOp::Create(CreateRequest {
            path,
            data,
            acl,
            flags,
        }),
    }
}

/// One of chapter 1's multi ops as a wire op.
fn multi_op(op: Op) -> Result<MultiOp, ZkError> {
    Ok(match op {
        Op::Create {
            path,
            data,
            acl,
            mode,
        } => create_request(&path, data, acl, mode),
        Op::Delete { path, version } => MultiOp::Delete(DeleteRequest { path, version }),
        Op::SetData {
            path,
            data,
            version,
        } => MultiOp::SetData(SetDataRequest {
            path,
            data,
            version,
        }),
        Op::Check { path, version } => MultiOp::Check(CheckVersionRequest { path, version }),
        // setACL, nested multis and session ops cannot travel inside a multi.
        _ => return Err(ZkError::BadArguments),
    })
}

/// A wire op result as chapter 1's result, given the op's path.
fn txn_result(result: OpResult, path: String) -> TxnResult {
    match result {
        OpResult::Create(r) => TxnResult::Created {
            path: r.path,
            stat: Stat::default(),
        },
        OpResult::Create2(r) => TxnResult::Created {
            path: r.path,
            stat: r.stat,
        },
        OpResult::Delete => TxnResult::Deleted { path },
        OpResult::SetData(r) => TxnResult::DataSet { path, stat: r.stat },
        OpResult::Check => TxnResult::Checked { path },
        OpResult::GetChildren(_) | OpResult::GetData(_) => TxnResult::Checked { path },
        OpResult::Error(code) => TxnResult::Error { code },
    }
}

impl Backend for WireBackend {
    fn connect_string(&self) -> String {
        self.connect_string.clone()
    }

    fn state(&self) -> &'static str {
        self.client.state().name()
    }

    fn create(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        mode: CreateMode,
    ) -> Result<String, ZkError> {
        let request = match create_request(path, data, acl, mode) {
            MultiOp::CreateContainer(r) => Request::CreateContainer(r),
            MultiOp::CreateTtl(r) => Request::CreateTtl(r),
            MultiOp::Create(r) => Request::Create(r),
            _ => return Err(ZkError::BadArguments),
        };
        match self.call(request)? {
            Response::Create(r) => Ok(r.path),
            Response::Create2(r) => Ok(r.path),
            other => mismatch(other),
        }
    }

    fn delete(&mut self, path: &str, version: i32) -> Result<(), ZkError> {
        let path = path.to_string();
        self.call(Request::Delete(DeleteRequest { path, version }))
            .map(|_| ())
    }

    fn set_data(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        version: i32,
    ) -> Result<Stat, ZkError> {
        let path = path.to_string();
        match self.call(Request::SetData(SetDataRequest {
            path,
            data,
            version,
        }))? {
            Response::SetData(r) => Ok(r.stat),
            other => mismatch(other),
        }
    }

    fn get_data(&mut self, path: &str, watch: bool) -> Result<(Option<Vec<u8>>, Stat), ZkError> {
        let path = path.to_string();
        match self.call(Request::GetData(crate::proto::GetDataRequest {
            path,
            watch,
        }))? {
            Response::GetData(r) => Ok((r.data, r.stat)),
            other => mismatch(other),
        }
    }

    fn exists(&mut self, path: &str, watch: bool) -> Result<Stat, ZkError> {
        let path = path.to_string();
        match self.call(Request::Exists(ExistsRequest { path, watch }))? {
            Response::Exists(r) => Ok(r.stat),
            other => mismatch(other),
        }
    }

    /// zkCli's `ls` sends getChildren2 (12), which answers with the stat too.
    fn get_children(&mut self, path: &str, watch: bool) -> Result<(Vec<String>, Stat), ZkError> {
        let path = path.to_string();
        match self.call(Request::GetChildren2(GetChildren2Request { path, watch }))? {
            Response::GetChildren2(r) => Ok((r.children, r.stat)),
            other => mismatch(other),
        }
    }

    fn get_acl(&mut self, path: &str) -> Result<(Vec<Acl>, Stat), ZkError> {
        let path = path.to_string();
        match self.call(Request::GetAcl(GetAclRequest { path }))? {
            Response::GetAcl(r) => Ok((r.acl, r.stat)),
            other => mismatch(other),
        }
    }

    fn set_acl(&mut self, path: &str, acl: Vec<Acl>, version: i32) -> Result<Stat, ZkError> {
        let path = path.to_string();
        match self.call(Request::SetAcl(SetAclRequest { path, acl, version }))? {
            Response::SetAcl(r) => Ok(r.stat),
            other => mismatch(other),
        }
    }

    // ANCHOR: multi
    /// The reply to a failed multi is err 0 with one error result per op;
    /// like the Java client, report the first op that really failed.
    fn multi(&mut self, ops: Vec<Op>) -> Result<Vec<TxnResult>, ZkError> {
        let ops = ops
            .into_iter()
            .map(multi_op)
            .collect::<Result<Vec<_>, _>>()?;
        let paths: Vec<String> = ops.iter().map(|op| op.path().to_string()).collect();
        let results = match self.call(Request::Multi(MultiRequest { ops }))? {
            Response::Multi(m) => m.results,
            other => return mismatch(other),
        };
        let failed = results.iter().find_map(|r| match r {
            OpResult::Error(code) if *code != 0 => Some(*code),
            _ => None,
        });
        if let Some(code) = failed {
            return Err(ZkError::from_code(code).unwrap_or(ZkError::SystemError));
        }
        Ok(results
            .into_iter()
            .zip(paths)
            .map(|(r, p)| txn_result(r, p))
            .collect())
    }

    // ANCHOR_END: multi

    fn get_all_children_number(&mut self, path: &str) -> Result<i32, ZkError> {
        let path = path.to_string();
        match self.call(Request::GetAllChildrenNumber(GetAllChildrenNumberRequest {
            path,
        }))? {
            Response::GetAllChildrenNumber(r) => Ok(r.total_number),
            other => mismatch(other),
        }
    }

    fn get_ephemerals(&mut self, prefix: &str) -> Result<Vec<String>, ZkError> {
        let prefix_path = prefix.to_string();
        match self.call(Request::GetEphemerals(GetEphemeralsRequest { prefix_path }))? {
            Response::GetEphemerals(r) => Ok(r.ephemerals),
            other => mismatch(other),
        }
    }

    fn close(&mut self) -> Result<(), ZkError> {
        // Client::close, not a bare closeSession: it also queues the `Closed`
        // event that zkCli prints after `close`.
        let result = self.runtime.block_on(self.client.close());
        result.map_err(|e| e.zk_error().unwrap_or(ZkError::SystemError))
    }

    /// zkCli's `connect`: the old session is closed (if alive), a new one is
    /// started at `connect_string`; the old session's last events are still
    /// printed.
    fn connect(&mut self, connect_string: &str) {
        if self.is_alive() {
            let _ = self.runtime.block_on(self.client.close());
        }
        let old = self.take_events();
        self.carried.extend(old);
        let wake = self.wake.as_ref();
        (self.client, self.events) = start(&self.runtime, &self.config, wake, connect_string);
        self.connect_string = connect_string.to_string();
    }

    /// The Java client does not wait for the answer: credentials the server
    /// refuses show up as an `AuthFailed` event, and the session ends.
    fn add_auth(&mut self, scheme: &str, auth: Option<&[u8]>) -> Result<(), ZkError> {
        let auth = auth.unwrap_or_default();
        let _ = self.runtime.block_on(self.client.add_auth(scheme, auth));
        Ok(())
    }

    fn who_am_i(&mut self) -> Result<Vec<(String, String)>, ZkError> {
        match self.call(Request::WhoAmI)? {
            Response::WhoAmI(r) => Ok(r
                .client_info
                .into_iter()
                .map(|c| (c.auth_scheme, c.user))
                .collect()),
            other => mismatch(other),
        }
    }

    fn sync(&mut self, path: &str) -> Result<(), ZkError> {
        let path = path.to_string();
        self.call(Request::Sync(SyncRequest { path: Some(path) }))
            .map(drop)
    }

    fn add_watch(&mut self, path: &str, mode: AddWatchMode) -> Result<(), ZkError> {
        let recursive = mode == AddWatchMode::PersistentRecursive;
        let added = self
            .runtime
            .block_on(self.client.add_watch(path, recursive));
        added.map_err(|e| e.zk_error().unwrap_or(ZkError::SystemError))
    }

    fn remove_watches(
        &mut self,
        path: &str,
        kind: WatcherType,
        local: bool,
    ) -> Result<(), ZkError> {
        let removed = self
            .runtime
            .block_on(self.client.remove_watches(path, kind, local));
        removed.map_err(|e| e.zk_error().unwrap_or(ZkError::SystemError))
    }

    fn reconfig(&mut self, change: &Reconfig) -> Result<(Option<Vec<u8>>, Stat), ZkError> {
        let request = ReconfigRequest {
            joining_servers: change.joining.clone(),
            leaving_servers: change.leaving.clone(),
            new_members: change.members.clone(),
            cur_config_id: change.version,
        };
        match self.call(Request::Reconfig(request))? {
            Response::GetData(r) => Ok((r.data, r.stat)),
            other => mismatch(other),
        }
    }

    fn take_events(&mut self) -> Vec<WatchedEvent> {
        let mut out = std::mem::take(&mut self.carried);
        while let Ok(e) = self.events.try_recv() {
            out.push(e);
        }
        out
    }
}

/// What the shell's loop waits for: a line, the end of the input, or an
/// event to print.
enum Input {
    Line(String),
    End,
    Event,
}

/// Reads lines from `input` into `to` until the end (or an unreadable line),
/// as `BufferedReader.readLine` gives them: without `\n` or `\r\n`.
fn read_lines(input: &mut dyn BufRead, to: &Sender<Input>) {
    let mut line = String::new();
    loop {
        line.clear();
        match input.read_line(&mut line) {
            Ok(n) if n > 0 => {
                let typed = line.trim_end_matches(['\n', '\r']).to_string();
                if to.send(Input::Line(typed)).is_err() {
                    return;
                }
            }
            _ => break,
        }
    }
    let _ = to.send(Input::End);
}

/// The loop: each line runs as a command (the events that came meanwhile
/// first); while it waits for a line, events are printed as they arrive,
/// as zkCli's event thread prints them. With `prompt`, the prompt is shown
/// before each line. At the end of the input the session is closed.
fn drive(
    shell: &mut Shell<WireBackend>,
    inputs: &Receiver<Input>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    prompt: bool,
) -> std::io::Result<()> {
    emit(&shell.pending_events(), out, err)?;
    while !shell.has_quit() {
        if prompt {
            write!(out, "{}", shell.prompt())?;
            out.flush()?;
        }
        let line = loop {
            match inputs.recv() {
                Ok(Input::Line(line)) => break Some(line),
                Ok(Input::End) | Err(_) => break None,
                Ok(Input::Event) => {
                    let events = shell.pending_events();
                    emit(&events, out, err)?;
                    if prompt && !events.is_empty() {
                        write!(out, "{}", shell.prompt())?;
                        out.flush()?;
                    }
                }
            }
        };
        let Some(line) = line else {
            if prompt {
                writeln!(out)?;
            }
            // Like zkCli's exit, but the session is ended rather than left to expire.
            let _ = shell.backend.close();
            break;
        };
        emit(&shell.execute_line(&line), out, err)?;
    }
    Ok(())
}

/// How one zkCli session runs.
struct Session<'a> {
    connect_string: &'a str,
    config: ClientConfig,
    /// The interactive banner; a one-command run (`zkCli.sh -server h cmd`)
    /// prints only `Connecting to`.
    welcome: bool,
    prompt: bool,
}

impl Session<'_> {
    /// Connects, prints the banner, and runs the loop on what `inputs` brings
    /// (`events` is its sending end, rung by the client); returns zkCli's exit
    /// status.
    fn run(
        self,
        inputs: &Receiver<Input>,
        events: Sender<Input>,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> std::io::Result<i32> {
        writeln!(out, "Connecting to {}", self.connect_string)?;
        let mut backend =
            WireBackend::connect_with(self.connect_string, self.config).map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::ConnectionRefused, e.to_string())
            })?;
        let events = std::sync::Mutex::new(events);
        backend.on_event(Arc::new(move || {
            let events = events.lock().unwrap_or_else(|e| e.into_inner());
            let _ = events.send(Input::Event);
        }));
        if self.welcome {
            // ZooKeeperMain prints these once the client object exists; this
            // shell has no JLine, like zkCli without jline on its classpath.
            writeln!(out, "Welcome to ZooKeeper!")?;
            writeln!(out, "JLine support is disabled")?;
        }
        let mut shell = Shell::new(backend);
        drive(&mut shell, inputs, out, err, self.prompt)?;
        Ok(shell.exit_code())
    }

    /// Runs on the lines of `input`, read by a thread of their own.
    fn run_on(
        self,
        input: &mut (dyn BufRead + Send),
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> std::io::Result<i32> {
        let (to, inputs) = channel();
        let events = to.clone();
        std::thread::scope(|scope| {
            scope.spawn(move || read_lines(input, &to));
            self.run(&inputs, events, out, err)
        })
    }
}

/// `zkCli.sh -server <connect_string>`: connects, prints zkCli's banner, and
/// runs chapter 1's shell over the wire until `quit` or end of input; with
/// `prompt` (a terminal) the prompt is shown. Returns zkCli's exit status:
/// 1 if the last command failed.
pub fn run_cli(
    connect_string: &str,
    input: &mut (dyn BufRead + Send),
    out: &mut dyn Write,
    err: &mut dyn Write,
    prompt: bool,
) -> std::io::Result<i32> {
    let session = Session {
        connect_string,
        config: ClientConfig::default(),
        welcome: true,
        prompt,
    };
    session.run_on(input, out, err)
}

/// `zkCli.sh -server <connect_string> <command>`: one command, then exit.
/// Only `Connecting to` comes before the output (no welcome banner).
pub fn run_one_command(
    connect_string: &str,
    command: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    let session = Session {
        connect_string,
        config: ClientConfig::default(),
        welcome: false,
        prompt: false,
    };
    session.run_on(&mut format!("{command}\n").as_bytes(), out, err)
}

/// `keeper cli ARGS`: zkCli's own command line (`ZooKeeperMain`), for the
/// root binary to hand its arguments to. `-server host:port[,...]`
/// (default `localhost:2181`), `-timeout ms` (default 30000), `-r` accepted
/// and ignored; anything after the options is one command to run before
/// exiting, as `zkCli.sh -server h:p ls /` does. Returns the exit code: 1
/// if the last command failed, as zkCli's.
pub fn zkcli_main(args: &[String]) -> i32 {
    use std::io::IsTerminal;
    let mut connect_string = "localhost:2181".to_string();
    let mut config = ClientConfig::default();
    let mut command = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-server" if command.is_empty() => {
                connect_string = args.next().cloned().unwrap_or(connect_string);
            }
            "-timeout" if command.is_empty() => {
                let ms = args.next().and_then(|t| t.parse().ok());
                config.session_timeout_ms = ms.unwrap_or(config.session_timeout_ms);
            }
            "-r" if command.is_empty() => {}
            _ => command.push(arg.clone()),
        }
    }
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let one_command = !command.is_empty();
    let session = Session {
        connect_string: &connect_string,
        config,
        welcome: !one_command,
        prompt: !one_command && std::io::stdin().is_terminal(),
    };
    let result = if one_command {
        let line = format!("{}\n", command.join(" "));
        session.run_on(&mut line.as_bytes(), &mut out, &mut err)
    } else {
        // Stdin is read by a thread of its own, left behind when `quit` ends
        // the process.
        let (to, inputs) = channel();
        let events = to.clone();
        std::thread::spawn(move || read_lines(&mut std::io::stdin().lock(), &to));
        session.run(&inputs, events, &mut out, &mut err)
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}
