//! The parser: a zkCli command line → a [`Command`].
//!
//! zkCli splits a line with one regular expression (a word, or a `"…"` / `'…'` quoted string
//! whose quotes are stripped), then hands the words to Apache commons-cli with each command's
//! options. We follow both: options may come anywhere (`get /a -s` works), flags may be
//! bundled (`-es`), a value may be attached (`-v3`) or follow (`-v 3`, `-v -1`), and some
//! options exclude each other (`setquota -n 5 -b 6`). Parse errors carry zkCli's texts, which
//! are sometimes Java exception names: that is what a zkCli user sees.
//!
//! Five commands are `ZooKeeperMain`'s own rather than `CliCommand`s: `quit`, `redo`,
//! `history`, `printwatches` and `connect`. zkCli runs them even without a live session and
//! parses no options for them; [`Command::is_main`] tells the shell which they are.

use crate::acl::{parse_acl, Acl};
use crate::mode::{CreateMode, MAX_TTL_MS};
use crate::watch::{AddWatchMode, WatcherType};

/// A parsed command, ready to run against a backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Ls {
        path: String,
        stat: bool,
        watch: bool,
        recursive: bool,
    },
    Get {
        path: String,
        stat: bool,
        watch: bool,
    },
    Stat {
        path: String,
        watch: bool,
    },
    Create {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<Acl>,
        mode: CreateMode,
    },
    Set {
        path: String,
        data: Vec<u8>,
        version: i32,
        stat: bool,
    },
    Delete {
        path: String,
        version: i32,
    },
    DeleteAll {
        path: String,
        batch: usize,
    },
    GetAcl {
        path: String,
        stat: bool,
    },
    SetAcl {
        path: String,
        acl: Vec<Acl>,
        version: i32,
        stat: bool,
        recursive: bool,
    },
    GetAllChildrenNumber {
        path: String,
    },
    GetEphemerals {
        path: String,
    },
    /// `addauth scheme [auth]`; without `auth` the Java client sends null credentials.
    AddAuth {
        scheme: String,
        auth: Option<Vec<u8>>,
    },
    WhoAmI,
    Sync {
        path: String,
    },
    /// `addWatch [-m mode] path`; no `-m` means the mode the command last had (zkCli's
    /// command objects live as long as the shell, and this one keeps its mode).
    AddWatch {
        path: String,
        mode: Option<AddWatchMode>,
    },
    RemoveWatches {
        path: String,
        kind: WatcherType,
        local: bool,
    },
    /// `config [-c] [-w] [-s]`: `/zookeeper/config`, or with `-c` only the client addresses.
    Config {
        client: bool,
        watch: bool,
        stat: bool,
    },
    Reconfig(Reconfig),
    /// `setquota -n|-b|-N|-B val path`: the option's letter and its value, checked when run.
    SetQuota {
        path: String,
        option: char,
        value: String,
    },
    ListQuota {
        path: String,
    },
    /// `delquota [-n|-b|-N|-B] path`: one limit, or (no option) the whole quota.
    DelQuota {
        path: String,
        option: Option<char>,
    },
    Close,
    Version,
    // ZooKeeperMain's own commands.
    /// `connect [host:port]`: a new session, at the current host when none is given.
    Connect(Option<String>),
    /// `redo cmdno`, the number as typed (`Integer.decode` reads it when it runs).
    Redo(Option<String>),
    History,
    /// `printwatches [on|off]`: any value but `on` turns printing off.
    PrintWatches(Option<String>),
    Quit,
    /// A command the backend offers (chapter 2's clients), words as typed.
    Extra(Vec<String>),
}

impl Command {
    /// `ZooKeeperMain`'s own commands, which run whether or not the session is alive.
    pub fn is_main(&self) -> bool {
        matches!(
            self,
            Command::Connect(_)
                | Command::Redo(_)
                | Command::History
                | Command::PrintWatches(_)
                | Command::Quit
        )
    }
}

/// `reconfig`'s arguments, as `ZooKeeperAdmin.reconfigure` takes them (lower-cased, as zkCli
/// sends them); `version` -1 means "whatever the current config is".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reconfig {
    pub joining: Option<String>,
    pub leaving: Option<String>,
    pub members: Option<String>,
    pub version: i64,
    pub stat: bool,
}

/// Why a line could not become a command: zkCli's messages, in the order it prints them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The command name is not known: print the usage block, then this.
    NotFound(String),
    /// Print this one line on stderr (a usage string or a parse error).
    Message(String),
}

/// A parsed command plus the deprecation warnings zkCli prints before running it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub command: Command,
    pub warnings: Vec<String>,
}

/// `reconfig`'s usage options (one string in zkCli, too long for one line here).
const RECONFIG_USAGE: &str = concat!(
    "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | ",
    "[-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]"
);

// ANCHOR: usage
/// Every zkCli 3.8 command with its usage options, as `ZooKeeperMain.usage()` lists them.
pub const COMMANDS: &[(&str, &str)] = &[
    (
        "addWatch",
        "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
    ),
    ("addauth", "scheme auth"),
    ("close", ""),
    ("config", "[-c] [-w] [-s]"),
    ("connect", "host:port"),
    ("create", "[-s] [-e] [-c] [-t ttl] path [data] [acl]"),
    ("delete", "[-v version] path"),
    ("deleteall", "path [-b batch size]"),
    ("delquota", "[-n|-b|-N|-B] path"),
    ("get", "[-s] [-w] path"),
    ("getAcl", "[-s] path"),
    ("getAllChildrenNumber", "path"),
    ("getEphemerals", "path"),
    ("history", ""),
    ("listquota", "path"),
    ("ls", "[-s] [-w] [-R] path"),
    ("printwatches", "on|off"),
    ("quit", ""),
    ("reconfig", RECONFIG_USAGE),
    ("redo", "cmdno"),
    ("removewatches", "path [-c|-d|-a] [-l]"),
    ("set", "[-s] [-v version] path data"),
    ("setAcl", "[-s] [-v version] [-R] path acl"),
    ("setquota", "-n|-b|-N|-B val path"),
    ("stat", "[-w] path"),
    ("sync", "path"),
    ("version", ""),
    ("whoami", ""),
];
// ANCHOR_END: usage

/// Java's `\s`: the separators of zkCli's word regex.
fn is_java_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

/// `ZooKeeperMain.MyCommandOptions.parseCommand`: words, or quoted strings without quotes.
pub fn tokenize(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = line.trim_start_matches(is_java_space);
    while let Some(first) = rest.chars().next() {
        let (word, after) = match first {
            '"' | '\'' => match rest[1..].find(first) {
                // A closed quote: the string between the quotes.
                Some(end) => (&rest[1..end + 1], &rest[end + 2..]),
                // An unclosed quote matches none of the regex's alternatives: the quote char
                // is skipped and matching resumes after it.
                None => {
                    rest = rest[1..].trim_start_matches(is_java_space);
                    continue;
                }
            },
            _ => {
                let end = rest.find(is_java_space).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        words.push(word.to_string());
        rest = after.trim_start_matches(is_java_space);
    }
    // A line of blanks still matches the regex once (`\s*` gives its last character back to
    // `[^"']`): zkCli looks for a command named by that one blank.
    if words.is_empty() {
        if let Some(last) = line.chars().last() {
            words.push(last.to_string());
        }
    }
    words
}

/// One command's options for the commons-cli emulation: (name, takes a value). Names are
/// letters, except `reconfig`'s (`-file`, `-members`, `-add`, `-remove`).
pub type OptionSpec = &'static [(&'static str, bool)];

/// Options of which at most one may be given (a commons-cli `OptionGroup`), with the
/// description each has in zkCli's `MissingOptionException` text; `required` if one must be.
pub struct OptionGroup {
    pub members: &'static [(&'static str, &'static str)],
    pub required: bool,
}

/// Options seen and positional arguments left (the command name is `args[0]`, as in zkCli).
#[derive(Debug, Default)]
pub struct Words {
    flags: Vec<(String, Option<String>)>,
    pub args: Vec<String>,
}

impl Words {
    pub fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|(f, _)| f == name)
    }

    /// The option's value; the first one when it was given twice (`getOptionValue`).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(f, _)| f == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

fn is_negative_number(word: &str) -> bool {
    word.len() > 1 && word.starts_with('-') && word[1..].parse::<f64>().is_ok()
}

/// commons-cli `DefaultParser.parse` for short options.
pub fn parse_options(words: &[String], spec: OptionSpec) -> Result<Words, String> {
    parse_grouped(words, spec, None)
}

/// [`parse_options`] with an option group.
pub fn parse_grouped(
    words: &[String],
    spec: OptionSpec,
    group: Option<&OptionGroup>,
) -> Result<Words, String> {
    let takes_value = |name: &str| spec.iter().find(|(o, _)| *o == name).map(|(_, v)| *v);
    let letter = |w: &str| w.chars().next().map(String::from).unwrap_or_default();
    let is_option = |w: &str| {
        w.len() > 1
            && w.starts_with('-')
            && !is_negative_number(w)
            && (takes_value(&w[1..]).is_some() || takes_value(&letter(&w[1..])).is_some())
    };
    let unrecognized = |w: &str| {
        format!("org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: {w}")
    };
    let missing = |name: &str| {
        format!(
            "org.apache.commons.cli.MissingArgumentException: Missing argument for option: {name}"
        )
    };
    let mut selected: Option<String> = None;
    let mut select = |name: &str| -> Result<(), String> {
        let Some(group) = group else { return Ok(()) };
        if !group.members.iter().any(|(m, _)| *m == name) {
            return Ok(());
        }
        match &selected {
            Some(other) if other != name => Err(format!(
                "org.apache.commons.cli.AlreadySelectedException: The option '{name}' was \
                 specified but an option from this group has already been selected: '{other}'"
            )),
            _ => {
                selected = Some(name.to_string());
                Ok(())
            }
        }
    };
    let mut out = Words::default();
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        // A negative number is an argument only as an option's value (below): `set /a -5`
        // is an unrecognized option -5 in zkCli too.
        if word == "-" || !word.starts_with('-') {
            out.args.push(word.clone());
            continue;
        }
        if word == "--" {
            out.args.extend(words[i..].iter().cloned());
            break;
        }
        // A whole-word option (`-file`), else letters, possibly bundled (`-es`, `-v3`).
        let names: Vec<String> = match takes_value(&word[1..]) {
            Some(_) => vec![word[1..].to_string()],
            None => word[1..].chars().map(String::from).collect(),
        };
        let mut j = 0;
        while j < names.len() {
            let name = &names[j];
            match takes_value(name) {
                None => return Err(unrecognized(word)),
                Some(false) => {
                    select(name)?;
                    out.flags.push((name.clone(), None));
                }
                Some(true) => {
                    let attached: String = names[j + 1..].concat();
                    let value = if !attached.is_empty() {
                        attached
                    } else if i < words.len() && !is_option(&words[i]) {
                        i += 1;
                        words[i - 1].clone()
                    } else {
                        return Err(missing(name));
                    };
                    select(name)?;
                    out.flags.push((name.clone(), Some(value)));
                    break;
                }
            }
            j += 1;
        }
    }
    if let Some(group) = group.filter(|g| g.required && selected.is_none()) {
        let options: Vec<String> = group
            .members
            .iter()
            .map(|(name, about)| format!("-{name} {about}"))
            .collect();
        return Err(format!(
            "org.apache.commons.cli.MissingOptionException: Missing required option: [{}]",
            options.join(", ")
        ));
    }
    Ok(out)
}

/// Java's `Integer.parseInt` / `Long.parseLong` failure, as zkCli's stack trace starts.
pub fn number_format(text: &str) -> String {
    format!("java.lang.NumberFormatException: For input string: \"{text}\"")
}

fn parse_i32(text: &str) -> Result<i32, String> {
    text.parse().map_err(|_| number_format(text))
}

/// `Integer.decode`: decimal, `0x`/`#` hex or `0` octal, with an optional sign.
pub fn java_decode(text: &str) -> Result<i32, String> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (radix, digits) = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
        .or_else(|| digits.strip_prefix('#'))
    {
        (16, hex)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    let failed = || match (text.is_empty(), radix) {
        (true, _) => "java.lang.NumberFormatException: Zero length string".to_string(),
        (false, 10) => number_format(digits),
        (false, r) => format!("{} under radix {r}", number_format(digits)),
    };
    if digits.starts_with(['-', '+']) {
        return Err(failed());
    }
    let magnitude = i64::from_str_radix(digits, radix).map_err(|_| failed())?;
    let value = if negative { -magnitude } else { magnitude };
    i32::try_from(value).map_err(|_| failed())
}

fn usage_of(name: &str) -> String {
    let options = COMMANDS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, o)| o);
    format!("{name} {options}")
}

// ANCHOR: parse
/// Parses one non-empty line. `extra` names the backend's own commands, which take
/// precedence over zkCli's of the same name.
pub fn parse(line: &str, extra: &[&str]) -> Result<Option<Parsed>, ParseError> {
    let words = tokenize(line);
    let Some(name) = words.first() else {
        return Ok(None);
    };
    let arg = |i: usize| words.get(i).cloned();
    let main = match name.as_str() {
        other if extra.contains(&other) => Some(Command::Extra(words.clone())),
        "quit" => Some(Command::Quit),
        "history" => Some(Command::History),
        "redo" => Some(Command::Redo(arg(1))),
        "printwatches" => Some(Command::PrintWatches(arg(1))),
        "connect" => Some(Command::Connect(arg(1))),
        // CloseCommand and WhoAmICommand parse nothing at all.
        "close" => Some(Command::Close),
        "whoami" => Some(Command::WhoAmI),
        _ => None,
    };
    if let Some(command) = main {
        let warnings = vec![];
        return Ok(Some(Parsed { command, warnings }));
    }
    let spec: OptionSpec = match name.as_str() {
        "ls" => &[("s", false), ("w", false), ("R", false)],
        "get" => &[("s", false), ("w", false)],
        "stat" => &[("w", false)],
        "create" => &[("e", false), ("s", false), ("c", false), ("t", true)],
        "set" => &[("s", false), ("v", true)],
        "delete" => &[("v", true)],
        "deleteall" => &[("b", true)],
        "getAcl" => &[("s", false)],
        "setAcl" => &[("s", false), ("v", true), ("R", false)],
        "addWatch" => &[("m", true)],
        "removewatches" => &[("c", false), ("d", false), ("a", false), ("l", false)],
        "config" => &[("s", false), ("w", false), ("c", false)],
        "reconfig" => RECONFIG_OPTIONS,
        "setquota" => &[("n", true), ("b", true), ("N", true), ("B", true)],
        "delquota" => &[("n", false), ("b", false), ("N", false), ("B", false)],
        "getAllChildrenNumber" | "getEphemerals" | "addauth" | "sync" | "listquota" | "version" => {
            &[]
        }
        other => return Err(ParseError::NotFound(other.to_string())),
    };
    let group = match name.as_str() {
        "setquota" => Some(OptionGroup {
            members: QUOTA_OPTIONS,
            required: true,
        }),
        "delquota" => Some(OptionGroup {
            members: QUOTA_OPTIONS,
            required: false,
        }),
        _ => None,
    };
    let w = parse_grouped(&words, spec, group.as_ref()).map_err(ParseError::Message)?;
    let mut warnings = Vec::new();
    let command = build(name, &w, &mut warnings).map_err(ParseError::Message)?;
    Ok(Some(Parsed { command, warnings }))
}
// ANCHOR_END: parse

const RECONFIG_OPTIONS: OptionSpec = &[
    ("s", false),
    ("v", true),
    ("file", true),
    ("members", true),
    ("add", true),
    ("remove", true),
];

/// The quota options, with the descriptions zkCli gives them.
const QUOTA_OPTIONS: &[(&str, &str)] = &[
    ("n", "num soft quota"),
    ("b", "bytes soft quota"),
    ("N", "num hard quota"),
    ("B", "bytes hard quota"),
];

/// The positional argument `i`, or the command's usage string as the error.
fn arg<'w>(w: &'w Words, i: usize, name: &str) -> Result<&'w str, String> {
    w.args
        .get(i)
        .map(String::as_str)
        .ok_or_else(|| usage_of(name))
}

/// An ACL argument; AclParser's complaints become warnings and the bad parts are dropped.
fn acl_arg(text: &str, warnings: &mut Vec<String>) -> Vec<Acl> {
    let (acl, messages) = parse_acl(text);
    warnings.extend(messages);
    acl
}

/// `path [watch]`: the pre-3.5 form, still accepted with a warning and read as `-w`.
fn old_watch_form(w: &Words, name: &str, warnings: &mut Vec<String>) -> bool {
    if w.args.len() > 2 {
        let hint = match name {
            "ls" => "'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.",
            "get" => {
                "'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead."
            }
            _ => "'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead.",
        };
        warnings.push(hint.to_string());
        return true;
    }
    false
}

fn build(name: &str, w: &Words, warnings: &mut Vec<String>) -> Result<Command, String> {
    let path = || arg(w, 1, name).map(str::to_string);
    Ok(match name {
        "ls" => Command::Ls {
            path: path()?,
            stat: w.has("s"),
            watch: w.has("w") | old_watch_form(w, name, warnings),
            recursive: w.has("R"),
        },
        "get" => Command::Get {
            path: path()?,
            stat: w.has("s"),
            watch: w.has("w") | old_watch_form(w, name, warnings),
        },
        "stat" => Command::Stat {
            path: path()?,
            watch: w.has("w") | old_watch_form(w, name, warnings),
        },
        "create" => build_create(w, warnings)?,
        "set" => Command::Set {
            path: path()?,
            data: arg(w, 2, name)?.as_bytes().to_vec(),
            version: w.value("v").map_or(Ok(-1), parse_i32)?,
            stat: w.has("s"),
        },
        "delete" => {
            let path = path()?;
            if w.args.len() > 2 {
                warnings.push(
                    "'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead."
                        .to_string(),
                );
            }
            Command::Delete {
                path,
                version: w.value("v").map_or(Ok(-1), parse_i32)?,
            }
        }
        "deleteall" => Command::DeleteAll {
            path: path()?,
            batch: match w.value("b") {
                None => 1000,
                Some(b) => b
                    .parse::<i32>()
                    .map_err(|_| "-b argument must be an int value".to_string())?
                    .max(1) as usize,
            },
        },
        "getAcl" => Command::GetAcl {
            path: path()?,
            stat: w.has("s"),
        },
        "setAcl" => Command::SetAcl {
            path: path()?,
            acl: acl_arg(arg(w, 2, name)?, warnings),
            version: w.value("v").map_or(Ok(-1), parse_i32)?,
            stat: w.has("s"),
            recursive: w.has("R"),
        },
        "getAllChildrenNumber" => Command::GetAllChildrenNumber { path: path()? },
        "getEphemerals" => Command::GetEphemerals {
            path: w.args.get(1).cloned().unwrap_or_else(|| "/".to_string()),
        },
        "addauth" => Command::AddAuth {
            scheme: path()?,
            auth: w.args.get(2).map(|a| a.as_bytes().to_vec()),
        },
        "sync" => Command::Sync { path: path()? },
        "addWatch" => {
            // AddWatchCommand checks the count before it reads the mode.
            if w.args.len() != 2 {
                return Err(usage_of(name));
            }
            let mode = match w.value("m") {
                None => None,
                Some(m) => Some(AddWatchMode::parse(m).ok_or_else(|| usage_of(name))?),
            };
            Command::AddWatch {
                path: path()?,
                mode,
            }
        }
        // RemoveWatchesCommand only checks `args.length < 2`: extra words are ignored.
        "removewatches" => Command::RemoveWatches {
            path: path()?,
            kind: if w.has("c") {
                WatcherType::Children
            } else if w.has("d") {
                WatcherType::Data
            } else {
                WatcherType::Any
            },
            local: w.has("l"),
        },
        "config" => Command::Config {
            client: w.has("c"),
            watch: w.has("w"),
            stat: w.has("s"),
        },
        "reconfig" => Command::Reconfig(build_reconfig(w)?),
        "setquota" => {
            let path = path()?;
            let (option, value) = ["n", "b", "N", "B"]
                .into_iter()
                .find_map(|o| w.value(o).map(|v| (o, v)))
                .ok_or_else(|| usage_of(name))?;
            Command::SetQuota {
                path,
                option: option.chars().next().unwrap_or('n'),
                value: value.to_string(),
            }
        }
        "listquota" => Command::ListQuota { path: path()? },
        "delquota" => Command::DelQuota {
            path: path()?,
            option: ["n", "b", "N", "B"]
                .into_iter()
                .find(|o| w.has(o))
                .and_then(|o| o.chars().next()),
        },
        _ => {
            // VersionCommand: nothing but the name.
            if w.args.len() > 1 {
                return Err(usage_of(name));
            }
            Command::Version
        }
    })
}

/// ReconfigCommand.parse: one mode (incremental `-add`/`-remove`, or a whole new membership
/// from `-members` or `-file`), an optional hex `-v`, values lower-cased.
fn build_reconfig(w: &Words) -> Result<Reconfig, String> {
    let (file, members) = (w.value("file"), w.value("members"));
    let (add, remove) = (w.value("add"), w.value("remove"));
    if file.is_none() && members.is_none() && add.is_none() && remove.is_none() {
        return Err(usage_of("reconfig"));
    }
    let version = match w.value("v") {
        None => -1,
        Some(v) => i64::from_str_radix(v, 16)
            .map_err(|_| "-v must be followed by a long (configuration version)".to_string())?,
    };
    if (file.is_some() || members.is_some()) && (add.is_some() || remove.is_some()) {
        return Err(
            "Can't use -file or -members together with -add or -remove (mixing \
                    incremental and non-incremental modes is not allowed)"
                .into(),
        );
    }
    if file.is_some() && members.is_some() {
        return Err(
            "Can't use -file and -members together (conflicting non-incremental modes)".into(),
        );
    }
    let members = match file {
        // The membership lines of the file; zkCli also checks them, which we do not.
        Some(file) => Some(
            std::fs::read_to_string(file)
                .map_err(|e| format!("Error processing {file}{}", java_io_message(file, &e)))?
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("server.") || l.starts_with("version="))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        None => members.map(str::to_string),
    };
    Ok(Reconfig {
        joining: add.map(str::to_lowercase),
        leaving: remove.map(str::to_lowercase),
        members: members.map(|m| m.to_lowercase()),
        version,
        stat: w.has("s"),
    })
}

/// A `FileInputStream` failure's message: `<path> (No such file or directory)`.
fn java_io_message(path: &str, error: &std::io::Error) -> String {
    let text = error.to_string();
    let reason = text.split(" (os error").next().unwrap_or(&text);
    format!("{path} ({reason})")
}

// ANCHOR: create_flags
/// CreateCommand: the flag checks come in zkCli's order, before anything is sent.
fn build_create(w: &Words, warnings: &mut Vec<String>) -> Result<Command, String> {
    let path = arg(w, 1, "create")?.to_string();
    let (e, s, c, t) = (w.has("e"), w.has("s"), w.has("c"), w.has("t"));
    if c && (e || s) {
        return Err(
            "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential."
                .into(),
        );
    }
    let ttl = match w.value("t") {
        None => 0,
        Some(text) => text
            .parse::<i64>()
            .map_err(|_| "-t argument must be a long value".to_string())?,
    };
    if t && e {
        return Err("TTLs cannot be used with Ephemeral znodes".into());
    }
    if t && c {
        return Err("TTLs cannot be used with Container znodes".into());
    }
    if t && (ttl <= 0 || ttl > MAX_TTL_MS) {
        return Err(format!(
            "ttl must be positive and cannot be larger than: {MAX_TTL_MS}"
        ));
    }
    let mode = match (e, s, c, t) {
        (true, true, _, _) => CreateMode::EphemeralSequential,
        (true, false, _, _) => CreateMode::Ephemeral,
        (false, true, _, true) => CreateMode::PersistentSequentialWithTtl(ttl),
        (false, true, _, false) => CreateMode::PersistentSequential,
        (false, false, true, _) => CreateMode::Container,
        (false, false, false, true) => CreateMode::PersistentWithTtl(ttl),
        (false, false, false, false) => CreateMode::Persistent,
    };
    let data = w.args.get(2).map(|d| d.as_bytes().to_vec());
    let acl = match w.args.get(3) {
        None => Acl::open_unsafe(),
        Some(text) => acl_arg(text, warnings),
    };
    Ok(Command::Create {
        path,
        data,
        acl,
        mode,
    })
}
// ANCHOR_END: create_flags

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Command {
        parse(line, &[]).unwrap().unwrap().command
    }

    fn err(line: &str) -> ParseError {
        parse(line, &[]).unwrap_err()
    }

    #[test]
    fn quotes_group_words_and_are_stripped() {
        assert_eq!(
            tokenize(r#"create /a "x y" 'z'"#),
            ["create", "/a", "x y", "z"]
        );
        assert_eq!(tokenize("  ls   / "), ["ls", "/"]);
        assert_eq!(tokenize(r#"set /a "unclosed"#), ["set", "/a", "unclosed"]);
    }

    #[test]
    fn options_may_come_anywhere_bundled_or_with_attached_values() {
        assert_eq!(
            ok("get /a -s"),
            Command::Get {
                path: "/a".into(),
                stat: true,
                watch: false
            }
        );
        assert!(matches!(
            ok("create -es /a"),
            Command::Create {
                mode: CreateMode::EphemeralSequential,
                ..
            }
        ));
        assert!(matches!(
            ok("set -v3 /a x"),
            Command::Set { version: 3, .. }
        ));
        assert!(matches!(
            ok("set -v -1 /a x"),
            Command::Set { version: -1, .. }
        ));
        assert_eq!(
            err("set /a -5"),
            ParseError::Message(
                "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -5"
                    .into()
            )
        );
    }

    #[test]
    fn missing_arguments_print_the_usage_string() {
        assert_eq!(err("get"), ParseError::Message("get [-s] [-w] path".into()));
        assert_eq!(
            err("set /a"),
            ParseError::Message("set [-s] [-v version] path data".into())
        );
        assert_eq!(
            err("create"),
            ParseError::Message("create [-s] [-e] [-c] [-t ttl] path [data] [acl]".into())
        );
    }

    #[test]
    fn bad_options_print_commons_cli_exceptions() {
        assert_eq!(
            err("get -x /a"),
            ParseError::Message(
                "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x"
                    .into()
            )
        );
        assert_eq!(
            err("delete /a -v"),
            ParseError::Message(
                "org.apache.commons.cli.MissingArgumentException: Missing argument for option: v"
                    .into()
            )
        );
        assert_eq!(
            err("set -v abc /a x"),
            ParseError::Message(
                "java.lang.NumberFormatException: For input string: \"abc\"".into()
            )
        );
    }

    #[test]
    fn create_flag_conflicts_use_zkclis_messages() {
        let msg = |l| match err(l) {
            ParseError::Message(m) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            msg("create -c -s /c"),
            "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential."
        );
        assert_eq!(msg("create -t abc /t"), "-t argument must be a long value");
        assert_eq!(
            msg("create -e -t 5 /t"),
            "TTLs cannot be used with Ephemeral znodes"
        );
    }

    #[test]
    fn no_data_means_null_data() {
        assert!(matches!(
            ok("create /a"),
            Command::Create { data: None, .. }
        ));
    }

    #[test]
    fn unknown_commands_and_backend_commands() {
        assert_eq!(err("foo bar"), ParseError::NotFound("foo".into()));
        let extra = parse("connect c2", &["connect"]).unwrap().unwrap();
        assert_eq!(
            extra.command,
            Command::Extra(vec!["connect".into(), "c2".into()])
        );
    }

    #[test]
    fn the_old_watch_form_warns_and_sets_a_watch() {
        let parsed = parse("ls /a 1", &[]).unwrap().unwrap();
        assert!(matches!(parsed.command, Command::Ls { watch: true, .. }));
        assert_eq!(
            parsed.warnings,
            ["'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead."]
        );
    }
}
