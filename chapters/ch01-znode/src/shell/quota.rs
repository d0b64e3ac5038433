//! `setquota`, `listquota` and `delquota`: quotas are client logic over ordinary znodes.
//!
//! zkCli keeps no quota state and sends no quota opcode. `setquota -n 5 /app` checks that
//! `/app` exists and that no quota sits above or below it, creates the missing nodes of
//! `/zookeeper/quota/app`, then `zookeeper_limits` (the limits) and `zookeeper_stats` (which
//! the server fills with the subtree's counts, see [`crate::quota`]). `listquota` reads the
//! two nodes; `delquota` clears one limit, or deletes the quota's nodes and every parent left
//! empty. The steps, their order and every message are `SetQuotaCommand`, `ListQuotaCommand`
//! and `DelQuotaCommand`'s: the same calls make the same zxids on the server.

use super::{server_error, Backend, Failure, Line};
use crate::acl::Acl;
use crate::error::ZkError;
use crate::mode::CreateMode;
use crate::path::{join, split_parent, validate_path};
use crate::quota::{
    limit_path, quota_path, stat_path, StatsTrack, LIMIT_NODE, QUOTA_ROOT, STAT_NODE,
};

type Outcome = Result<Vec<Line>, Failure>;

/// The limit an option sets: `-n`/`-N` a node count, `-b`/`-B` data bytes, upper case hard.
fn limit_key(option: char) -> &'static str {
    match option {
        'n' => StatsTrack::COUNT,
        'b' => StatsTrack::BYTES,
        'N' => StatsTrack::COUNT_HARD_LIMIT,
        _ => StatsTrack::BYTE_HARD_LIMIT,
    }
}

/// A path check failing inside a quota command (`MalformedPathException`).
fn malformed(path: &str) -> Result<(), Failure> {
    validate_path(path).map_err(|e| vec![Line::Err(e.to_string())])
}

/// A failed call, as zkCli words it for the path the call was about.
fn call<T>(result: Result<T, ZkError>, path: &str) -> Result<T, Failure> {
    result.map_err(server_error(path))
}

fn exists<B: Backend>(b: &mut B, path: &str) -> Result<bool, Failure> {
    match b.exists(path, false) {
        Ok(_) => Ok(true),
        Err(ZkError::NoNode) => Ok(false),
        Err(e) => Err(server_error(path)(e)),
    }
}

/// A quota node: null data, open ACL; one that is already there is fine.
fn create_node<B: Backend>(b: &mut B, path: &str) -> Result<(), Failure> {
    match b.create(path, None, Acl::open_unsafe(), CreateMode::Persistent) {
        Ok(_) | Err(ZkError::NodeExists) => Ok(()),
        Err(e) => Err(server_error(path)(e)),
    }
}

fn read_track<B: Backend>(b: &mut B, path: &str) -> Result<StatsTrack, ZkError> {
    let (data, _) = b.get_data(path, false)?;
    Ok(StatsTrack::from_data(data.as_deref()))
}

/// Java's `path.split("/")`: the names with a leading `""`, trailing empty names dropped.
fn java_split(path: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = path.split('/').collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}

/// `SetQuotaCommand.exec`: checks the value, then `create_quota`.
pub fn set_quota<B: Backend>(b: &mut B, path: &str, option: char, value: &str) -> Outcome {
    let refuse = |text: &str| Ok(vec![Line::Err(text.to_string())]);
    if path.starts_with(QUOTA_ROOT) {
        return refuse(&format!("cannot set a quota under the path: {QUOTA_ROOT}"));
    }
    let limit = match option {
        'n' | 'N' => value.parse::<i32>().map(i64::from),
        _ => value.parse::<i64>(),
    };
    let Ok(limit) = limit else {
        return refuse("NumberFormatException happens when parsing the option value");
    };
    match option {
        'n' | 'N' if limit <= 0 => return refuse("the num quota must be greater than zero"),
        'b' | 'B' if limit < 0 => {
            return refuse("the bytes quota must be greater than or equal to zero")
        }
        _ => {}
    }
    let mut quota = StatsTrack::default();
    for o in ['n', 'b', 'N', 'B'] {
        quota.set(limit_key(o), -1);
    }
    quota.set(limit_key(option), limit);
    create_quota(b, path, &quota)
}

/// `SetQuotaCommand.createQuota`.
fn create_quota<B: Backend>(b: &mut B, path: &str, quota: &StatsTrack) -> Outcome {
    malformed(path)?;
    if !exists(b, path)? {
        return Err(vec![Line::Err(format!("{path} does not exist."))]);
    }
    check_no_quota_below(b, path)?;
    check_no_quota_above(b, path)?;
    if !exists(b, QUOTA_ROOT)? {
        // Both, or (if `/zookeeper` is there) neither: one try around the two creates.
        for p in ["/zookeeper", QUOTA_ROOT] {
            match b.create(p, None, Acl::open_unsafe(), CreateMode::Persistent) {
                Ok(_) => {}
                Err(ZkError::NodeExists) => break,
                Err(e) => return Err(server_error(p)(e)),
            }
        }
    }
    let mut dir = QUOTA_ROOT.to_string();
    for name in java_split(path).into_iter().skip(1) {
        dir = format!("{dir}/{name}");
        if !exists(b, &dir)? {
            create_node(b, &dir)?;
        }
    }
    let (limits_path, stats_path) = (join(&dir, LIMIT_NODE), join(&dir, STAT_NODE));
    let new = !exists(b, &limits_path)?;
    let limits = if new {
        let open = Acl::open_unsafe;
        let data = Some(quota.to_bytes());
        call(
            b.create(&limits_path, data, open(), CreateMode::Persistent),
            &limits_path,
        )?;
        let mut empty = StatsTrack::default();
        empty.set(StatsTrack::COUNT, 0);
        empty.set(StatsTrack::BYTES, 0);
        let data = Some(empty.to_bytes());
        call(
            b.create(&stats_path, data, open(), CreateMode::Persistent),
            &stats_path,
        )?;
        call(read_track(b, &limits_path), &limits_path)?
    } else {
        // Only the limit given changes; the others keep their values.
        let mut limits = call(read_track(b, &limits_path), &limits_path)?;
        for key in ['n', 'b', 'N', 'B'].map(limit_key) {
            if quota.get(key) > -1 {
                limits.set(key, quota.get(key));
            }
        }
        limits
    };
    let stats = call(read_track(b, &stats_path), &stats_path)?;
    let warnings = below_existing(&limits, &stats);
    if !new {
        call(
            b.set_data(&limits_path, Some(limits.to_bytes()), -1),
            &limits_path,
        )?;
    }
    Ok(warnings)
}

/// `SetQuotaCommand.checkQuota`: a limit already exceeded is set anyway, with a warning.
fn below_existing(limits: &StatsTrack, stats: &StatsTrack) -> Vec<Line> {
    let under = |soft: &str, hard: &str, have: i64| {
        let (soft, hard) = (limits.get(soft), limits.get(hard));
        (soft > -1 && soft < have) || (hard > -1 && hard < have)
    };
    let (count, bytes) = (stats.get(StatsTrack::COUNT), stats.get(StatsTrack::BYTES));
    let mut out = Vec::new();
    if under(StatsTrack::COUNT, StatsTrack::COUNT_HARD_LIMIT, count) {
        out.push(Line::Out(format!(
            "[Warning]: the count quota you create is less than the existing count:{count}"
        )));
    }
    if under(StatsTrack::BYTES, StatsTrack::BYTE_HARD_LIMIT, bytes) {
        out.push(Line::Out(format!(
            "[Warning]: the bytes quota you create is less than the existing bytes:{bytes}"
        )));
    }
    out
}

/// The quota path back to the path it is about.
fn trimmed(quota_dir: &str) -> &str {
    &quota_dir[QUOTA_ROOT.len()..]
}

/// `checkIfChildQuota`: no quota anywhere under `path` (ZKUtil's walk of the quota tree,
/// each level's names before the levels below).
fn check_no_quota_below<B: Backend>(b: &mut B, path: &str) -> Result<(), Failure> {
    let top = quota_path(path);
    malformed(&top)?;
    match b.get_data(&top, false) {
        Err(ZkError::NoNode) => return Ok(()),
        other => call(other, &top)?,
    };
    let has_limits = |b: &mut B, dir: &str| -> Result<(), Failure> {
        let Ok((children, _)) = b.get_children(dir, false) else {
            return Ok(());
        };
        if dir != top && children.iter().any(|c| c == LIMIT_NODE) {
            let below = trimmed(dir);
            return Err(vec![Line::Err(format!(
                "{path} has a child {below} which has a quota"
            ))]);
        }
        Ok(())
    };
    has_limits(b, &top)?;
    let mut levels = vec![top.clone()];
    while let Some(dir) = levels.pop() {
        let mut children = match b.get_children(&dir, false) {
            Ok((children, _)) => children,
            Err(ZkError::NoNode) => continue,
            Err(e) => return Err(server_error(&dir)(e)),
        };
        children.sort();
        let paths: Vec<String> = children.iter().map(|c| join(&dir, c)).collect();
        for child in &paths {
            has_limits(b, child)?;
        }
        levels.extend(paths.into_iter().rev());
    }
    Ok(())
}

/// `checkIfParentQuota`: no quota on any ancestor of `path`.
fn check_no_quota_above<B: Backend>(b: &mut B, path: &str) -> Result<(), Failure> {
    let names = java_split(path);
    let mut dir = QUOTA_ROOT.to_string();
    for name in names.iter().skip(1).take(names.len().saturating_sub(2)) {
        dir = format!("{dir}/{name}");
        let children = match b.get_children(&dir, false) {
            Ok((children, _)) => children,
            Err(ZkError::NoNode) => return Ok(()),
            Err(e) => return Err(server_error(&dir)(e)),
        };
        if children.is_empty() {
            return Ok(());
        }
        if children.iter().any(|c| c == LIMIT_NODE) {
            let above = trimmed(&dir);
            return Err(vec![Line::Err(format!(
                "{path} has a parent {above} which has a quota"
            ))]);
        }
    }
    Ok(())
}

/// `ListQuotaCommand`: the limits, then the counts.
pub fn list_quota<B: Backend>(b: &mut B, path: &str) -> Outcome {
    let (limits_path, stats_path) = (limit_path(path), stat_path(path));
    let mut out = vec![Line::Err(format!("absolute path is {limits_path}"))];
    let fail = |mut out: Vec<Line>, mut more: Failure| {
        out.append(&mut more);
        out
    };
    let mut tracks = Vec::new();
    for p in [&limits_path, &stats_path] {
        if let Err(e) = malformed(p) {
            return Err(fail(out, e));
        }
        match read_track(b, p) {
            Ok(track) => tracks.push(track),
            Err(ZkError::NoNode) => {
                out.push(Line::Err(format!("quota for {path} does not exist.")));
                return Ok(out);
            }
            Err(e) => return Err(fail(out, server_error(p)(e))),
        }
    }
    out.push(Line::Out(format!("Output quota for {path} {}", tracks[0])));
    out.push(Line::Out(format!("Output stat for {path} {}", tracks[1])));
    Ok(out)
}

/// `DelQuotaCommand`: one limit back to -1, or (no option) the quota's nodes and the quota
/// directories that are left empty.
pub fn del_quota<B: Backend>(b: &mut B, path: &str, option: Option<char>) -> Outcome {
    let (dir, limits_path) = (quota_path(path), limit_path(path));
    malformed(&limits_path)?;
    if !exists(b, &limits_path)? {
        return Ok(vec![Line::Out(format!("Quota does not exist for {path}"))]);
    }
    match delete_quota(b, &dir, &limits_path, option) {
        Err(Gone) => Ok(vec![Line::Err(format!("quota for {path} does not exist."))]),
        Err(Failed(lines)) => Err(lines),
        Ok(()) => Ok(vec![]),
    }
}

/// Why [`delete_quota`] stopped: a node was gone (zkCli says the quota does not exist), or
/// another failure.
enum Stopped {
    Gone,
    Failed(Failure),
}
use Stopped::{Failed, Gone};

fn stopped(path: &str) -> impl Fn(ZkError) -> Stopped + '_ {
    move |e| match e {
        ZkError::NoNode => Gone,
        e => Failed(server_error(path)(e)),
    }
}

fn delete_quota<B: Backend>(
    b: &mut B,
    dir: &str,
    limits_path: &str,
    option: Option<char>,
) -> Result<(), Stopped> {
    let mut limits = read_track(b, limits_path).map_err(stopped(limits_path))?;
    let Some(option) = option else {
        let (mut children, _) = b.get_children(dir, false).map_err(stopped(dir))?;
        children.sort();
        for child in children {
            let p = join(dir, &child);
            b.delete(&p, -1).map_err(stopped(&p))?;
        }
        // Up the quota tree while a directory is left empty.
        let mut dir = dir.to_string();
        while dir != QUOTA_ROOT {
            let (children, _) = b.get_children(&dir, false).map_err(stopped(&dir))?;
            if !children.is_empty() {
                break;
            }
            b.delete(&dir, -1).map_err(stopped(&dir))?;
            dir = split_parent(&dir)
                .map_or(QUOTA_ROOT, |(p, _)| p)
                .to_string();
        }
        return Ok(());
    };
    limits.set(limit_key(option), -1);
    let data = Some(limits.to_bytes());
    b.set_data(limits_path, data, -1)
        .map_err(stopped(limits_path))?;
    Ok(())
}
