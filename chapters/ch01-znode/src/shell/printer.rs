//! The printer: zkCli's exact texts.
//!
//! Everything the shell shows is built here, so the texts can be checked in one place against
//! `zkcli-formats.md` and the real zkCli: the 11-line Stat block in StatPrinter's order, Java's
//! `Date.toString()` (we always print UTC), the `CliWrapperException` messages that name the
//! path the user typed, and the usage block.

use crate::acl::{perm_string, Acl};
use crate::error::ZkError;
use crate::stat::Stat;

use crate::watch::WatchedEvent;

/// One line of output, and the stream zkCli writes it to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    Out(String),
    Err(String),
}

impl Line {
    pub fn text(&self) -> &str {
        match self {
            Line::Out(s) | Line::Err(s) => s,
        }
    }
}

// ANCHOR: stat_block
/// StatPrinter: eleven lines, in this order (not the wire order).
pub fn stat_block(stat: &Stat) -> Vec<Line> {
    [
        format!("cZxid = {}", stat.czxid),
        format!("ctime = {}", java_date(stat.ctime)),
        format!("mZxid = {}", stat.mzxid),
        format!("mtime = {}", java_date(stat.mtime)),
        format!("pZxid = {}", stat.pzxid),
        format!("cversion = {}", stat.cversion),
        format!("dataVersion = {}", stat.version),
        format!("aclVersion = {}", stat.aversion),
        format!("ephemeralOwner = {}", stat.ephemeral_owner),
        format!("dataLength = {}", stat.data_length),
        format!("numChildren = {}", stat.num_children),
    ]
    .into_iter()
    .map(Line::Out)
    .collect()
}
// ANCHOR_END: stat_block

/// Java's `Date.toString()` in UTC: `Thu Jan 01 00:00:00 UTC 1970`.
pub fn java_date(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        y
    )
}

/// Days since 1970-01-01 → (year, month 1-12, day 1-31), proleptic Gregorian.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

// ANCHOR: cli_message
/// `CliWrapperException.getMessage`: the text zkCli prints for a server error on `path`.
pub fn error_message(err: ZkError, path: &str) -> String {
    cli_message(err, Some(path))
}

/// [`error_message`] for an exception that may carry no path (`reconfig`'s, `whoami`'s):
/// the texts that name a path then say `null`, the generic one leaves out ` for <path>`.
pub fn cli_message(err: ZkError, path: Option<&str>) -> String {
    let p = path.unwrap_or("null");
    match err {
        ZkError::NoNode => format!("Node does not exist: {p}"),
        ZkError::NoChildrenForEphemerals => format!("Ephemerals cannot have children: {p}"),
        ZkError::NodeExists => format!("Node already exists: {p}"),
        ZkError::NotEmpty => format!("Node not empty: {p}"),
        ZkError::NotReadOnly => format!("Not a read-only call: {p}"),
        ZkError::InvalidAcl => format!("Acl is not valid : {p}"),
        ZkError::NoAuth => format!("Insufficient permission : {p}"),
        ZkError::BadArguments => format!("Arguments are not valid : {p}"),
        ZkError::BadVersion => format!("version No is not valid : {p}"),
        ZkError::QuotaExceeded => format!("Quota has exceeded : {p}"),
        ZkError::ReconfigInProgress => {
            "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"
                .to_string()
        }
        // "commmitted" is upstream's spelling.
        ZkError::NewConfigNoQuorum => concat!(
            "No quorum of new config is connected and up-to-date with the leader of last ",
            "commmitted config - try invoking reconfiguration after new servers are connected ",
            "and synced"
        )
        .to_string(),
        other => other.keeper_message(path),
    }
}
// ANCHOR_END: cli_message

/// getAcl's two lines per entry: the jute `Id` record's toString, then the perms.
pub fn acl_lines(acl: &[Acl]) -> Vec<Line> {
    acl.iter()
        .flat_map(|a| {
            [
                Line::Out(format!("'{},'{}", a.id.scheme, a.id.id)),
                Line::Out(format!(": {}", perm_string(a.perms))),
            ]
        })
        .collect()
}

/// `[a, b, c]`: a Java List's toString.
pub fn java_list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// `ZooKeeperMain.usage()`: the header, then one tab-indented line per command, sorted.
pub fn usage(commands: &[(&str, &str)]) -> Vec<Line> {
    let mut commands = commands.to_vec();
    commands.sort();
    let mut lines = vec![Line::Err(
        "ZooKeeper -server host:port -client-configuration properties-file cmd args".to_string(),
    )];
    lines.extend(
        commands
            .iter()
            .map(|(name, options)| Line::Err(format!("\t{name} {options}"))),
    );
    lines
}

/// zkCli's default watcher (`ZooKeeperMain.MyWatcher`): an empty line, `WATCHER::`, an empty
/// line, then the event.
pub fn watcher_lines(event: &WatchedEvent) -> Vec<Line> {
    let text = event.to_string();
    [String::new(), "WATCHER::".to_string(), String::new(), text]
        .into_iter()
        .map(Line::Out)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zxid::{SessionId, Zxid};

    #[test]
    fn dates_print_like_java_date_to_string_in_utc() {
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        // The real zkCli printed this ctime for a node created at 1795625095000 ms.
        assert_eq!(java_date(1_795_625_095_000), "Wed Nov 25 16:44:55 UTC 2026");
        assert_eq!(java_date(951_782_400_000), "Tue Feb 29 00:00:00 UTC 2000");
        assert_eq!(java_date(-1000), "Wed Dec 31 23:59:59 UTC 1969");
    }

    #[test]
    fn the_stat_block_is_in_stat_printers_order() {
        let stat = Stat {
            czxid: Zxid(2),
            mzxid: Zxid(0xa),
            pzxid: Zxid(7),
            ephemeral_owner: SessionId(0x100000000000001),
            ..Stat::default()
        };
        let text: Vec<_> = stat_block(&stat)
            .iter()
            .map(|l| l.text().to_string())
            .collect();
        assert_eq!(text[0], "cZxid = 0x2");
        assert_eq!(text[2], "mZxid = 0xa");
        assert_eq!(text[4], "pZxid = 0x7");
        assert_eq!(text[8], "ephemeralOwner = 0x100000000000001");
        assert_eq!(text[10], "numChildren = 0");
    }

    #[test]
    fn server_errors_print_cli_wrapper_exception_texts() {
        assert_eq!(
            error_message(ZkError::NoNode, "/x"),
            "Node does not exist: /x"
        );
        assert_eq!(
            error_message(ZkError::BadVersion, "/a"),
            "version No is not valid : /a"
        );
        assert_eq!(
            error_message(ZkError::Unimplemented, "/t"),
            "KeeperErrorCode = Unimplemented for /t"
        );
    }
}
