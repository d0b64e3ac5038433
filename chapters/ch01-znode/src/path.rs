//! Znode paths, and the one rule that says which strings are paths.
//!
//! A path is `/` or `/` followed by `/`-separated node names. ZooKeeper checks it in
//! `PathUtils.validatePath`, on the client before sending and again on the server, and the
//! rule is stricter than "looks like a Unix path": no empty name (`//`), no trailing `/`, no
//! `.` or `..` name, no NUL, and none of the control, private-use or surrogate characters.
//! Java walks the path as UTF-16 code units, so the `@i` position in the message counts
//! UTF-16 units too, and any character outside the Basic Multilingual Plane (an emoji, say) is
//! refused because its surrogate halves are. We walk the same units to give the same answer
//! and the same message.

use std::fmt;

/// Why a string is not a valid znode path; `Display` is PathUtils' exception message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathError {
    /// `Path length must be > 0`
    Empty,
    /// `Path must start with / character`
    NoLeadingSlash,
    /// `Path must not end with / character`
    TrailingSlash,
    /// `Invalid path string "<path>" caused by <reason> @<index>`
    Invalid {
        path: String,
        reason: &'static str,
        index: usize,
    },
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::Empty => f.write_str("Path length must be > 0"),
            PathError::NoLeadingSlash => f.write_str("Path must start with / character"),
            PathError::TrailingSlash => f.write_str("Path must not end with / character"),
            PathError::Invalid {
                path,
                reason,
                index,
            } => write!(
                f,
                "Invalid path string \"{path}\" caused by {reason} @{index}"
            ),
        }
    }
}

impl std::error::Error for PathError {}

/// The longest path the tree stores: its node keeps the length in 30 bits
/// ([`tree::node`](crate::tree)). Upstream has no such limit short of `jute.maxbuffer`.
pub const MAX_PATH_BYTES: usize = (1 << 30) - 1;

// ANCHOR: validate_path
/// `PathUtils.validatePath`: `Ok` if `path` names a znode.
pub fn validate_path(path: &str) -> Result<(), PathError> {
    if path.len() > MAX_PATH_BYTES {
        // Only a server whose jute.maxbuffer is raised past a gigabyte can receive one.
        return Err(PathError::Invalid {
            path: path.chars().take(64).chain("…".chars()).collect(),
            reason: "a path longer than 2^30 - 1 bytes",
            index: MAX_PATH_BYTES,
        });
    }
    if is_plain(path.as_bytes()) {
        return Ok(());
    }
    // Upstream checks Java's UTF-16 units. An ASCII path's bytes are those units, one for
    // one, and reading them directly skips the decoding.
    match path.is_ascii() {
        true => validate_units(path, path.bytes().map(u16::from)),
        false => validate_units(path, path.encode_utf16()),
    }
}

/// Whether `path` is `/` alone or `/` and names of printable ASCII (no `/`), none of them
/// `.` or `..`, each after one slash: the shape of nearly every path, and one the full check
/// below passes. Every snapshot node comes through here at recovery, and this scan of the
/// bytes takes a fraction of the full check's instructions; anything else is left to it.
fn is_plain(path: &[u8]) -> bool {
    match path {
        [b'/'] => true,
        [b'/', names @ ..] => names.split(|&b| b == b'/').all(|name| {
            !matches!(name, [] | [b'.'] | [b'.', b'.'])
                && name.iter().all(|b| (b' '..=b'~').contains(b))
        }),
        _ => false,
    }
}

/// [`validate_path`] over `path`'s UTF-16 units.
fn validate_units(path: &str, units: impl Iterator<Item = u16>) -> Result<(), PathError> {
    let slash = b'/' as u16;
    let dot = b'.' as u16;
    // One pass over the UTF-16 units, looking one ahead: every snapshot node and every
    // request path goes through here, so it allocates nothing unless it fails.
    let mut units = units.enumerate().peekable();
    match units.next() {
        None => return Err(PathError::Empty),
        Some((_, first)) if first != slash => return Err(PathError::NoLeadingSlash),
        _ if units.peek().is_none() => return Ok(()), // "/" itself
        _ if path.ends_with('/') => return Err(PathError::TrailingSlash),
        _ => {}
    }
    let invalid = |reason, index| {
        Err(PathError::Invalid {
            path: path.to_string(),
            reason,
            index,
        })
    };
    // The two units before the current one (the first is the leading '/').
    let (mut before_last, mut last) = (0, slash);
    while let Some((i, c)) = units.next() {
        // Does the name that `c` ends stop at the end of the path or at a '/'?
        let name_ends_here = units.peek().is_none_or(|&(_, next)| next == slash);
        match c {
            0 => return invalid("null character not allowed", i),
            _ if c == slash && last == slash => return invalid("empty node name specified", i),
            // ".." as a whole name (a dot after a dot that is not a whole name is fine, and no
            // later arm matches a dot)
            _ if c == dot && last == dot && before_last == slash && name_ends_here => {
                return invalid("relative paths not allowed", i)
            }
            // "." as a whole name
            _ if c == dot && last == slash && name_ends_here => {
                return invalid("relative paths not allowed", i)
            }
            0x0001..=0x001f | 0x007f..=0x009f | 0xd800..=0xf8ff | 0xfff0..=0xffff => {
                return invalid("invalid character", i)
            }
            _ => {}
        }
        (before_last, last) = (last, c);
    }
    Ok(())
}
// ANCHOR_END: validate_path

/// `PathUtils.validatePath(path, isSequential)`: a sequential create is checked as if the
/// suffix were already there, so `/queue/` is fine for `create -s`.
pub fn validate_path_for(path: &str, sequential: bool) -> Result<(), PathError> {
    if sequential {
        validate_path(&format!("{path}1"))
    } else {
        validate_path(path)
    }
}

/// Splits `/a/b` into (`/a`, `b`) and `/a` into (`/`, `a`); `None` for `/` and for strings
/// without a `/`. This is how DataTree finds a parent: by cutting at the last slash.
pub fn split_parent(path: &str) -> Option<(&str, &str)> {
    let slash = path.rfind('/')?;
    if path == "/" {
        return None;
    }
    let parent = if slash == 0 { "/" } else { &path[..slash] };
    Some((parent, &path[slash + 1..]))
}

/// The full path of child `name` under `parent`.
pub fn join(parent: &str, name: &str) -> String {
    // Built by hand rather than with format!: a snapshot walk joins once per node.
    let parent = if parent == "/" { "" } else { parent };
    let mut path = String::with_capacity(parent.len() + 1 + name.len());
    path.push_str(parent);
    path.push('/');
    path.push_str(name);
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(path: &str) -> String {
        validate_path(path).unwrap_err().to_string()
    }

    #[test]
    fn ordinary_paths_and_the_root_are_valid() {
        for p in [
            "/",
            "/a",
            "/a/b",
            "/zookeeper/quota",
            "/a.b",
            "/..a",
            "/a/.b",
            "/三国/蜀",
        ] {
            assert_eq!(validate_path(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn a_path_must_start_with_a_slash_and_not_end_with_one() {
        // zkcli-formats.md "Client-side path validation".
        assert_eq!(message(""), "Path length must be > 0");
        assert_eq!(message("a"), "Path must start with / character");
        assert_eq!(message("/a/"), "Path must not end with / character");
    }

    #[test]
    fn empty_names_and_relative_names_are_refused_with_their_position() {
        assert_eq!(
            message("//a"),
            "Invalid path string \"//a\" caused by empty node name specified @1"
        );
        assert_eq!(
            message("/a/./b"),
            "Invalid path string \"/a/./b\" caused by relative paths not allowed @3"
        );
        assert_eq!(
            message("/a/.."),
            "Invalid path string \"/a/..\" caused by relative paths not allowed @4"
        );
    }

    #[test]
    fn control_characters_nul_and_astral_characters_are_refused() {
        assert_eq!(
            message("/a\u{1}"),
            "Invalid path string \"/a\u{1}\" caused by invalid character @2"
        );
        assert_eq!(
            message("/a\0b"),
            "Invalid path string \"/a\0b\" caused by null character not allowed @2"
        );
        // U+1F600 is two UTF-16 units, the first a high surrogate (0xD83D).
        assert!(message("/x\u{1F600}").ends_with("invalid character @2"));
    }

    #[test]
    fn a_sequential_create_may_end_in_a_slash() {
        assert_eq!(validate_path_for("/q/", true), Ok(()));
        assert!(validate_path_for("/q/", false).is_err());
    }

    #[test]
    fn split_parent_cuts_at_the_last_slash() {
        assert_eq!(split_parent("/a/b"), Some(("/a", "b")));
        assert_eq!(split_parent("/a"), Some(("/", "a")));
        assert_eq!(split_parent("/"), None);
        assert_eq!(split_parent("a"), None);
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
    }

    proptest::proptest! {
        /// The byte scan is a shortcut, not a second rule: whatever it passes, upstream's
        /// check over UTF-16 units passes too, and the plain paths it is for do pass it.
        #[test]
        fn the_plain_path_shortcut_passes_only_what_the_full_check_passes(
            path in "(/[a-z.]{0,3}){0,4}/?|[ -~/.]{0,12}",
        ) {
            if is_plain(path.as_bytes()) {
                proptest::prop_assert!(validate_units(&path, path.encode_utf16()).is_ok());
            }
        }
    }

    #[test]
    fn plain_paths_take_the_shortcut_and_the_rest_the_full_check() {
        for plain in ["/", "/a", "/zookeeper/quota", "/a/.b/...", "/p0001/c0002"] {
            assert!(is_plain(plain.as_bytes()), "{plain}");
        }
        for other in ["", "a", "//", "/a/", "/a/./b", "/..", "/a\tb", "/é"] {
            assert!(!is_plain(other.as_bytes()), "{other}");
        }
    }
}
