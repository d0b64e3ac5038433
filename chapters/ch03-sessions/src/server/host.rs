//! What the process and its machine say about themselves: the `envi` lines, the file
//! descriptors `mntr` reports, and the bytes in the data directories (`dirs`, `conf`).
//!
//! ZooKeeper asks the JVM (`System.getProperty`, `Runtime`, the OS MXBean). Keeper is no JVM,
//! so each `java.*` key answers what means the same for a native process (`java.class.path`
//! is the executable, `java.home` its directory), `os.memory.*` come from the kernel's view
//! of this process and machine, and what has no equivalent is `<NA>`, as a JVM writes for an
//! unset property. All of it is read from Linux's `/proc`; elsewhere it is `<NA>` or 0.

use std::path::Path;

/// `envi`'s lines after `zookeeper.version`, in upstream's order (`Environment.list`).
pub fn environment() -> Vec<(String, String)> {
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| NA.into());
    let exe = std::env::current_exe().ok();
    let shown = |p: Option<&Path>| p.map_or(NA.into(), |p| p.display().to_string());
    let mb = |kb: Option<u64>| kb.map_or(NA.into(), |kb| format!("{}MB", kb / 1024));
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    [
        ("host.name", host_name()),
        ("java.version", NA.into()),
        ("java.vendor", NA.into()),
        ("java.home", shown(exe.as_deref().and_then(Path::parent))),
        ("java.class.path", shown(exe.as_deref())),
        ("java.library.path", var("LD_LIBRARY_PATH")),
        ("java.io.tmpdir", shown(Some(&std::env::temp_dir()))),
        ("java.compiler", NA.into()),
        ("os.name", java_os_name().into()),
        ("os.arch", java_os_arch().into()),
        ("os.version", os_version()),
        ("user.name", user_name()),
        ("user.home", var("HOME")),
        ("user.dir", shown(std::env::current_dir().ok().as_deref())),
        // A JVM's free/max/total heap; here: memory the machine could still give, all the
        // memory it has, and what this process holds.
        ("os.memory.free", mb(kb_field(&meminfo, "MemAvailable:"))),
        ("os.memory.max", mb(kb_field(&meminfo, "MemTotal:"))),
        ("os.memory.total", mb(kb_field(&status, "VmRSS:"))),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// What a JVM writes for an unset property.
const NA: &str = "<NA>";

/// The machine's name (Java asks the resolver for the canonical name of this host).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| NA.into())
}

/// The name of the user the process runs as (Java reads the password database, not `$USER`).
fn user_name() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = kb_field(&status, "Uid:");
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let from_passwd = passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?.parse::<u64>().ok()?;
        (Some(id) == uid).then(|| name.to_string())
    });
    from_passwd
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| NA.into())
}

/// `os.name` as Java spells it.
fn java_os_name() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Mac OS X",
        "windows" => "Windows",
        other => other,
    }
}

/// `os.arch` as Java spells it.
fn java_os_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "i386",
        other => other,
    }
}

/// The kernel release, as `uname -r` (and Java's `os.version`) give it.
fn os_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or(NA.into(), |release| release.trim().to_string())
}

/// The first number after `key` on its line (`VmRSS:   1234 kB`, `Uid:  0  0  0  0`).
fn kb_field(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// File descriptors open now and the soft limit (`zk_open_file_descriptor_count`,
/// `zk_max_file_descriptor_count`).
pub fn file_descriptors() -> (u64, u64) {
    let open = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64);
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let max = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l["Max open files".len()..].split_whitespace().next())
        .and_then(|soft| soft.parse().ok())
        .unwrap_or(0);
    (open, max)
}

/// Bytes in the files directly inside `dir` (upstream `getDataDirSize`: the snapshot or log
/// directory's files, not recursing); 0 if it cannot be read.
pub fn dir_size(dir: &str) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envi_keys_come_in_upstreams_order_with_javas_spellings() {
        let keys: Vec<String> = environment().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys[0], "host.name");
        assert_eq!(keys.last().map(String::as_str), Some("os.memory.total"));
        assert_eq!(keys.len(), 17);
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            let env = environment();
            let value = |k: &str| env.iter().find(|(key, _)| key == k).unwrap().1.clone();
            assert_eq!(value("os.name"), "Linux");
            assert_eq!(value("os.arch"), "amd64");
            assert!(value("os.memory.total").ends_with("MB"));
        }
    }

    #[test]
    fn a_process_has_file_descriptors_open_below_its_limit() {
        let (open, max) = file_descriptors();
        if cfg!(target_os = "linux") {
            assert!(open >= 3 && open <= max, "{open} of {max}");
        }
    }
}
