//! `keeper txnlog FILE`: a txn log printed as ZooKeeper's `TxnLogToolkit` prints it.
//!
//! The idea to take away: **a log is a list of headers and changes, and reading one is the
//! fastest way to see what a server did.** Each line is one txn: when the leader stamped
//! it, whose session asked, the client's cxid, its zxid, the op and the change:
//!
//! ```text
//! ZooKeeper Transactional Log File with dbid 0 txnlog format version 2
//! 12/2/26, 12:57:02 PM UTC session 0x100004deb310000 cxid 0x1 zxid 0x2 create /app,first,[31,s{'world,'anyone}
//! ],false,1
//! ...
//! EOF reached after 10 txns.
//! ```
//!
//! The walk is upstream's (`TxnLogToolkit.dump`): read checksum and entry, stop at the end of
//! the file or at a zero length (the padding), print `CRC ERROR - ` before a txn whose
//! checksum does not match (and the txn again after it), and give up at a record with no
//! `0x42` after it ("Last transaction was partial."). The change is printed the way upstream
//! does for each type: its own format for creates, setData and multi, and jute's `toString`
//! (`ToStringOutputArchive`: `'` before strings, `v{…}` vectors, `s{…}` records, `#` and
//! unpadded hex for buffers (no type printed that way has one), a newline at the end) for the rest. The entry is parsed here by
//! its header type, not through chapter 6's [`ch06_zab::txn_codec`], so create2, reconfig
//! and deleteContainer print under their own names, as upstream prints them.

use std::fmt::Write as _;
use std::io::{self, Read};

use ch01_znode::Acl;
use ch03_sessions::jute::{DecodeError, Reader};

use super::java::{long_hex, short_date_long_time, utf8};
use super::DumpError;
use crate::adler32::adler32;
use crate::txn_log::{END_OF_RECORD, TXNLOG_MAGIC};

// ANCHOR: op_name
/// `Request.op2String`: the name upstream prints for an op code.
pub fn op_name(code: i32) -> String {
    let name = match code {
        -11 => "closeSession",
        -10 => "createSession",
        -1 => "error",
        0 => "notification",
        1 => "create",
        2 => "delete",
        3 => "exists",
        4 => "getData",
        5 => "setData",
        6 => "getACL",
        7 => "setACL",
        8 => "getChildren",
        9 => "sync",
        11 => "ping",
        12 => "getChildren2",
        13 => "check",
        14 => "multi",
        15 => "create2",
        16 => "reconfig",
        17 => "checkWatches",
        18 => "removeWatches",
        19 => "createContainer",
        20 => "deleteContainer",
        21 => "createTtl",
        22 => "multiRead",
        100 => "auth",
        101 => "setWatches",
        102 => "sasl",
        103 => "getEphemerals",
        104 => "getAllChildrenNumber",
        105 => "setWatches2",
        107 => "whoAmI",
        other => return format!("unknown {other}"),
    };
    name.to_string()
}
// ANCHOR_END: op_name

/// Jute's `ToStringOutputArchive`: what a record's `toString()` prints.
struct JuteText {
    out: String,
    first: bool,
}

impl JuteText {
    fn new() -> JuteText {
        JuteText {
            out: String::new(),
            first: true,
        }
    }

    fn comma(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }

    fn long(&mut self, v: i64) {
        self.comma();
        let _ = write!(self.out, "{v}");
    }

    /// `Utils.toCSVString`: `'`, then the string with `\0 \n \r , } %` escaped as `%XX`.
    fn string(&mut self, s: Option<&str>) {
        self.comma();
        let Some(s) = s else { return };
        self.out.push('\'');
        for c in s.chars() {
            match c {
                '\0' => self.out.push_str("%00"),
                '\n' => self.out.push_str("%0A"),
                '\r' => self.out.push_str("%0D"),
                ',' => self.out.push_str("%2C"),
                '}' => self.out.push_str("%7D"),
                '%' => self.out.push_str("%25"),
                c => self.out.push(c),
            }
        }
    }

    /// Opens a vector (`v{`) or a record inside another (`s{`, a non-empty tag).
    fn open(&mut self, brace: &str) {
        self.comma();
        self.out.push_str(brace);
        self.first = true;
    }

    fn close(&mut self) {
        self.out.push('}');
        self.first = false;
    }

    /// An `ACL`'s fields: perms, then the `Id` record.
    fn acl_fields(&mut self, acl: &Acl) {
        self.long(acl.perms.into());
        self.open("s{");
        self.string(Some(&acl.id.scheme));
        self.string(Some(&acl.id.id));
        self.close();
    }

    fn acl(&mut self, acl: &Acl) {
        self.open("s{");
        self.acl_fields(acl);
        self.close();
    }

    fn acls(&mut self, acls: Option<&[Acl]>) {
        self.open("v{");
        for acl in acls.unwrap_or_default() {
            self.acl(acl);
        }
        self.close();
    }

    /// A top-level record ends with a newline.
    fn finish(mut self) -> String {
        self.out.push('\n');
        self.out
    }
}

/// `List<ACL>.toString()`: `[` each ACL's `toString()` (which ends in a newline) `, ` `]`.
fn acl_list(acls: Option<&[Acl]>) -> String {
    let Some(acls) = acls else {
        return "null".to_string();
    };
    let each: Vec<String> = acls
        .iter()
        .map(|acl| {
            let mut t = JuteText::new();
            t.acl_fields(acl);
            t.finish()
        })
        .collect();
    format!("[{}]", each.join(", "))
}

fn read_acls(r: &mut Reader<'_>) -> Result<Option<Vec<Acl>>, DecodeError> {
    match r.read_len("acl")? {
        None => Ok(None),
        Some(n) => (0..n)
            .map(|_| r.field::<Acl>("acl"))
            .collect::<Result<_, _>>()
            .map(Some),
    }
}

fn text_or_empty(data: Option<&[u8]>) -> String {
    data.map(utf8).unwrap_or_default()
}

/// The change part of a line (`TxnLogToolkit.getFormattedTxnStr`), for a txn of `code`
/// whose record starts at the front of `r`.
fn change_text(code: i32, r: &mut Reader<'_>) -> Result<String, DecodeError> {
    Ok(match code {
        // CreateTxn; a create too short for parentCVersion is a CreateTxnV0 (-1).
        1 | 15 => {
            let path = r.read_ustring("CreateTxn.path")?;
            let data = r.read_buffer("CreateTxn.data")?;
            let acl = read_acls(r)?;
            let ephemeral = r.read_bool("CreateTxn.ephemeral")?;
            let parent_cversion = match r.remaining() {
                0 if code == 1 => -1,
                _ => r.read_int("CreateTxn.parentCVersion")?,
            };
            format!(
                "{},{},{},{ephemeral},{parent_cversion}",
                path.unwrap_or_default(),
                text_or_empty(data.as_deref()),
                acl_list(acl.as_deref())
            )
        }
        19 | 21 => {
            let path = r.read_ustring("CreateContainerTxn.path")?;
            let data = r.read_buffer("CreateContainerTxn.data")?;
            let acl = read_acls(r)?;
            let parent_cversion = r.read_int("CreateContainerTxn.parentCVersion")?;
            let mut text = format!(
                "{},{},{},{parent_cversion}",
                path.unwrap_or_default(),
                text_or_empty(data.as_deref()),
                acl_list(acl.as_deref())
            );
            if code == 21 {
                let _ = write!(text, ",{}", r.read_long("CreateTTLTxn.ttl")?);
            }
            text
        }
        5 | 16 => {
            let path = r.read_ustring("SetDataTxn.path")?;
            let data = r.read_buffer("SetDataTxn.data")?;
            let version = r.read_int("SetDataTxn.version")?;
            format!(
                "{},{},{version}",
                path.unwrap_or_default(),
                text_or_empty(data.as_deref())
            )
        }
        14 => {
            let count = r.read_len("MultiTxn.txns")?.unwrap_or(0);
            let mut parts = Vec::with_capacity(count);
            for _ in 0..count {
                let sub = r.read_int("Txn.type")?;
                let data = r.read_buffer("Txn.data")?;
                parts.push(format!(
                    "{}:{}",
                    op_name(sub),
                    text_or_empty(data.as_deref())
                ));
            }
            parts.join(";")
        }
        // The rest print as jute's toString.
        -10 => {
            let mut t = JuteText::new();
            t.long(r.read_int("CreateSessionTxn.timeOut")?.into());
            t.finish()
        }
        // 3.5 logged closeSession with no body: upstream then has no record to print.
        -11 if r.remaining() == 0 => String::new(),
        -11 => {
            let mut t = JuteText::new();
            t.open("v{");
            for _ in 0..r.read_len("CloseSessionTxn.paths2Delete")?.unwrap_or(0) {
                t.string(r.read_ustring("CloseSessionTxn.paths2Delete")?.as_deref());
            }
            t.close();
            t.finish()
        }
        2 | 20 => {
            let mut t = JuteText::new();
            t.string(r.read_ustring("DeleteTxn.path")?.as_deref());
            t.finish()
        }
        7 => {
            let mut t = JuteText::new();
            t.string(r.read_ustring("SetACLTxn.path")?.as_deref());
            t.acls(read_acls(r)?.as_deref());
            t.long(r.read_int("SetACLTxn.version")?.into());
            t.finish()
        }
        -1 => {
            let mut t = JuteText::new();
            t.long(r.read_int("ErrorTxn.err")?.into());
            t.finish()
        }
        other => {
            return Err(DecodeError::InvalidValue {
                what: "txn type (unsupported in a log)",
                value: other.into(),
            })
        }
    })
}

// ANCHOR: txn_line
/// One txn entry (`TxnHeader` + record, and whatever follows) as `TxnLogToolkit.printTxn`
/// prints it, ending in a newline.
pub fn txn_line(entry: &[u8]) -> Result<String, DecodeError> {
    let mut r = Reader::new(entry);
    let session = r.read_long("TxnHeader.clientId")?;
    let cxid = r.read_int("TxnHeader.cxid")?;
    let zxid = r.read_long("TxnHeader.zxid")?;
    let time = r.read_long("TxnHeader.time")?;
    let code = r.read_int("TxnHeader.type")?;
    let change = change_text(code, &mut r)?;
    let mut line = format!(
        "{} session 0x{} cxid 0x{} zxid 0x{} {} {change}",
        short_date_long_time(time),
        long_hex(session),
        long_hex(cxid.into()),
        long_hex(zxid),
        op_name(code)
    );
    if !line.ends_with('\n') {
        line.push('\n');
    }
    Ok(line)
}
// ANCHOR_END: txn_line

/// Fills `buf` from `r`; false if the input ends first (upstream's `EOFException`).
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    match r.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

// ANCHOR: dump_log
/// Prints the log `name` read from `input` to `out` as `TxnLogToolkit -d` does.
pub fn dump_log(input: impl Read, name: &str, out: &mut impl io::Write) -> Result<(), DumpError> {
    let mut r = io::BufReader::with_capacity(64 * 1024, input);
    let mut header = [0u8; 16];
    if !read_full(&mut r, &mut header)? {
        return Err(DumpError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{name}: too short for a file header"),
        )));
    }
    let int = |at: usize| i32::from_be_bytes(header[at..at + 4].try_into().expect("4 bytes"));
    if int(0) != TXNLOG_MAGIC {
        return Err(DumpError::Invocation(format!(
            "Invalid magic number for {name}"
        )));
    }
    let dbid = i64::from_be_bytes(header[8..16].try_into().expect("8 bytes"));
    writeln!(
        out,
        "ZooKeeper Transactional Log File with dbid {dbid} txnlog format version {}",
        int(4)
    )?;
    let mut count = 0u64;
    loop {
        let mut head = [0u8; 12];
        if !read_full(&mut r, &mut head)? {
            break;
        }
        let stored = i64::from_be_bytes(head[..8].try_into().expect("8 bytes"));
        let len = i32::from_be_bytes(head[8..].try_into().expect("4 bytes"));
        // Upstream's readBuffer reads -1 as null, and a null or empty entry ends the log.
        if len <= 0 {
            break;
        }
        let mut entry = vec![0u8; len as usize];
        if !read_full(&mut r, &mut entry)? {
            break;
        }
        let line = txn_line(&entry).map_err(|e| DumpError::Failed(format!("{name}: {e}")))?;
        if adler32(&entry) != stored {
            write!(out, "CRC ERROR - {line}")?;
        }
        out.write_all(line.as_bytes())?;
        let mut end = [0u8; 1];
        if !read_full(&mut r, &mut end)? {
            break;
        }
        if end[0] != END_OF_RECORD {
            return Err(DumpError::Failed("Last transaction was partial.".into()));
        }
        count += 1;
    }
    writeln!(out, "EOF reached after {count} txns.")?;
    Ok(())
}
// ANCHOR_END: dump_log

#[cfg(test)]
mod tests {
    use super::*;

    /// Printed by ZooKeeper 3.8's own records (`DeleteTxn`, `SetACLTxn`, `SetDataTxn`,
    /// `CloseSessionTxn`, `List<ACL>`), run under Java 17.
    #[test]
    fn records_print_as_jute_to_string_prints_them() {
        let mut t = JuteText::new();
        t.string(Some("/a,b}c%d\n\r\0é"));
        assert_eq!(t.finish(), "'/a%2Cb%7Dc%25d%0A%0D%00é\n");
        let mut t = JuteText::new();
        t.string(Some("/p"));
        t.acls(Some(&[
            Acl::new(31, "world", "anyone"),
            Acl::new(1, "ip", "1.2.3.4"),
        ]));
        t.long(2);
        assert_eq!(
            t.finish(),
            "'/p,v{s{31,s{'world,'anyone}},s{1,s{'ip,'1.2.3.4}}},2\n"
        );
        let mut t = JuteText::new();
        t.open("v{");
        t.close();
        assert_eq!(t.finish(), "v{}\n");
        assert_eq!(
            acl_list(Some(&[
                Acl::new(31, "world", "anyone"),
                Acl::new(1, "ip", "1.2,3.4")
            ])),
            "[31,s{'world,'anyone}\n, 1,s{'ip,'1.2%2C3.4}\n]"
        );
    }

    #[test]
    fn op_names_are_upstreams() {
        assert_eq!(op_name(21), "createTtl");
        assert_eq!(op_name(15), "create2");
        assert_eq!(op_name(106), "unknown 106");
    }
}
