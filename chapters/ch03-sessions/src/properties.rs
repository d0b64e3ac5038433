//! A `zoo.cfg` is a Java properties file, and is read the way `java.util.Properties.load`
//! reads one.
//!
//! The idea to take away: ZooKeeper never parses `key=value` itself; `QuorumPeerConfig` hands
//! the file to `Properties.load`, so whatever that accepts is a valid zoo.cfg. A key ends at
//! the first `=`, `:` or blank that no backslash escapes (`tickTime 2000` sets `tickTime`); a
//! line that ends in an odd number of backslashes goes on in the next one, whose leading
//! blanks are dropped; `#` and `!` start comments; `\t`, `\n`, `\uXXXX` and friends are
//! escapes, and a backslash before any other character is dropped (`C:\\zk` is `C:\zk`).
//!
//! One difference on purpose: `Properties.load` reads bytes as ISO 8859-1. A file that is
//! valid UTF-8 is read as UTF-8 here, so a `dataDir` with Chinese characters names the folder
//! the student typed; any other file is read as ISO 8859-1, as Java reads it, rather than
//! refused.

/// One property: its key, its value, and the line it starts on (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    /// The key, escapes resolved.
    pub key: String,
    /// The value, escapes resolved.
    pub value: String,
    /// The physical line its logical line starts on.
    pub line: usize,
}

/// The text of a properties file's bytes: UTF-8 if it is, ISO 8859-1 (one byte, one
/// character) if not.
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Every property of `text`, in order (a key given twice is given twice).
pub fn parse(text: &str) -> Vec<Property> {
    logical_lines(text)
        .map(|(line, logical)| {
            let (key, value) = split(&logical);
            Property {
                key: unescape(key),
                value: unescape(value),
                line,
            }
        })
        .collect()
}

/// The logical lines of `text` with the line each starts on: comments and blank lines left
/// out, continuations joined.
fn logical_lines(text: &str) -> impl Iterator<Item = (usize, String)> + '_ {
    let mut lines = text.lines().enumerate();
    std::iter::from_fn(move || loop {
        let (index, line) = lines.next()?;
        let line = line.trim_start_matches(is_blank);
        if line.is_empty() || line.starts_with(['#', '!']) {
            continue;
        }
        let mut logical = String::from(line);
        while continues(&logical) {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start_matches(is_blank)),
                None => break,
            }
        }
        return Some((index + 1, logical));
    })
}

/// Whether a line ends in an odd number of backslashes: the last one escapes the line's end.
fn continues(line: &str) -> bool {
    line.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

/// Java's blanks between a key and its value: space, tab and form feed.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// A logical line as its raw key and raw value (escapes still in). The key ends at the first
/// unescaped `=`, `:` or blank; blanks after it, then one `=` or `:`, then blanks, separate it
/// from the value.
fn split(line: &str) -> (&str, &str) {
    let mut escaped = false;
    let mut end = line.len();
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '=' || c == ':' || is_blank(c) {
            end = i;
            break;
        }
    }
    let (key, rest) = line.split_at(end);
    let rest = rest.trim_start_matches(is_blank);
    let rest = rest.strip_prefix(['=', ':']).unwrap_or(rest);
    (key, rest.trim_start_matches(is_blank))
}

/// Resolves the escapes: `\t`, `\n`, `\r`, `\f`, `\uXXXX`; any other escaped character
/// stands for itself.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) if hex.len() == 4 => out.push(decoded),
                    // Java refuses a malformed \u; keeping the text shows the value as
                    // written in the error about it.
                    _ => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String, usize)> {
        parse(text)
            .into_iter()
            .map(|p| (p.key, p.value, p.line))
            .collect()
    }

    fn one(key: &str, value: &str, line: usize) -> (String, String, usize) {
        (key.to_string(), value.to_string(), line)
    }

    #[test]
    fn equals_colon_and_blanks_all_end_a_key() {
        let text = "tickTime=2000\ninitLimit : 10\nsyncLimit 5\n  dataDir =  /tmp/zk  \n";
        assert_eq!(
            pairs(text),
            vec![
                one("tickTime", "2000", 1),
                one("initLimit", "10", 2),
                one("syncLimit", "5", 3),
                one("dataDir", "/tmp/zk  ", 4),
            ]
        );
    }

    #[test]
    fn a_line_without_a_separator_is_a_key_and_the_rest_its_value() {
        assert_eq!(
            pairs("this line has no equals sign\nlonely\n"),
            vec![
                one("this", "line has no equals sign", 1),
                one("lonely", "", 2)
            ]
        );
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        assert_eq!(
            pairs("# a comment\n   ! another\n\n \t\nclientPort=2181\n"),
            vec![one("clientPort", "2181", 5)]
        );
    }

    #[test]
    fn a_trailing_backslash_continues_the_line_and_the_next_ones_blanks_go() {
        let text = "clientPort=248\\\n    01\n4lw.commands.whitelist=srvr, \\\n  ruok\n";
        assert_eq!(
            pairs(text),
            vec![
                one("clientPort", "24801", 1),
                one("4lw.commands.whitelist", "srvr, ruok", 3)
            ]
        );
    }

    #[test]
    fn an_even_number_of_backslashes_ends_the_line() {
        assert_eq!(
            pairs("dataDir=C:\\\\zk\\\\\nclientPort=2181\n"),
            vec![one("dataDir", "C:\\zk\\", 1), one("clientPort", "2181", 2)]
        );
    }

    #[test]
    fn escapes_are_resolved_in_keys_and_values() {
        assert_eq!(
            pairs("my\\ key=a\\tb\\u4e2d\\=\\q\n"),
            vec![one("my key", "a\tb中=q", 1)]
        );
    }

    #[test]
    fn a_comment_does_not_continue() {
        assert_eq!(
            pairs("# ends in a backslash \\\nclientPort=2181\n"),
            vec![one("clientPort", "2181", 2)]
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_read_as_iso_8859_1() {
        assert_eq!(
            decode(b"# caf\xe9\nclientPort=2181\n"),
            "# café\nclientPort=2181\n"
        );
        assert_eq!(decode("dataDir=/数据\n".as_bytes()), "dataDir=/数据\n");
    }
}
