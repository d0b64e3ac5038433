//! [`WireBackend`]: chapter 1's zkCli shell, over the wire.
//!
//! The shell's commands are written against a [`Backend`] trait (the Java
//! `ZooKeeper` object's surface). Here each method becomes one request to a
//! real server through [`Client`], so `keeper cli -server host:port` prints
//! what zkCli prints: the parser and printer are chapter 1's, only the
//! transport is new. The trait is synchronous, so the backend owns a small
//! tokio runtime and blocks on each call.
//!
//! Watch notifications arrive on their own. By default the shell prints them
//! in a `WATCHER::` block before the next command's output
//! ([`Backend::take_events`]); [`WireBackend::print_events_as_they_arrive`]
//! prints them the moment they arrive instead, as zkCli's event thread does.
//!
//! Three zkCli commands the local shell has no use for exist only here, as
//! extra commands: `addauth scheme auth`, `whoami` and `sync path`.

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};

use ch01_znode::shell::{Backend, Line};
use ch01_znode::txn::Request as Op;
use ch01_znode::{Acl, CreateMode, Stat, TxnResult, ZkError};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

use super::connection::{Client, ClientConfig, ClientError};
use crate::proto::{
    CheckVersionRequest, CreateRequest, CreateTtlRequest, DeleteRequest, ExistsRequest,
    GetAclRequest, GetAllChildrenNumberRequest, GetChildren2Request, GetEphemeralsRequest, MultiOp,
    MultiRequest, OpResult, Request, Response, SetAclRequest, SetDataRequest, SyncRequest,
    WatchedEvent,
};

/// The shell's backend over a real connection.
pub struct WireBackend {
    runtime: Runtime,
    client: Client,
    events: Option<mpsc::Receiver<WatchedEvent>>,
    connect_string: String,
    closed: bool,
}

/// The first address of a zkCli connect string (`host:port[,host:port...]`)
/// that accepts a session.
fn resolve(connect_string: &str) -> Vec<SocketAddr> {
    connect_string
        .split(',')
        .filter_map(|hp| hp.trim().to_socket_addrs().ok())
        .flatten()
        .collect()
}

impl WireBackend {
    /// Connects to the first server in `connect_string` that answers, asking
    /// for zkCli's 30 s session timeout.
    pub fn connect(connect_string: &str) -> Result<WireBackend, ClientError> {
        WireBackend::connect_with(connect_string, ClientConfig::default())
    }

    /// [`WireBackend::connect`] with a chosen timeout and queue sizes.
    pub fn connect_with(
        connect_string: &str,
        config: ClientConfig,
    ) -> Result<WireBackend, ClientError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| ClientError::ConnectionLoss(e.to_string()))?;
        let mut last = ClientError::ConnectionLoss(format!("no address in {connect_string}"));
        for addr in resolve(connect_string) {
            match runtime.block_on(Client::connect(addr, config.clone())) {
                Ok((client, events)) => {
                    return Ok(WireBackend {
                        runtime,
                        client,
                        events: Some(events),
                        connect_string: connect_string.to_string(),
                        closed: false,
                    })
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Prints each watch notification to `out` as soon as it arrives (a
    /// `WATCHER::` block, as zkCli's event thread prints it) instead of
    /// before the next command's output.
    pub fn print_events_as_they_arrive(&mut self, mut out: Box<dyn Write + Send>) {
        if let Some(mut events) = self.events.take() {
            self.runtime.spawn(async move {
                while let Some(event) = events.recv().await {
                    let _ = write!(out, "\nWATCHER::\n\n{event}\n");
                    let _ = out.flush();
                }
            });
        }
    }

    /// The underlying client, for anything the shell does not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn call(&mut self, request: Request) -> Result<Response, ZkError> {
        if self.closed {
            return Err(ZkError::SessionExpired);
        }
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
/// mode (container → 19, TTL → 21, else 1).
fn create_request(path: &str, data: Option<Vec<u8>>, acl: Vec<Acl>, mode: CreateMode) -> MultiOp {
    let (path, flags) = (path.to_string(), mode.flag());
    match mode {
        CreateMode::Container => MultiOp::CreateContainer(CreateRequest {
            path,
            data,
            acl,
            flags,
        }),
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
        OpResult::Create2(_, r) => TxnResult::Created {
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
        if self.closed {
            "CLOSED"
        } else {
            "CONNECTED"
        }
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
        if !self.closed {
            // Client::close, not a bare closeSession: it also queues the
            // `Closed` event that zkCli prints after `quit`.
            let result = self.runtime.block_on(self.client.close());
            self.closed = true;
            result.map_err(|e| e.zk_error().unwrap_or(ZkError::SystemError))?;
        }
        Ok(())
    }

    fn take_events(&mut self) -> Vec<WatchedEvent> {
        let mut out = Vec::new();
        if let Some(events) = self.events.as_mut() {
            while let Ok(e) = events.try_recv() {
                out.push(e);
            }
        }
        out
    }

    fn extra_commands(&self) -> Vec<(&'static str, &'static str)> {
        vec![("addauth", "scheme auth"), ("whoami", ""), ("sync", "path")]
    }

    fn run_extra(&mut self, args: &[String]) -> Option<Vec<Line>> {
        let failed = |e: ZkError| vec![Line::Err(e.keeper_message(None))];
        Some(match args.first().map(String::as_str)? {
            "addauth" if args.len() >= 3 => {
                let result = self
                    .runtime
                    .block_on(self.client.add_auth(&args[1], args[2].as_bytes()));
                match result {
                    Ok(()) => Vec::new(),
                    Err(e) => failed(e.zk_error().unwrap_or(ZkError::AuthFailed)),
                }
            }
            // zkCli's WhoAmICommand: a header, then `scheme: user` per identity.
            "whoami" => match self.call(Request::WhoAmI) {
                Ok(Response::WhoAmI(r)) => std::iter::once("Auth scheme: User".to_string())
                    .chain(
                        r.client_info
                            .iter()
                            .map(|c| format!("{}: {}", c.auth_scheme, c.user)),
                    )
                    .map(Line::Out)
                    .collect(),
                Ok(_) => failed(ZkError::MarshallingError),
                Err(e) => failed(e),
            },
            "sync" if args.len() >= 2 => {
                let path = args[1].clone();
                match self.call(Request::Sync(SyncRequest { path })) {
                    Ok(_) => vec![Line::Out("Sync is OK".into())],
                    Err(e) => failed(e),
                }
            }
            "addauth" | "sync" => {
                let usage = if args[0] == "sync" {
                    "sync path"
                } else {
                    "addauth scheme auth"
                };
                vec![Line::Err(format!("Usage: {usage}"))]
            }
            _ => return None,
        })
    }
}

/// `zkCli.sh -server <connect_string>`: connects, prints zkCli's banner, and
/// runs chapter 1's shell over the wire until `quit` or end of input. With
/// `prompt` (a terminal) watch events are printed the moment they arrive;
/// reading a pipe they come out before the next command's output, so a
/// scripted session prints deterministically.
pub fn run_cli(
    connect_string: &str,
    input: &mut dyn std::io::BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
    prompt: bool,
) -> std::io::Result<()> {
    let session = Session {
        connect_string,
        config: ClientConfig::default(),
        welcome: true,
        prompt,
    };
    session.run(input, out, err)
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
    fn run(
        self,
        input: &mut dyn std::io::BufRead,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> std::io::Result<()> {
        writeln!(out, "Connecting to {}", self.connect_string)?;
        let mut backend =
            WireBackend::connect_with(self.connect_string, self.config).map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::ConnectionRefused, e.to_string())
            })?;
        if self.welcome {
            // ZooKeeperMain prints these once the client object exists; this
            // shell has no JLine, like zkCli without jline on its classpath.
            writeln!(out, "Welcome to ZooKeeper!")?;
            writeln!(out, "JLine support is disabled")?;
        }
        if self.prompt {
            backend.print_events_as_they_arrive(Box::new(std::io::stdout()));
        }
        let mut shell = ch01_znode::shell::Shell::new(backend);
        ch01_znode::shell::repl::run(&mut shell, input, out, err, self.prompt)
    }
}

/// `zkCli.sh -server <connect_string> <command>`: one command, then exit.
/// Only `Connecting to` comes before the output (no welcome banner).
pub fn run_one_command(
    connect_string: &str,
    command: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    let session = Session {
        connect_string,
        config: ClientConfig::default(),
        welcome: false,
        prompt: false,
    };
    session.run(&mut format!("{command}\n").as_bytes(), out, err)
}

/// `keeper cli ARGS`: zkCli's own command line (`ZooKeeperMain`), for the
/// root binary to hand its arguments to. `-server host:port[,...]`
/// (default `localhost:2181`), `-timeout ms` (default 30000), `-r` accepted
/// and ignored; anything after the options is one command to run before
/// exiting, as `zkCli.sh -server h:p ls /` does. Returns the exit code.
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
    let stdin = std::io::stdin();
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let one_command = !command.is_empty();
    let session = Session {
        connect_string: &connect_string,
        config,
        welcome: !one_command,
        prompt: !one_command && stdin.is_terminal(),
    };
    let result = if one_command {
        run_one_command(&connect_string, &command.join(" "), &mut out, &mut err)
    } else {
        session.run(&mut stdin.lock(), &mut out, &mut err)
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}
