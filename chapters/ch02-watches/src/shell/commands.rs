//! The commands this chapter adds to chapter 1's shell, for several clients in one shell:
//! `connect name` (a new client with its own session, now the current one; zkCli's `connect
//! host:port` opens a new session too, but closes the old one), `use name` (switch) and
//! `close` (zkCli's `close` ends the session without leaving the shell; ours ends the current
//! client's). zkCli's watch commands (`addWatch`, `removewatches`, `printwatches`) are chapter
//! 1's, run on this chapter's backend.

use ch01_znode::shell::command::{parse_options, Words};
use ch01_znode::shell::Line;

use super::clients::Clients;

/// The extra commands and their usage options, as the usage block lists them.
pub const EXTRA: &[(&str, &str)] = &[("close", ""), ("connect", "name"), ("use", "name")];

/// Runs one extra command (`args[0]` is its name); `None` if it is not one of ours.
pub fn run(clients: &mut Clients, args: &[String]) -> Option<Vec<Line>> {
    let name = args.first()?.as_str();
    let lines = match name {
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

/// One name after the command, as zkCli's commands check `getArgs().length`.
fn one_name(args: &[String]) -> Result<Words, String> {
    let w = parse_options(args, &[])?;
    match w.args.len() == 2 {
        true => Ok(w),
        false => Err(usage(&args[0])),
    }
}

/// `connect name`: a new client with its own session, now the current one.
fn connect(clients: &mut Clients, args: &[String]) -> Result<Vec<Line>, String> {
    let w = one_name(args)?;
    let name = &w.args[1];
    if clients.switch_to(name) {
        return Err(format!("Client {name} is already connected"));
    }
    clients.connect(name);
    Ok(vec![])
}

/// `use name`: switch to another connected client.
fn use_client(clients: &mut Clients, args: &[String]) -> Result<Vec<Line>, String> {
    let w = one_name(args)?;
    let name = &w.args[1];
    match clients.switch_to(name) {
        true => Ok(vec![]),
        false => Err(format!("No client named {name}: connect {name} first")),
    }
}
