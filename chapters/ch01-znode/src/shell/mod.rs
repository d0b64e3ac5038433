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
//! [`Shell`] holds the parts together and is the zkCli logic in between: client-side path
//! checks, `ls -R`'s walk, `deleteall` as batched multis of deletes deepest-first, the
//! command counter in the prompt. [`repl`] drives it from a terminal, a pipe or a file.

pub mod backend;
pub mod command;
pub mod printer;
pub mod repl;

pub use backend::{Backend, LocalBackend};
pub use command::{parse, Command, ParseError};
pub use printer::Line;

use crate::acl::Acl;
use crate::error::ZkError;
use crate::mode::CreateMode;
use crate::path::{join, validate_path, validate_path_for};
use crate::txn::Request;
use printer::{acl_lines, error_message, java_list, stat_block, usage, watcher_lines};

/// A command failed: what to print on stderr.
type Failure = Vec<Line>;

/// A server error on `path`, as zkCli prints it.
fn server_error(path: &str) -> impl Fn(ZkError) -> Failure + '_ {
    move |e| vec![Line::Err(error_message(e, path))]
}

/// The Java client's own path check, before anything is sent.
fn check_path(path: &str) -> Result<(), Failure> {
    validate_path(path).map_err(|e| vec![Line::Err(e.to_string())])
}

/// The shell: a backend, the command counter and the history.
pub struct Shell<B: Backend> {
    pub backend: B,
    command_count: usize,
    history: Vec<String>,
    quit: bool,
}

impl<B: Backend> Shell<B> {
    pub fn new(backend: B) -> Shell<B> {
        Shell {
            backend,
            command_count: 0,
            history: Vec::new(),
            quit: false,
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

    fn all_commands(&self) -> Vec<(&'static str, &'static str)> {
        let mut all = command::COMMANDS.to_vec();
        all.extend(self.backend.extra_commands());
        all
    }

    // ANCHOR: execute_line
    /// Runs one typed line (`ZooKeeperMain.executeLine`) and returns what zkCli would print,
    /// watch notifications first.
    pub fn execute_line(&mut self, line: &str) -> Vec<Line> {
        if line.trim().is_empty() {
            return Vec::new();
        }
        self.history.push(line.to_string());
        let extra: Vec<&str> = self
            .backend
            .extra_commands()
            .iter()
            .map(|(name, _)| *name)
            .collect();
        let mut out = match parse(line, &extra) {
            Ok(Some(parsed)) => {
                let mut out: Vec<Line> = parsed.warnings.into_iter().map(Line::Err).collect();
                match self.execute(parsed.command) {
                    Ok(lines) | Err(lines) => out.extend(lines),
                }
                out
            }
            Ok(None) => Vec::new(),
            Err(ParseError::Message(message)) => vec![Line::Err(message)],
            Err(ParseError::NotFound(name)) => {
                let mut out = usage(&self.all_commands());
                out.push(Line::Err(format!(
                    "Command not found: Command not found {name}"
                )));
                out
            }
        };
        self.command_count += 1;
        let mut events = self.event_lines();
        events.append(&mut out);
        events
    }
    // ANCHOR_END: execute_line

    /// zkCli's default watcher's lines for the events that arrived.
    fn event_lines(&mut self) -> Vec<Line> {
        let events = self.backend.take_events();
        events.iter().flat_map(watcher_lines).collect()
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
                let text = data.map_or("null".to_string(), |d| {
                    String::from_utf8_lossy(&d).into_owned()
                });
                let mut out = vec![Line::Out(text)];
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
            Command::History => {
                let first = self.history.len().saturating_sub(11);
                Ok(self.history[first..]
                    .iter()
                    .enumerate()
                    .map(|(i, cmd)| Line::Out(format!("{} - {cmd}", first + i)))
                    .collect())
            }
            Command::Help => Ok(usage(&self.all_commands())),
            Command::Quit => {
                b.close()
                    .map_err(|e| vec![Line::Err(e.keeper_message(None))])?;
                self.quit = true;
                Ok(vec![])
            }
            Command::Extra(args) => Ok(b.run_extra(&args).unwrap_or_default()),
        }
    }
    // ANCHOR_END: execute

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
