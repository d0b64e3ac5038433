//! The commands this chapter adds to chapter 1's shell.
//!
//! Three are zkCli's own, with its usage strings and messages: `addWatch [-m mode] path`
//! (3.6+, default mode `PERSISTENT_RECURSIVE`), `removewatches path [-c|-d|-a] [-l]` and
//! `printwatches on|off`. Three are ours, for several clients in one shell: `connect name`,
//! `use name` and `close` (zkCli's `close` ends the session without leaving the shell; ours
//! ends the current client's).

use ch01_znode::path::validate_path;
use ch01_znode::shell::command::{parse_options, Words};
use ch01_znode::shell::printer::error_message;
use ch01_znode::shell::Line;

use super::clients::Clients;
use crate::event::WatchedEvent;
use crate::mode::{AddWatchMode, WatcherType};
use crate::trace::Cause;

/// The extra commands and their usage options, as the usage block lists them.
pub const EXTRA: &[(&str, &str)] = &[
    (
        "addWatch",
        "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
    ),
    ("close", ""),
    ("connect", "name"),
    ("printwatches", "on|off"),
    ("removewatches", "path [-c|-d|-a] [-l]"),
    ("use", "name"),
];

/// Runs one extra command (`args[0]` is its name); `None` if it is not one of ours.
pub fn run(clients: &mut Clients, args: &[String]) -> Option<Vec<Line>> {
    let name = args.first()?.as_str();
    let lines = match name {
        "addWatch" => add_watch(clients, args),
        "removewatches" => remove_watches(clients, args),
        "printwatches" => print_watches(clients, args),
        "connect" => connect(clients, args),
        "use" => use_client(clients, args),
        "close" => {
            clients.close_current();
            Ok(vec![])
        }
        _ => return None,
    };
    Some(lines.unwrap_or_else(|message| vec![Line::Err(message)]))
}

/// `name options`: the usage line zkCli prints when the arguments do not fit.
fn usage(name: &str) -> String {
    let options = EXTRA.iter().find(|(n, _)| *n == name).map_or("", |e| e.1);
    format!("{name} {options}")
}

/// Parses `args` with `spec`; `positional` says how many words (the name included) may be
/// left, as zkCli's commands check `getArgs().length`.
fn words(
    args: &[String],
    spec: &'static [(char, bool)],
    positional: impl Fn(usize) -> bool,
) -> Result<Words, String> {
    let w = parse_options(args, spec)?;
    match positional(w.args.len()) {
        true => Ok(w),
        false => Err(usage(&args[0])),
    }
}

// ANCHOR: add_watch
/// AddWatchCommand: `addWatch [-m mode] path`. A bad mode prints the usage; a bad path the
/// client's path message (3.8's zkCli dies with a stack trace there instead). A bare
/// `addWatch` is always `PERSISTENT_RECURSIVE` (3.8's zkCli keeps the last `-m` it was given).
fn add_watch(clients: &mut Clients, args: &[String]) -> Result<Vec<Line>, String> {
    let w = words(args, &[('m', true)], |n| n == 2)?;
    let mode = match w.value('m') {
        None => AddWatchMode::PersistentRecursive,
        Some(m) => AddWatchMode::parse(m).ok_or_else(|| usage("addWatch"))?,
    };
    let path = &w.args[1];
    validate_path(path).map_err(|e| e.to_string())?;
    let session = clients.session();
    clients
        .observed(Cause::Removed, |c| {
            c.server.watches_mut().add_watch(session, path, mode)
        })
        .map_err(|e| error_message(e, path))?;
    Ok(vec![])
}
// ANCHOR_END: add_watch

// ANCHOR: remove_watches
/// RemoveWatchesCommand: `removewatches path [-c|-d|-a] [-l]`, `Any` unless `-c` or `-d`.
/// On success the client's watcher hears `ChildWatchRemoved` / `DataWatchRemoved` /
/// `PersistentWatchRemoved`; with nothing to remove, `NoWatcher`. `-l` (remove locally when
/// the server is unreachable) changes nothing here: the server is always reachable.
fn remove_watches(clients: &mut Clients, args: &[String]) -> Result<Vec<Line>, String> {
    let spec = &[('c', false), ('d', false), ('a', false), ('l', false)];
    // RemoveWatchesCommand only checks `args.length < 2`: extra words are ignored.
    let w = words(args, spec, |n| n >= 2)?;
    let watcher_type = match (w.has('c'), w.has('d')) {
        (true, _) => WatcherType::Children,
        (false, true) => WatcherType::Data,
        (false, false) => WatcherType::Any,
    };
    let path = &w.args[1];
    validate_path(path).map_err(|e| e.to_string())?;
    let session = clients.session();
    let removed = clients
        .observed(Cause::Removed, |c| {
            c.server
                .watches_mut()
                .remove_watches(session, path, watcher_type)
        })
        .map_err(|e| error_message(e, path))?;
    for event_type in removed {
        clients.raise_local(WatchedEvent::node(event_type, path));
    }
    Ok(vec![])
}
// ANCHOR_END: remove_watches

/// `printwatches [on|off]`: with no argument, says whether events are printed.
fn print_watches(clients: &mut Clients, args: &[String]) -> Result<Vec<Line>, String> {
    match args.get(1).map(String::as_str) {
        None => {
            let state = if clients.print_watches { "on" } else { "off" };
            Ok(vec![Line::Out(format!("printwatches is {state}"))])
        }
        Some(value) => {
            clients.print_watches = value == "on";
            Ok(vec![])
        }
    }
}

/// `connect name`: a new client with its own session, now the current one.
fn connect(clients: &mut Clients, args: &[String]) -> Result<Vec<Line>, String> {
    let w = words(args, &[], |n| n == 2)?;
    let name = &w.args[1];
    if clients.switch_to(name) {
        return Err(format!("Client {name} is already connected"));
    }
    clients.connect(name);
    Ok(vec![])
}

/// `use name`: switch to another connected client.
fn use_client(clients: &mut Clients, args: &[String]) -> Result<Vec<Line>, String> {
    let w = words(args, &[], |n| n == 2)?;
    let name = &w.args[1];
    match clients.switch_to(name) {
        true => Ok(vec![]),
        false => Err(format!("No client named {name}: connect {name} first")),
    }
}
