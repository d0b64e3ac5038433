//! A zkCli-style shell, in three layers.
//!
//! ```text
//!   line ──parse──▶ Command ──Shell::execute──▶ Backend calls ──▶ results ──printer──▶ Lines
//! ```
//!
//! * [`command`] turns a typed line into a [`Command`] exactly as zkCli's parser would,
//!   including its error texts for bad input.
//! * [`Backend`] is the client API the commands run on — the methods of ZooKeeper's Java
//!   client. [`LocalBackend`] runs them on an in-memory tree. Chapter 2 implements the trait
//!   for several named clients with watches (its `take_events` feeds the `WATCHER::` lines,
//!   its `extra_commands`/`run_extra` add commands such as switching clients), chapter 3 over
//!   the wire; neither needs to touch the parser, the command logic or the printer.
//! * [`printer`] produces zkCli's texts, each [`Line`] tagged with the stream zkCli writes it
//!   to (`Created /a` and every error go to stderr).
//!
//! [`Shell`] holds the parts together and is the zkCli logic in between (`ZooKeeperMain`):
//! client-side path checks, `ls -R`'s walk, `deleteall` as batched multis of deletes
//! deepest-first, the quota commands ([`quota`]), the command counter in the prompt, the
//! history that `redo` replays, whether watch events are printed, and `Not connected` for a
//! command that needs a session when there is none. [`repl`] drives it from a terminal, a
//! pipe or a file.

pub mod backend;
pub mod command;
pub mod printer;
pub mod quota;
pub mod repl;

pub use backend::{Backend, LocalBackend};
pub use command::{parse, Command, ParseError};
pub use printer::Line;

use std::collections::BTreeMap;

use crate::acl::Acl;
use crate::error::ZkError;
use crate::mode::CreateMode;
use crate::path::{join, validate_path, validate_path_for};
use crate::txn::Request;
use crate::watch::AddWatchMode;
use backend::CONFIG_NODE;
use command::{java_decode, tokenize, Parsed};
use printer::{acl_lines, cli_message, error_message, java_list, stat_block, usage, watcher_lines};

/// What `version` reports as the CLI's version (zkCli prints its jar's build).
pub const CLI_VERSION: &str = concat!("Keeper ", env!("CARGO_PKG_VERSION"), " (zkCli 3.8)");

/// A command failed: what to print on stderr.
type Failure = Vec<Line>;

/// A server error on `path`, as zkCli prints it.
fn server_error(path: &str) -> impl Fn(ZkError) -> Failure + '_ {
    move |e| vec![Line::Err(error_message(e, path))]
}

/// A server error whose exception names no path.
fn pathless(e: ZkError) -> Failure {
    vec![Line::Err(cli_message(e, None))]
}

/// The Java client's own path check, before anything is sent.
fn check_path(path: &str) -> Result<(), Failure> {
    validate_path(path).map_err(|e| vec![Line::Err(e.to_string())])
}

/// The shell: a backend, the command counter, the history and zkCli's two settings.
pub struct Shell<B: Backend> {
    pub backend: B,
    command_count: usize,
    /// Every line entered, at its number; `redo n` puts line `n` at its own number.
    history: Vec<String>,
    quit: bool,
    /// `printwatches`: events that arrive while it is off are never printed.
    print_watches: bool,
    /// The mode `addWatch` uses without `-m`: the last one it was given, per zkCli (a zkCli
    /// per client, named by its connect string: chapter 2's shell holds several).
    add_watch_modes: BTreeMap<String, AddWatchMode>,
    /// Whether the last command failed (a `CliException`): zkCli's exit code.
    failed: bool,
}

impl<B: Backend> Shell<B> {
    pub fn new(backend: B) -> Shell<B> {
        Shell {
            backend,
            command_count: 0,
            history: Vec::new(),
            quit: false,
            print_watches: true,
            add_watch_modes: BTreeMap::new(),
            failed: false,
        }
    }

    /// `[zk: local(CONNECTED) 0] `: connect string, state, command counter.
    pub fn prompt(&self) -> String {
        format!(
            "[zk: {}({}) {}] ",
            self.backend.connect_string(),
            self.backend.state(),
            self.command_count
        )
    }

    /// True once `quit` has run.
    pub fn has_quit(&self) -> bool {
        self.quit
    }

    /// Whether events are printed (`printwatches on`).
    pub fn print_watches(&self) -> bool {
        self.print_watches
    }

    /// zkCli's exit status: 1 if the last command failed, else 0.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.failed)
    }

    fn all_commands(&self) -> Vec<(&'static str, &'static str)> {
        let extra = self.backend.extra_commands();
        let mut all: Vec<_> = command::COMMANDS
            .iter()
            .filter(|(name, _)| !extra.iter().any(|(e, _)| e == name))
            .copied()
            .collect();
        all.extend(extra);
        all
    }

    // ANCHOR: execute_line
    /// Runs one typed line (`ZooKeeperMain.executeLine`) and returns what zkCli would print,
    /// the watch notifications that arrived meanwhile first.
    pub fn execute_line(&mut self, line: &str) -> Vec<Line> {
        if line.is_empty() {
            return Vec::new();
        }
        self.history.push(line.to_string());
        let mut out = self.process(line);
        self.command_count += 1;
        let mut events = self.pending_events();
        events.append(&mut out);
        events
    }
    // ANCHOR_END: execute_line

    /// zkCli's default watcher's lines for the events that arrived (none while
    /// `printwatches` is off: those events are dropped, as zkCli's watcher drops them).
    pub fn pending_events(&mut self) -> Vec<Line> {
        let events = self.backend.take_events();
        match self.print_watches {
            true => events.iter().flat_map(watcher_lines).collect(),
            false => Vec::new(),
        }
    }

    /// `ZooKeeperMain.processCmd`: an unknown name gets the usage block; `ZooKeeperMain`'s own
    /// commands run whatever the session's state; every other command needs a live session.
    fn process(&mut self, line: &str) -> Vec<Line> {
        let extra: Vec<&str> = self
            .backend
            .extra_commands()
            .iter()
            .map(|(name, _)| *name)
            .collect();
        let parsed = parse(line, &extra);
        let alive = self.backend.is_alive();
        let (command, warnings) = match parsed {
            Err(ParseError::NotFound(name)) => {
                self.failed = true;
                let mut out = usage(&self.all_commands());
                let text = format!("Command not found: Command not found {name}");
                out.push(Line::Err(text));
                return out;
            }
            Ok(None) => return Vec::new(),
            Ok(Some(Parsed {
                command: Command::Extra(args),
                ..
            })) => {
                self.failed = false;
                return self.backend.run_extra(&args).unwrap_or_default();
            }
            Ok(Some(Parsed { command, .. })) if command.is_main() => {
                let mut out = self.main_command(command);
                if !self.quit && !self.backend.is_alive() {
                    out.push(Line::Out("Not connected".into()));
                }
                return out;
            }
            _ if !alive => {
                self.failed = false;
                return vec![Line::Out("Not connected".into())];
            }
            Err(ParseError::Message(message)) => {
                self.failed = true;
                return vec![Line::Err(message)];
            }
            Ok(Some(Parsed { command, warnings })) => (command, warnings),
        };
        let mut out: Vec<Line> = warnings.into_iter().map(Line::Err).collect();
        let result = self.execute(command);
        self.failed = result.is_err();
        match result {
            Ok(lines) | Err(lines) => out.extend(lines),
        }
        out
    }

    /// `ZooKeeperMain`'s own commands. All but `quit` succeed unless `redo` fails; `quit`
    /// leaves the exit status as the command before it set it.
    fn main_command(&mut self, command: Command) -> Vec<Line> {
        if !matches!(command, Command::Quit) {
            self.failed = false;
        }
        match command {
            Command::Quit => {
                // The session ends (its ephemerals with it), then the process.
                let _ = self.backend.close();
                self.quit = true;
                vec![]
            }
            Command::Redo(Some(number)) => self.redo(&number),
            Command::History => {
                let first = self.command_count.saturating_sub(10);
                (first..=self.command_count)
                    .filter_map(|i| Some(Line::Out(format!("{i} - {}", self.history.get(i)?))))
                    .collect()
            }
            Command::PrintWatches(None) => {
                let state = if self.print_watches { "on" } else { "off" };
                vec![Line::Out(format!("printwatches is {state}"))]
            }
            Command::PrintWatches(Some(value)) => {
                self.print_watches = value == "on";
                vec![]
            }
            Command::Connect(host) => {
                let old = self.backend.connect_string();
                let host = host.unwrap_or_else(|| old.clone());
                self.backend.connect(&host);
                // Still the same zkCli, with the same addWatch command.
                if let Some(mode) = self.add_watch_modes.remove(&old) {
                    self.add_watch_modes
                        .insert(self.backend.connect_string(), mode);
                }
                vec![]
            }
            // `redo` alone does nothing.
            _ => vec![],
        }
    }

    /// `redo n`: runs line `n` again as this line's own, unless it was a `redo` itself.
    fn redo(&mut self, number: &str) -> Vec<Line> {
        let fail = |shell: &mut Self, text: String| {
            shell.failed = true;
            vec![Line::Err(text)]
        };
        // zkCli dies with this exception's stack trace; we print its first line.
        let n = match java_decode(number) {
            Ok(n) => n,
            Err(text) => return fail(self, text),
        };
        let Some(line) = usize::try_from(n)
            .ok()
            .filter(|&n| n < self.command_count)
            .map(|n| self.history[n].clone())
        else {
            return fail(self, "Command index out of range".into());
        };
        if tokenize(&line).first().map(String::as_str) == Some("redo") {
            return fail(self, "No redoing redos".into());
        }
        self.history[self.command_count] = line.clone();
        let out = self.process(&line);
        // The outer command succeeded, whatever the line it ran did.
        self.failed = false;
        out
    }

    // ANCHOR: execute
    /// Runs one parsed command.
    pub fn execute(&mut self, command: Command) -> Result<Vec<Line>, Failure> {
        let b = &mut self.backend;
        match command {
            Command::Ls {
                path,
                stat,
                watch,
                recursive: false,
            } => {
                check_path(&path)?;
                let (mut children, st) =
                    b.get_children(&path, watch).map_err(server_error(&path))?;
                children.sort();
                let mut out = vec![Line::Out(java_list(&children))];
                if stat {
                    out.extend(stat_block(&st));
                }
                Ok(out)
            }
            Command::Ls { path, watch, .. } => self.ls_recursive(&path, watch),
            Command::Get { path, stat, watch } => {
                check_path(&path)?;
                let (data, st) = b.get_data(&path, watch).map_err(server_error(&path))?;
                let mut out = vec![Line::Out(text_or_null(data))];
                if stat {
                    out.extend(stat_block(&st));
                }
                Ok(out)
            }
            Command::Stat { path, watch } => {
                check_path(&path)?;
                let st = b.exists(&path, watch).map_err(server_error(&path))?;
                Ok(stat_block(&st))
            }
            Command::Create {
                path,
                data,
                acl,
                mode,
            } => self.create(&path, data, acl, mode),
            Command::Set {
                path,
                data,
                version,
                stat,
            } => {
                check_path(&path)?;
                let st = b
                    .set_data(&path, Some(data), version)
                    .map_err(server_error(&path))?;
                Ok(if stat { stat_block(&st) } else { vec![] })
            }
            Command::Delete { path, version } => {
                check_path(&path)?;
                b.delete(&path, version).map_err(server_error(&path))?;
                Ok(vec![])
            }
            Command::DeleteAll { path, batch } => self.delete_all(&path, batch),
            Command::GetAcl { path, stat } => {
                check_path(&path)?;
                let (acl, st) = b.get_acl(&path).map_err(server_error(&path))?;
                let mut out = acl_lines(&acl);
                if stat {
                    out.extend(stat_block(&st));
                }
                Ok(out)
            }
            Command::SetAcl {
                path,
                acl,
                version,
                stat,
                recursive,
            } => self.set_acl(&path, acl, version, stat, recursive),
            Command::GetAllChildrenNumber { path } => {
                check_path(&path)?;
                let n = b
                    .get_all_children_number(&path)
                    .map_err(server_error(&path))?;
                Ok(vec![Line::Out(n.to_string())])
            }
            Command::GetEphemerals { path } => {
                check_path(&path)?;
                let list = b.get_ephemerals(&path).map_err(server_error(&path))?;
                Ok(vec![Line::Out(java_list(&list))])
            }
            Command::AddAuth { scheme, auth } => {
                b.add_auth(&scheme, auth.as_deref()).map_err(pathless)?;
                Ok(vec![])
            }
            // WhoAmICommand: a header, then `scheme: user` per identity.
            Command::WhoAmI => {
                let ids = b.who_am_i().map_err(pathless)?;
                let header = Line::Out("Auth scheme: User".into());
                let ids = ids.iter().map(|(s, u)| Line::Out(format!("{s}: {u}")));
                Ok(std::iter::once(header).chain(ids).collect())
            }
            Command::Sync { path } => {
                check_path(&path)?;
                Ok(vec![Line::Out(match b.sync(&path) {
                    Ok(()) => "Sync is OK".to_string(),
                    Err(e) => format!("Sync has failed. rc={}", e.code()),
                })])
            }
            Command::AddWatch { path, mode } => {
                let mode = self.add_watch_mode_for(mode);
                // zkCli 3.8 dies with the path's exception here; we print its message.
                check_path(&path)?;
                let b = &mut self.backend;
                b.add_watch(&path, mode).map_err(server_error(&path))?;
                Ok(vec![])
            }
            Command::RemoveWatches { path, kind, local } => {
                check_path(&path)?;
                let removed = b.remove_watches(&path, kind, local);
                removed.map_err(server_error(&path))?;
                Ok(vec![])
            }
            Command::Config {
                client,
                watch,
                stat,
            } => {
                let (data, st) = b.get_config(watch).map_err(server_error(CONFIG_NODE))?;
                let text = text_or_null(data);
                let text = if client {
                    client_addresses(&text)
                } else {
                    text
                };
                let mut out = vec![Line::Out(text)];
                if stat {
                    out.extend(stat_block(&st));
                }
                Ok(out)
            }
            Command::Reconfig(change) => {
                let (data, st) = b.reconfig(&change).map_err(pathless)?;
                let text = text_or_null(data);
                let mut out = vec![Line::Out(format!("Committed new configuration:\n{text}"))];
                if change.stat {
                    out.extend(stat_block(&st));
                }
                Ok(out)
            }
            Command::SetQuota {
                path,
                option,
                value,
            } => quota::set_quota(b, &path, option, &value),
            Command::ListQuota { path } => quota::list_quota(b, &path),
            Command::DelQuota { path, option } => quota::del_quota(b, &path, option),
            Command::Close => {
                b.close().map_err(pathless)?;
                Ok(vec![])
            }
            Command::Version => Ok(vec![Line::Out(format!(
                "ZooKeeper CLI version: {CLI_VERSION}"
            ))]),
            Command::Extra(args) => Ok(b.run_extra(&args).unwrap_or_default()),
            main => Ok(self.main_command(main)),
        }
    }
    // ANCHOR_END: execute

    /// `addWatch` keeps the last `-m` it was given and uses it when there is none.
    fn add_watch_mode_for(&mut self, mode: Option<AddWatchMode>) -> AddWatchMode {
        let zkcli = self.backend.connect_string();
        if let Some(mode) = mode {
            self.add_watch_modes.insert(zkcli.clone(), mode);
        }
        let remembered = self.add_watch_modes.get(&zkcli);
        remembered
            .copied()
            .unwrap_or(AddWatchMode::PersistentRecursive)
    }

    /// CreateCommand: `Created <actual path>` on stderr.
    fn create(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        mode: CreateMode,
    ) -> Result<Vec<Line>, Failure> {
        validate_path_for(path, mode.is_sequential())
            .map_err(|e| vec![Line::Err(e.to_string())])?;
        if acl.is_empty() {
            // The Java client refuses an empty ACL itself, with no path in the exception.
            let e = ZkError::InvalidAcl;
            return Err(vec![
                Line::Err(e.keeper_message(None)),
                Line::Err(error_message(e, "null")),
            ]);
        }
        let created = self
            .backend
            .create(path, data, acl, mode)
            .map_err(|e| match e {
                // CreateCommand prints InvalidACL's raw message before the wrapped one.
                ZkError::InvalidAcl => vec![
                    Line::Err(e.keeper_message(Some(path))),
                    Line::Err(error_message(e, path)),
                ],
                e => vec![Line::Err(error_message(e, path))],
            })?;
        Ok(vec![Line::Err(format!("Created {created}"))])
    }

    /// SetAclCommand; with `-R` every node of the subtree, parents first.
    fn set_acl(
        &mut self,
        path: &str,
        acl: Vec<Acl>,
        version: i32,
        stat: bool,
        recursive: bool,
    ) -> Result<Vec<Line>, Failure> {
        check_path(path)?;
        let paths = if recursive {
            self.walk(path, false)?
        } else {
            vec![path.to_string()]
        };
        let mut last = None;
        for p in &paths {
            if acl.is_empty() {
                // The Java client refuses it before sending, with no path in the exception.
                return Err(vec![Line::Err(error_message(ZkError::InvalidAcl, "null"))]);
            }
            let st = self
                .backend
                .set_acl(p, acl.clone(), version)
                .map_err(server_error(p))?;
            last = Some(st);
        }
        Ok(match (stat, last) {
            (true, Some(st)) => stat_block(&st),
            _ => vec![],
        })
    }

    // ANCHOR: ls_recursive
    /// `ZKUtil.visitSubTreeDFS`: the path, then at each node its children (sorted) before
    /// descending into each of them in turn.
    fn ls_recursive(&mut self, path: &str, watch: bool) -> Result<Vec<Line>, Failure> {
        check_path(path)?;
        Ok(self.walk(path, watch)?.into_iter().map(Line::Out).collect())
    }

    fn walk(&mut self, path: &str, watch: bool) -> Result<Vec<String>, Failure> {
        self.backend
            .get_data(path, watch)
            .map_err(server_error(path))?;
        let mut out = vec![path.to_string()];
        self.visit_children(path, watch, &mut out);
        Ok(out)
    }

    fn visit_children(&mut self, path: &str, watch: bool, out: &mut Vec<String>) {
        // A node deleted between listing and visiting is skipped, as upstream does.
        let Ok((mut children, _)) = self.backend.get_children(path, watch) else {
            return;
        };
        children.sort();
        let paths: Vec<String> = children.iter().map(|c| join(path, c)).collect();
        out.extend(paths.iter().cloned());
        for child in &paths {
            self.visit_children(child, watch, out);
        }
    }
    // ANCHOR_END: ls_recursive

    // ANCHOR: delete_all
    /// `ZKUtil.deleteRecursive`: list the subtree breadth-first, then delete it deepest-first
    /// in multis of at most `batch` deletes each.
    fn delete_all(&mut self, path: &str, batch: usize) -> Result<Vec<Line>, Failure> {
        check_path(path)?;
        let mut tree = vec![path.to_string()];
        let mut i = 0;
        while i < tree.len() {
            let (children, _) = self
                .backend
                .get_children(&tree[i], false)
                .map_err(server_error(path))?;
            let parent = tree[i].clone();
            tree.extend(children.iter().map(|c| join(&parent, c)));
            i += 1;
        }
        let deletes: Vec<Request> = tree
            .iter()
            .rev()
            .map(|p| Request::Delete {
                path: p.clone(),
                version: -1,
            })
            .collect();
        for ops in deletes.chunks(batch) {
            if self.backend.multi(ops.to_vec()).is_err() {
                return Err(vec![Line::Err(
                    "Failed to delete some node(s) in the subtree!".to_string(),
                )]);
            }
        }
        Ok(vec![])
    }
    // ANCHOR_END: delete_all
}

/// Data as zkCli prints it: UTF-8, or `null` for null data.
fn text_or_null(data: Option<Vec<u8>>) -> String {
    data.map_or("null".to_string(), |d| {
        String::from_utf8_lossy(&d).into_owned()
    })
}

/// `ConfigUtils.getClientConfigStr`: the config's version, a space, and the client address
/// of each `server.N=host:port:port[:role];[clientHost:]clientPort` line, comma-separated.
fn client_addresses(config: &str) -> String {
    let mut version = "";
    let mut addresses = Vec::new();
    for line in config.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if key == "version" {
            version = value;
        }
        if let (true, Some((_, client))) = (key.starts_with("server."), value.split_once(';')) {
            let address = match client.rsplit_once(':') {
                Some(_) => client.to_string(),
                None => format!("0.0.0.0:{client}"),
            };
            addresses.push(address);
        }
    }
    format!("{version} {}", addresses.join(","))
}
