//! The parser: a zkCli command line → a [`Command`].
//!
//! zkCli splits a line with one regular expression (a word, or a `"…"` / `'…'` quoted string
//! whose quotes are stripped), then hands the words to Apache commons-cli with each command's
//! options. We follow both: options may come anywhere (`get /a -s` works), flags may be
//! bundled (`-es`), a value may be attached (`-v3`) or follow (`-v 3`, `-v -1`). Parse errors carry zkCli's texts, which are sometimes Java
//! exception names: that is what a zkCli user sees.

use crate::acl::{parse_acl, Acl};
use crate::mode::{CreateMode, MAX_TTL_MS};

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
    History,
    Help,
    Quit,
    /// A command the backend offers (chapter 2's and 3's additions), words as typed.
    Extra(Vec<String>),
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

// ANCHOR: usage
/// The commands this shell knows, with zkCli 3.8's usage strings.
pub const COMMANDS: &[(&str, &str)] = &[
    ("create", "[-s] [-e] [-c] [-t ttl] path [data] [acl]"),
    ("delete", "[-v version] path"),
    ("deleteall", "path [-b batch size]"),
    ("get", "[-s] [-w] path"),
    ("getAcl", "[-s] path"),
    ("getAllChildrenNumber", "path"),
    ("getEphemerals", "path"),
    ("history", ""),
    ("ls", "[-s] [-w] [-R] path"),
    ("quit", ""),
    ("set", "[-s] [-v version] path data"),
    ("setAcl", "[-s] [-v version] [-R] path acl"),
    ("stat", "[-w] path"),
];
// ANCHOR_END: usage

/// `ZooKeeperMain.MyCommandOptions.parseCommand`: words, or quoted strings without quotes.
pub fn tokenize(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = line.trim_start();
    while let Some(first) = rest.chars().next() {
        let (word, after) = match first {
            '"' | '\'' => match rest[1..].find(first) {
                // A closed quote: the string between the quotes.
                Some(end) => (&rest[1..end + 1], &rest[end + 2..]),
                // An unclosed quote matches none of the regex's alternatives: the quote char
                // is skipped and matching resumes after it.
                None => {
                    rest = &rest[1..];
                    continue;
                }
            },
            _ => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        words.push(word.to_string());
        rest = after.trim_start();
    }
    words
}

/// One command's options for the commons-cli emulation: (letter, takes a value).
pub type OptionSpec = &'static [(char, bool)];

/// Options seen and positional arguments left (the command name is `args[0]`, as in zkCli).
#[derive(Debug, Default)]
pub struct Words {
    flags: Vec<(char, Option<String>)>,
    pub args: Vec<String>,
}

impl Words {
    pub fn has(&self, c: char) -> bool {
        self.flags.iter().any(|(f, _)| *f == c)
    }

    pub fn value(&self, c: char) -> Option<&str> {
        self.flags
            .iter()
            .find(|(f, _)| *f == c)
            .and_then(|(_, v)| v.as_deref())
    }
}

fn is_negative_number(word: &str) -> bool {
    word.len() > 1 && word.starts_with('-') && word[1..].parse::<f64>().is_ok()
}

/// commons-cli `DefaultParser.parse` for short options.
pub fn parse_options(words: &[String], spec: OptionSpec) -> Result<Words, String> {
    let takes_value = |c: char| spec.iter().find(|(o, _)| *o == c).map(|(_, v)| *v);
    let is_option = |w: &str| {
        w.len() > 1 && w.starts_with('-') && !is_negative_number(w) && {
            let first = w[1..].chars().next();
            first.and_then(takes_value).is_some()
        }
    };
    let unrecognized = |w: &str| {
        format!("org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: {w}")
    };
    let missing = |c: char| {
        format!("org.apache.commons.cli.MissingArgumentException: Missing argument for option: {c}")
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
        let letters: Vec<char> = word[1..].chars().collect();
        let mut j = 0;
        while j < letters.len() {
            let c = letters[j];
            match takes_value(c) {
                None => return Err(unrecognized(word)),
                Some(false) => out.flags.push((c, None)),
                Some(true) => {
                    let attached: String = letters[j + 1..].iter().collect();
                    let value = if !attached.is_empty() {
                        attached
                    } else if i < words.len() && !is_option(&words[i]) {
                        i += 1;
                        words[i - 1].clone()
                    } else {
                        return Err(missing(c));
                    };
                    out.flags.push((c, Some(value)));
                    break;
                }
            }
            j += 1;
        }
    }
    Ok(out)
}

/// Java's `Integer.parseInt` / `Long.parseLong` failure, as zkCli's stack trace starts.
fn number_format(text: &str) -> String {
    format!("java.lang.NumberFormatException: For input string: \"{text}\"")
}

fn parse_i32(text: &str) -> Result<i32, String> {
    text.parse().map_err(|_| number_format(text))
}

fn usage_of(name: &str) -> String {
    let options = COMMANDS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, o)| o);
    format!("{name} {options}")
}

// ANCHOR: parse
/// Parses one non-empty line. `extra` names the backend's own commands.
pub fn parse(line: &str, extra: &[&str]) -> Result<Option<Parsed>, ParseError> {
    let words = tokenize(line);
    let Some(name) = words.first() else {
        return Ok(None);
    };
    let spec: OptionSpec = match name.as_str() {
        "ls" => &[('s', false), ('w', false), ('R', false)],
        "get" => &[('s', false), ('w', false)],
        "stat" => &[('w', false)],
        "create" => &[('e', false), ('s', false), ('c', false), ('t', true)],
        "set" => &[('s', false), ('v', true)],
        "delete" => &[('v', true)],
        "deleteall" => &[('b', true)],
        "getAcl" => &[('s', false)],
        "setAcl" => &[('s', false), ('v', true), ('R', false)],
        "getAllChildrenNumber" | "getEphemerals" | "history" | "quit" | "help" => &[],
        other if extra.contains(&other) => {
            return Ok(Some(Parsed {
                command: Command::Extra(words),
                warnings: vec![],
            }))
        }
        other => return Err(ParseError::NotFound(other.to_string())),
    };
    let w = parse_options(&words, spec).map_err(ParseError::Message)?;
    let mut warnings = Vec::new();
    let command = build(name, &w, &mut warnings).map_err(ParseError::Message)?;
    Ok(Some(Parsed { command, warnings }))
}
// ANCHOR_END: parse

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
            stat: w.has('s'),
            watch: w.has('w') | old_watch_form(w, name, warnings),
            recursive: w.has('R'),
        },
        "get" => Command::Get {
            path: path()?,
            stat: w.has('s'),
            watch: w.has('w') | old_watch_form(w, name, warnings),
        },
        "stat" => Command::Stat {
            path: path()?,
            watch: w.has('w') | old_watch_form(w, name, warnings),
        },
        "create" => build_create(w, warnings)?,
        "set" => Command::Set {
            path: path()?,
            data: arg(w, 2, name)?.as_bytes().to_vec(),
            version: w.value('v').map_or(Ok(-1), parse_i32)?,
            stat: w.has('s'),
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
                version: w.value('v').map_or(Ok(-1), parse_i32)?,
            }
        }
        "deleteall" => Command::DeleteAll {
            path: path()?,
            batch: match w.value('b') {
                None => 1000,
                Some(b) => b
                    .parse::<i32>()
                    .map_err(|_| "-b argument must be an int value".to_string())?
                    .max(1) as usize,
            },
        },
        "getAcl" => Command::GetAcl {
            path: path()?,
            stat: w.has('s'),
        },
        "setAcl" => Command::SetAcl {
            path: path()?,
            acl: acl_arg(arg(w, 2, name)?, warnings),
            version: w.value('v').map_or(Ok(-1), parse_i32)?,
            stat: w.has('s'),
            recursive: w.has('R'),
        },
        "getAllChildrenNumber" => Command::GetAllChildrenNumber { path: path()? },
        "getEphemerals" => Command::GetEphemerals {
            path: w.args.get(1).cloned().unwrap_or_else(|| "/".to_string()),
        },
        "history" => Command::History,
        "help" => Command::Help,
        _ => Command::Quit,
    })
}

// ANCHOR: create_flags
/// CreateCommand: the flag checks come in zkCli's order, before anything is sent.
fn build_create(w: &Words, warnings: &mut Vec<String>) -> Result<Command, String> {
    let path = arg(w, 1, "create")?.to_string();
    let (e, s, c, t) = (w.has('e'), w.has('s'), w.has('c'), w.has('t'));
    if c && (e || s) {
        return Err(
            "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential."
                .into(),
        );
    }
    let ttl = match w.value('t') {
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
